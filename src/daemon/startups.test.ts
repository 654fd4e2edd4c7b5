import { describe, expect, it } from 'vitest';
import { StartupGate } from './startups.js';

/** A start that runs until released, recording how many ran at once per server. */
function starts() {
  const releases: Array<() => void> = [];
  const peak = new Map<string, number>();
  const now = new Map<string, number>();
  const start =
    (server: string, fail = false) =>
    () =>
      new Promise<string>((resolve, reject) => {
        now.set(server, (now.get(server) ?? 0) + 1);
        peak.set(server, Math.max(peak.get(server) ?? 0, now.get(server)!));
        releases.push(() => {
          now.set(server, now.get(server)! - 1);
          if (fail) reject(new Error('refused'));
          else resolve(server);
        });
      });
  return { releases, peak, start };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('StartupGate', () => {
  it('runs at most the limit per server, others independently, and every start in the end (a failure frees its slot)', async () => {
    const gate = new StartupGate(3);
    const { releases, peak, start } = starts();
    const results = [...Array.from({ length: 10 }, (_, i) => gate.run('a', start('a', i === 1)).catch((e: Error) => e.message)), ...Array.from({ length: 2 }, () => gate.run('b', start('b')))];
    await settle();
    expect(gate.inProgress('a')).toBe(3);
    expect(gate.inProgress('b')).toBe(2);
    while (releases.length > 0) {
      releases.shift()!();
      await settle();
      await settle();
    }
    expect(await Promise.all(results)).toEqual(['a', 'refused', ...Array(8).fill('a'), 'b', 'b']);
    expect(peak.get('a')).toBe(3);
    expect(gate.inProgress('a')).toBe(0);
  });
});

describe('StartupGate adapts to a server that drops handshakes', () => {
  const drop = (e: unknown) => (e as Error).message === 'refused';

  it('a drop halves the limit (down to 1), each completed handshake gives one back, up to the ceiling', async () => {
    const gate = new StartupGate(8);
    const fail = () => Promise.reject(new Error('refused'));
    for (const expected of [4, 2, 1, 1]) {
      await gate.run('a', fail, drop).catch(() => {});
      expect(gate.limitOf('a')).toBe(expected);
    }
    for (const expected of [2, 3, 4, 5, 6, 7, 8, 8]) {
      await gate.run('a', async () => 'ok', drop);
      expect(gate.limitOf('a')).toBe(expected);
    }
    // Another server never dropped anything: untouched.
    expect(gate.limitOf('b')).toBe(8);
    // A failure that is not a drop (auth, host key) changes nothing.
    await gate.run('a', () => Promise.reject(new Error('denied')), drop).catch(() => {});
    expect(gate.limitOf('a')).toBe(8);
  });

  it('never runs more at once than the limit in force, and every start runs in the end (property)', async () => {
    const fc = await import('fast-check');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 8 }), async (failures, ceiling) => {
        const gate = new StartupGate(ceiling);
        let now = 0;
        let worst = 0;
        const release: Array<() => void> = [];
        let finished = 0;
        const runs = failures.map((fails) =>
          gate
            .run(
              's',
              () =>
                new Promise<void>((resolve, reject) => {
                  now++;
                  // The limit in force when it started: a later drop lowers it, but those already running stay.
                  worst = Math.max(worst, now - gate.limitOf('s'));
                  release.push(() => {
                    now--;
                    if (fails) reject(new Error('refused'));
                    else resolve();
                  });
                }),
              drop,
            )
            .catch(() => {})
            .finally(() => finished++),
        );
        for (let turns = 0; finished < failures.length; turns++) {
          if (turns > 10 * failures.length) throw new Error('a start never ran: the gate lost a waiter');
          await settle();
          release.shift()?.();
          await settle();
        }
        await Promise.all(runs);
        expect(worst).toBeLessThanOrEqual(0);
        expect(gate.inProgress('s')).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
