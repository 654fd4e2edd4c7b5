// Issue 17, point 9: the small ways one client could still hurt the daemon or a person reading its output.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { ScoutClient } from '../src/client/client.js';
import type { JobInfo, JobStartResult } from '../src/protocol/methods/index.js';
import { scoutctl } from './fixtures/daemon.js';
import { until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1']);

const ESC = '\x1b';

describe('logs stay bounded and free of commands', () => {
  it('a 4 MiB method name is answered METHOD_NOT_FOUND and costs the log a bounded line', async () => {
    const d = await fleet.startDaemon({ SCOUT_LOG_LEVEL: 'debug' });
    const sock = net.connect(d.socket);
    await new Promise((r) => sock.once('connect', r));
    let answer = '';
    sock.on('data', (b: Buffer) => (answer += b.toString('utf8')));
    const before = d.logs().length;
    sock.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'm'.repeat(4 * 1024 * 1024) }) + '\n');
    await until(() => answer.includes('\n'), 10_000, 'the answer');
    sock.destroy();
    expect(JSON.parse(answer)).toMatchObject({ id: 1, error: { code: -32601 } });
    expect(answer.length).toBeLessThan(1_000);
    // Before: 8 MiB of log per call (the name in both the 'call' and 'done' lines).
    expect(d.logs().length - before).toBeLessThan(4_000);
  });

  it('a background job\'s command and cwd never reach the log, even at trace level', async () => {
    const d = await fleet.startDaemon({ SCOUT_LOG_LEVEL: 'trace' });
    const c = await d.client();
    const secret = 'hunter2-job-secret';
    const { jobId } = await c.call<JobStartResult>('jobs.start', { host: 'web1', command: `echo ${secret} >/dev/null`, cwd: `/tmp` });
    await c.call<JobInfo>('jobs.wait', { jobId, timeoutMs: 10_000 });
    expect(d.logs()).toMatch(/job started/);
    expect(d.logs()).not.toContain(secret);
  });
});

describe('human output cannot drive the terminal', () => {
  it('scoutctl audit and scoutctl jobs show a client\'s escape sequences as text', async () => {
    const d = await fleet.startDaemon();
    const evil = new ScoutClient({ socket: d.socket, clientName: `evil${ESC}[2J${ESC}]0;owned\x07`, env: d.env });
    await evil.connect();
    try {
      const { jobId } = await evil.call<JobStartResult>('jobs.start', { host: 'web1', command: `printf '${ESC}[2J' # ${ESC}[31mred\u202e` });
      await evil.call('jobs.wait', { jobId, timeoutMs: 10_000 });
    } finally {
      evil.close();
    }
    for (const args of [['audit'], ['jobs']]) {
      const r = await scoutctl(args, d.env);
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain(ESC);
      expect(r.stdout).not.toContain('\u202e');
      expect(r.stdout).toContain('\\x1b[');
    }
    // --json stays exact (JSON escapes the bytes itself).
    const j = await scoutctl(['audit', '--json'], d.env);
    expect(JSON.parse(j.stdout).entries.some((e: { client: string }) => e.client.includes(`${ESC}[2J`))).toBe(true);
  });
});
