import { describe, expect, it } from 'vitest';
import { type ProgressUpdate, execProgress, hostsProgress, transferProgress } from './progress.js';

/** An execProgress on a clock the test moves, with what it sent. */
function watched() {
  const clock = { t: 1_000 };
  const sent: ProgressUpdate[] = [];
  return {
    clock,
    sent,
    p: execProgress(
      (u) => sent.push(u),
      () => clock.t,
    ),
  };
}

describe('execProgress', () => {
  it('sends the latest complete line, at most once per interval, with progress that only grows', () => {
    const { clock, sent, p } = watched();
    p.onOutput({ id: 1, stream: 'stdout', data: 'tick 1\n' });
    clock.t += 100;
    p.onOutput({ id: 1, stream: 'stdout', data: 'tick 2\n' }); // within the interval: held
    clock.t += 200;
    p.onOutput({ id: 1, stream: 'stderr', data: 'tick 3\npart' });
    p.stop();
    expect(sent.map((u) => /tick \d/.exec(u.message ?? '')?.[0])).toEqual(['tick 1', 'tick 3']);
    expect(sent[1].message).toContain('25 bytes of output');
    expect(sent[1].progress).toBeGreaterThan(sent[0].progress);
  });

  it('shows a partial line when no line has ended, and counts base64 output in bytes', () => {
    const { clock, sent, p } = watched();
    p.onOutput({ id: 1, stream: 'stdout', data: Buffer.from([0xff, 0xfe]).toString('base64'), encoding: 'base64' });
    clock.t += 300;
    p.onOutput({ id: 1, stream: 'stdout', data: 'downloading 42%' });
    p.stop();
    expect(sent.at(-1)?.message).toMatch(/17 bytes of output: downloading 42%$/);
    // Same clock reading twice still moves progress forward.
    expect(sent[1].progress).toBeGreaterThan(sent[0].progress);
  });
});

describe('transferProgress', () => {
  it('is bytes of the total', () => {
    const sent: ProgressUpdate[] = [];
    transferProgress((u) => sent.push(u))({ id: 1, bytes: 10, totalBytes: 100, file: '/x' });
    expect(sent).toEqual([{ progress: 10, total: 100, message: '/x' }]);
  });
});

describe('hostsProgress', () => {
  it('counts hosts done of total, throttled, and always sends the last one', () => {
    const clock = { t: 0 };
    const sent: ProgressUpdate[] = [];
    const done = hostsProgress(
      (u) => sent.push(u),
      4,
      () => clock.t,
    );
    done('web1', true);
    done('web2', false); // within the interval: held
    clock.t += 300;
    done('web3', true);
    done('web4', true); // the last: sent at once
    expect(sent.map((u) => [u.progress, u.total])).toEqual([
      [1, 4],
      [3, 4],
      [4, 4],
    ]);
    expect(sent[2].message).toBe('4 of 4 hosts done (1 failed); last: web4');
  });
});
