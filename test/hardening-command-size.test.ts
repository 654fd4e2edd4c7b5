// Issue 17, item 2: a command longer than sshd takes in one packet (256 KiB) reset the connection every client
// shares: another client's running call failed with CONNECTION_LOST and the host's jobs became `lost`, while the
// sender was told CHANNEL_FAILED. Now a command is bounded by what a remote can run (MAX_COMMAND_BYTES) and a
// longer one is refused before anything is sent; one at the bound runs on both exec paths.
import { describe, expect, it } from 'vitest';
import { MAX_COMMAND_BYTES, MAX_ENV_BYTES, MAX_ENV_VALUE_BYTES } from '../src/protocol/methods/common.js';
import { expectCode } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

// AcceptEnv: the env case below checks that variables at their bounds really reach the command.
const fleet = useFleet(['web1'], { config: ['AcceptEnv SCOUT_*'] });

describe('long commands', () => {
  it('a 300 KB command is refused cleanly, one at the bound runs, and other clients and jobs on the host carry on', async () => {
    const daemon = await fleet.startDaemon();
    const [a, b, c] = await Promise.all([daemon.client(), daemon.client(), daemon.client()]);
    const { jobId } = await c.call('jobs.start', { host: 'web1', command: 'sleep 2; echo job-done' });
    const other = b.call('ssh.exec', { host: 'web1', command: 'sleep 1; echo B', mode: 'off' });

    for (const mode of ['on', 'off'] as const) {
      const err = await expectCode(a.call('ssh.exec', { host: 'web1', command: `true ${'x'.repeat(300_000)}`, mode }), 'INVALID_PARAMS');
      expect(err.message).toMatch(/longer than 98304 bytes.*stdin/);
      // Characters are not bytes: 60,000 'é' are 120,000 bytes.
      await expectCode(a.call('ssh.exec', { host: 'web1', command: `true ${'é'.repeat(60_000)}`, mode }), 'INVALID_PARAMS');
      const atBound = `echo ok #${'x'.repeat(MAX_COMMAND_BYTES - 9)}`;
      expect(Buffer.byteLength(atBound)).toBe(MAX_COMMAND_BYTES);
      const r = await a.call('ssh.exec', { host: 'web1', command: atBound, cwd: '/tmp', mode });
      expect(r).toMatchObject({ exitCode: 0, stdout: 'ok\n' });
    }
    await expectCode(a.call('jobs.start', { host: 'web1', command: `true ${'x'.repeat(300_000)}` }), 'INVALID_PARAMS');
    await expectCode(a.call('fleet.exec', { hosts: ['web1'], command: `true ${'x'.repeat(300_000)}` }), 'INVALID_PARAMS');

    expect(await other).toMatchObject({ exitCode: 0, stdout: 'B\n' });
    const job = await c.call('jobs.wait', { jobId, timeoutMs: 10_000 });
    expect(job).toMatchObject({ state: 'exited', exitCode: 0 });
  });
});

describe('long env values', () => {
  // Env requests are packets of their own (each below 256 KiB), but the shell gets `NAME=value` strings: 65,536
  // '€' (192 KiB) passed the schema and failed as "/bin/sh: Argument list too long", exit 1, as if the command
  // had failed. Now env is bounded in bytes, per value and in all, to what a remote can exec.
  it('env past its bounds is refused before anything is sent; env at the bounds reaches the command', async () => {
    const daemon = await fleet.startDaemon();
    const a = await daemon.client();
    for (const mode of ['on', 'off'] as const) {
      const err = await expectCode(a.call('ssh.exec', { host: 'web1', command: 'true', env: { SCOUT_V: '€'.repeat(MAX_ENV_VALUE_BYTES / 2) }, mode }), 'INVALID_PARAMS');
      expect(err.message).toMatch(/65536 bytes.*stdin/);
      const many = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`SCOUT_V${i}`, 'x'.repeat(MAX_ENV_VALUE_BYTES - 20)]));
      await expectCode(a.call('ssh.exec', { host: 'web1', command: 'true', env: many, mode }), 'INVALID_PARAMS');

      // At the bounds: one value of 64 KiB (2-byte characters), and 256 KiB in all.
      const wide = await a.call('ssh.exec', { host: 'web1', command: 'printf %s "$SCOUT_E" | wc -c', env: { SCOUT_E: 'é'.repeat(MAX_ENV_VALUE_BYTES / 2) }, mode });
      expect(wide).toMatchObject({ exitCode: 0, stdout: `${MAX_ENV_VALUE_BYTES}\n` });
      const full = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`SCOUT_V${i}`, 'x'.repeat(MAX_ENV_VALUE_BYTES - 10)]));
      expect(Object.entries(full).reduce((n, [k, v]) => n + k.length + v.length + 2, 0)).toBe(MAX_ENV_BYTES);
      const r = await a.call('ssh.exec', { host: 'web1', command: 'printf "%s %s" "${#SCOUT_V0}" "${#SCOUT_V3}"', env: full, mode });
      expect(r).toMatchObject({ exitCode: 0, stdout: `${MAX_ENV_VALUE_BYTES - 10} ${MAX_ENV_VALUE_BYTES - 10}` });
    }
    await expectCode(a.call('jobs.start', { host: 'web1', command: 'true', env: { SCOUT_V: '€'.repeat(MAX_ENV_VALUE_BYTES / 2) } }), 'INVALID_PARAMS');
  });
});
