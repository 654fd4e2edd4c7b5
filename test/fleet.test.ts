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
  it('five hosts, one stopped: four results with output, one CONNECT_FAILED, in parallel, with progress per host', async () => {
    daemon = await fleet.startDaemon();
    const client = await daemon.client();
    const started = Date.now();
    const progress: Array<{ host: string; ok: boolean; done: number; total: number }> = [];
    const r = await client.call('fleet.exec', { pattern: 'web*', command: `sleep ${COMMAND_SECONDS}; echo up` }, { onNotification: (m, p) => m === 'fleet.progress' && progress.push(p) });
    const elapsed = Date.now() - started;
    expect(r.results.map((h) => h.host)).toEqual(HOSTS);
    for (const h of r.results.filter((x) => x.host !== 'web3')) {
      expect(h).toMatchObject({ ok: true, result: { exitCode: 0, stdout: 'up\n' } });
    }
    expect(r.results[2]).toMatchObject({ host: 'web3', ok: false, error: { code: 'CONNECT_FAILED' } });
    expect(r.summary).toEqual({ ok: 4, failed: 1, total: 5 });
    // One fleet.progress per host as it finished, counting up to the total, before the answer.
    expect(progress.map((p) => p.done)).toEqual([1, 2, 3, 4, 5]);
    expect(progress.every((p) => p.total === 5)).toBe(true);
    expect(progress.map((p) => p.host).sort()).toEqual(HOSTS);
    expect(progress.find((p) => p.host === 'web3')?.ok).toBe(false);
    expect(progress.filter((p) => p.ok)).toHaveLength(4);
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
    const byHost = (host: string, stream: string) =>
      chunks
        .filter((c) => c.host === host && c.stream === stream)
        .map((c) => c.data)
        .join('');
    expect(byHost('web5', 'stdout')).toBe('out-2\n');
    expect(byHost('web1', 'stderr')).toBe('err\n');
    client.close();
  });

  // A character split across two SSH data chunks: the remote pauses between the bytes of é (c3 a9) and of
  // ✓ (e2 9c 93), so they arrive apart. Before, each chunk was decoded alone and the client got U+FFFD.
  const SPLIT = "printf '\\303'; sleep 0.3; printf '\\251\\342\\234'; sleep 0.3; printf '\\223\\n'";

  it('streams a multi-byte character split across chunks intact, and holds streamed bytes to the per-stream cap', async () => {
    daemon = await fleet.startDaemon();
    const client = await daemon.client();
    const chunks: Array<{ host?: string; data: string; encoding?: string }> = [];
    const r = await client.call(
      'fleet.exec',
      { hosts: ['web1', 'web2'], command: SPLIT, stream: true },
      {
        onNotification: (m, p) => {
          if (m === 'exec.output') chunks.push(p);
        },
      },
    );
    for (const host of ['web1', 'web2']) {
      const mine = chunks.filter((c) => c.host === host);
      expect(mine.every((c) => c.encoding === undefined)).toBe(true);
      expect(mine.map((c) => c.data).join('')).toBe('é✓\n');
      // The split did happen: the text came in more than one notification.
      expect(mine.length).toBeGreaterThan(1);
    }
    expect(r.results.map((h) => h.result?.stdout)).toEqual(['é✓\n', 'é✓\n']);

    // 100 KB per stream, capped at 1,000 bytes: notifications stop at the cap, as the result does.
    const capped: Array<{ host?: string; stream: string; data: string }> = [];
    const big = await client.call(
      'fleet.exec',
      { hosts: ['web1', 'web2'], command: 'head -c 100000 /dev/zero | tr "\\0" x; head -c 100000 /dev/zero | tr "\\0" y >&2', stream: true, maxOutputBytes: 1000 },
      {
        onNotification: (m, p) => {
          if (m === 'exec.output') capped.push(p);
        },
      },
    );
    for (const host of ['web1', 'web2']) {
      for (const stream of ['stdout', 'stderr']) {
        const sent = capped
          .filter((c) => c.host === host && c.stream === stream)
          .map((c) => c.data)
          .join('');
        expect(sent.length).toBe(1000);
      }
      expect(big.results.find((h) => h.host === host)?.result).toMatchObject({ truncated: true });
    }
    client.close();
  });

  it('scoutctl fleet exec prints a split character whole', async () => {
    const d = await fleet.startDaemon();
    const r = await scoutctl(['fleet', 'exec', 'web1,web2', '--', SPLIT], d.env);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['web1: é✓', 'web2: é✓']);
    expect(r.code).toBe(0);
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
    expect(parsed.results.map((h) => [h.host, h.ok, h.result?.stdout])).toEqual([
      ['web1', true, 'hi\n'],
      ['web2', true, 'hi\n'],
    ]);
    expect(parsed.summary).toEqual({ ok: 2, failed: 0, total: 2 });
  });
});
