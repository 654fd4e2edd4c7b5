// Issue 17, item 2: a command longer than sshd takes in one packet (256 KiB) reset the connection every client
// shares: another client's running call failed with CONNECTION_LOST and the host's jobs became `lost`, while the
// sender was told CHANNEL_FAILED. Now a command is bounded by what a remote can run (MAX_COMMAND_BYTES) and a
// longer one is refused before anything is sent; one at the bound runs on both exec paths.
import { describe, expect, it } from 'vitest';
import { MAX_COMMAND_BYTES } from '../src/protocol/methods/common.js';
import type { ExecResult, JobInfo, JobStartResult } from '../src/protocol/methods/index.js';
import { expectCode } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1']);

describe('long commands', () => {
  it('a 300 KB command is refused cleanly, one at the bound runs, and other clients and jobs on the host carry on', async () => {
    const daemon = await fleet.startDaemon();
    const [a, b, c] = await Promise.all([daemon.client(), daemon.client(), daemon.client()]);
    const { jobId } = await c.call<JobStartResult>('jobs.start', { host: 'web1', command: 'sleep 2; echo job-done' });
    const other = b.call<ExecResult>('ssh.exec', { host: 'web1', command: 'sleep 1; echo B', mode: 'off' });

    for (const mode of ['on', 'off'] as const) {
      const err = await expectCode(a.call('ssh.exec', { host: 'web1', command: `true ${'x'.repeat(300_000)}`, mode }), 'INVALID_PARAMS');
      expect(err.message).toMatch(/longer than 98304 bytes.*stdin/);
      // Characters are not bytes: 60,000 'é' are 120,000 bytes.
      await expectCode(a.call('ssh.exec', { host: 'web1', command: `true ${'é'.repeat(60_000)}`, mode }), 'INVALID_PARAMS');
      const atBound = `echo ok #${'x'.repeat(MAX_COMMAND_BYTES - 9)}`;
      expect(Buffer.byteLength(atBound)).toBe(MAX_COMMAND_BYTES);
      const r = await a.call<ExecResult>('ssh.exec', { host: 'web1', command: atBound, cwd: '/tmp', mode });
      expect(r).toMatchObject({ exitCode: 0, stdout: 'ok\n' });
    }
    await expectCode(a.call('jobs.start', { host: 'web1', command: `true ${'x'.repeat(300_000)}` }), 'INVALID_PARAMS');
    await expectCode(a.call('fleet.exec', { hosts: ['web1'], command: `true ${'x'.repeat(300_000)}` }), 'INVALID_PARAMS');

    expect(await other).toMatchObject({ exitCode: 0, stdout: 'B\n' });
    const job = await c.call<JobInfo>('jobs.wait', { jobId, timeoutMs: 10_000 });
    expect(job).toMatchObject({ state: 'exited', exitCode: 0 });
  });
});
