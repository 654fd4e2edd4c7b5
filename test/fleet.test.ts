// fleet.exec end to end: five real sshd hosts, one of them down.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ExecResult, FleetResult } from '../src/protocol/methods/index.js';
import { scoutctl, type DaemonProc } from './fixtures/daemon.js';
import { useFleet } from './fixtures/suite.js';

/** Each host's command runs this long, so running hosts one after another would take 5 × this. */
const COMMAND_SECONDS = 1;
/** Connect timeout given to scoutd; a stopped host refuses at once, so the call should end near COMMAND_SECONDS. */
const CONNECT_TIMEOUT_SECONDS = 5;

const HOSTS = ['web1', 'web2', 'web3', 'web4', 'web5'];
const fleet = useFleet(HOSTS, { daemonEnv: { SCOUT_CONNECT_TIMEOUT: String(CONNECT_TIMEOUT_SECONDS) } });
let daemon: DaemonProc | undefined;

beforeAll(async () => {
  await fleet.server('web3').stop();
});

describe('fleet.exec', () => {
  it('five hosts, one stopped: four results with output, one CONNECT_FAILED, in parallel', async () => {
    daemon = await fleet.startDaemon();
    const client = await daemon.client();
    const started = Date.now();
    const r = await client.call('fleet.exec', { pattern: 'web*', command: `sleep ${COMMAND_SECONDS}; echo up` });
    const elapsed = Date.now() - started;
    expect(r.results.map((h) => h.host)).toEqual(HOSTS);
    for (const h of r.results.filter((x) => x.host !== 'web3')) {
      expect(h).toMatchObject({ ok: true, result: { exitCode: 0, stdout: 'up\n' } });
    }
    expect(r.results[2]).toMatchObject({ host: 'web3', ok: false, error: { code: 'CONNECT_FAILED' } });
    expect(r.summary).toEqual({ ok: 4, failed: 1, total: 5 });
    // Parallel: within the connect timeout plus one command time, far below five command times.
    expect(elapsed).toBeLessThan((CONNECT_TIMEOUT_SECONDS + COMMAND_SECONDS) * 1000);
    expect(elapsed).toBeLessThan(HOSTS.length * COMMAND_SECONDS * 1000);
    client.close();
  });

  it('an explicit list keeps its order, reports an unknown host and a failing command per host, and streams tagged output', async () => {
    daemon = await fleet.startDaemon();
    const client = await daemon.client();
    const chunks: Array<{ host: string; stream: string; data: string }> = [];
    const r = await client.call(
      'fleet.exec',
      { hosts: ['web5', 'nosuch', 'web1'], command: 'echo out-$((1+1)); echo err >&2; test -e /nonexistent-flag', stream: true, concurrency: 2 },
      { onNotification: (m, p) => m === 'exec.output' && chunks.push(p as never) },
    );
    expect(r.results.map((h) => [h.host, h.ok, h.error?.code])).toEqual([
      ['web5', false, undefined],
      ['nosuch', false, 'UNKNOWN_HOST'],
      ['web1', false, undefined],
    ]);
    expect(r.results[0].result).toMatchObject({ exitCode: 1, stdout: 'out-2\n', stderr: 'err\n' });
    expect(r.summary).toEqual({ ok: 0, failed: 3, total: 3 });
    const byHost = (host: string, stream: string) => chunks.filter((c) => c.host === host && c.stream === stream).map((c) => c.data).join('');
    expect(byHost('web5', 'stdout')).toBe('out-2\n');
    expect(byHost('web1', 'stderr')).toBe('err\n');
    client.close();
  });

  it('a pattern that matches nothing is an error, not an empty success', async () => {
    daemon = await fleet.startDaemon();
    const client = await daemon.client();
    await expect(client.call('fleet.exec', { pattern: 'db*', command: 'true' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    client.close();
  });
});

describe('scoutctl fleet exec', () => {
  it('prefixes every line with its host, reports the down host, and exits 1 unless all succeed', async () => {
    daemon = await fleet.startDaemon();
    const r = await scoutctl(['fleet', 'exec', 'web*', '--', 'printf', "'a\\nb\\n'"], daemon.env);
    const lines = r.stdout.trim().split('\n').sort();
    expect(lines).toEqual(['web1: a', 'web1: b', 'web2: a', 'web2: b', 'web4: a', 'web4: b', 'web5: a', 'web5: b']);
    expect(r.stderr).toMatch(/web3: error: .*\[CONNECT_FAILED\]/);
    expect(r.stderr).toContain('4/5 hosts ok, 1 failed');
    expect(r.code).toBe(1);

    const ok = await scoutctl(['fleet', 'exec', 'web1,web2', '--json', '--', 'echo', 'hi'], daemon.env);
    expect(ok.code).toBe(0);
    const parsed = JSON.parse(ok.stdout) as FleetResult<ExecResult>;
    expect(parsed.results.map((h) => [h.host, h.ok, h.result?.stdout])).toEqual([['web1', true, 'hi\n'], ['web2', true, 'hi\n']]);
    expect(parsed.summary).toEqual({ ok: 2, failed: 0, total: 2 });
  });
});
