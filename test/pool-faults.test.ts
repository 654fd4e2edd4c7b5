// The pool against network faults, through a TCP proxy under test control between scoutd and a real sshd:
// a link that goes silent (keepalive liveness), connects refused then accepted (backoff), a wrong key.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DaemonProc } from './fixtures/daemon.js';
import { expectCode, remoteProcesses, until } from './fixtures/expect.js';
import { startProxy, type TcpProxy } from './fixtures/proxy.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1']);
let proxy: TcpProxy;
let daemon: DaemonProc | undefined;

/** Keepalive settings of these tests: a silent peer must be noticed within 1 s × (2 + 1). */
const KEEPALIVE_S = 1;
const KEEPALIVE_COUNT = 2;
const KEEPALIVE_BOUND_MS = KEEPALIVE_S * 1000 * (KEEPALIVE_COUNT + 1);
/** Slack over that bound for timer and scheduling delays on a loaded 2-core machine. */
const SLACK_MS = 2_000;

beforeEach(async () => {
  proxy = await startProxy(fleet.server('web1').port);
  const web1 = fleet.server('web1');
  const through = (key = fleet.clientKeyPath) => [
    'HostName 127.0.0.1',
    `Port ${proxy.port}`,
    `User ${fleet.user}`,
    `IdentityFile ${key}`,
    `UserKnownHostsFile ${fleet.knownHostsPath}`,
    'IdentitiesOnly yes',
  ];
  const wrongKey = path.join(fleet.root, 'wrong_key');
  if (!fs.existsSync(wrongKey)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKey]);
  fleet.writeConfig({ flaky: through(), wrongkey: through(wrongKey) });
  fs.appendFileSync(fleet.knownHostsPath, `[127.0.0.1]:${proxy.port} ${web1.hostKeyLine}\n`);
});

fleet.cleanupEach(() => proxy.close());

const hostMetrics = async (d: DaemonProc, host: string) => {
  const c = await d.client();
  try {
    return (await c.call('pool.list')).hosts.find((h) => h.host === host)!;
  } finally {
    c.close();
  }
};

describe('liveness', () => {
  it('a frozen link is noticed within the keepalive bound: in-flight calls get CONNECTION_LOST, the next call reconnects', async () => {
    daemon = await fleet.startDaemon({ SCOUT_KEEPALIVE_INTERVAL: String(KEEPALIVE_S), SCOUT_KEEPALIVE_COUNT_MAX: String(KEEPALIVE_COUNT) });
    const c = await daemon.client();
    await c.call('ssh.exec', { host: 'flaky', command: 'true' });
    const inFlight = c.call('ssh.exec', { host: 'flaky', command: 'sleep 31', timeoutMs: 60_000 });
    // Freeze only once the command runs: a channel still opening would be retried (it never ran).
    await until(async () => (await remoteProcesses(fleet.user, 'sleep 31')).length > 0, 10_000, 'the remote sleep to run');
    proxy.freeze();
    const frozenAt = Date.now();
    const lost = await expectCode(inFlight, 'CONNECTION_LOST');
    const detectedMs = Date.now() - frozenAt;
    expect(lost.message).toContain('keepalive');
    expect(detectedMs).toBeGreaterThanOrEqual(KEEPALIVE_BOUND_MS - 500);
    expect(detectedMs).toBeLessThan(KEEPALIVE_BOUND_MS + SLACK_MS);
    // The dead connection left the pool at once.
    expect((await c.call('pool.list')).connections).toEqual([]);

    proxy.pass();
    const r = await c.call('ssh.exec', { host: 'flaky', command: 'echo alive' });
    expect(r.stdout).toBe('alive\n');
    const m = await hostMetrics(daemon, 'flaky');
    expect(m).toMatchObject({ created: 2, reconnects: 1, keepaliveFailures: 1 });
    expect(m.errors.CONNECTION_LOST).toBe(1);
    const status = await c.call('daemon.status');
    expect(status.pool.keepaliveFailures).toBe(1);
    c.close();
  });

  it('a delayed link still works (slow is not dead)', async () => {
    daemon = await fleet.startDaemon({ SCOUT_KEEPALIVE_INTERVAL: String(KEEPALIVE_S), SCOUT_KEEPALIVE_COUNT_MAX: String(KEEPALIVE_COUNT) });
    const c = await daemon.client();
    proxy.delay(100);
    const r = await c.call('ssh.exec', { host: 'flaky', command: 'sleep 3; echo slow' });
    expect(r.stdout).toBe('slow\n');
    expect((await hostMetrics(daemon, 'flaky')).keepaliveFailures).toBe(0);
    c.close();
  });

  it('a dropped link fails the in-flight call with CONNECTION_LOST and the next call reconnects', async () => {
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    const inFlight = c.call('ssh.exec', { host: 'flaky', command: 'sleep 32' });
    await until(async () => (await remoteProcesses(fleet.user, 'sleep 32')).length > 0, 10_000, 'the remote sleep to run');
    proxy.drop();
    await expectCode(inFlight, 'CONNECTION_LOST');
    const r = await c.call('ssh.exec', { host: 'flaky', command: 'echo again' });
    expect(r.stdout).toBe('again\n');
    c.close();
  });
});

describe('connect retries', () => {
  it('connection refused twice, then accepted: the call succeeds after backoff', async () => {
    await proxy.refuse();
    daemon = await fleet.startDaemon({ SCOUT_CONNECT_TIMEOUT: '10' });
    const c = await daemon.client();
    const call = c.call('ssh.exec', { host: 'flaky', command: 'echo up' });
    const retries = () => daemon!.logLines().filter((l) => l.msg === 'connect failed, retrying');
    await until(() => retries().length >= 2, 10_000, 'two refused connects');
    await proxy.listen();
    const r = await call;
    expect(r.stdout).toBe('up\n');
    const seen = retries();
    expect(seen.slice(0, 2).map((l) => l.errno)).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);
    // Backoff: the pause grows (250 ms doubling, half of it random).
    expect(seen[1].delayMs as number).toBeGreaterThanOrEqual(seen[0].delayMs as number);
    expect(seen[0].delayMs as number).toBeGreaterThanOrEqual(125);
    expect(proxy.accepted).toBe(1);
    expect(await hostMetrics(daemon, 'flaky')).toMatchObject({ created: 1, connectRetries: seen.length });
    c.close();
  });

  it('ten callers waiting on one refused-then-accepted connect share it', async () => {
    await proxy.refuse();
    daemon = await fleet.startDaemon({ SCOUT_CONNECT_TIMEOUT: '10' });
    const c = await daemon.client();
    const calls = Array.from({ length: 10 }, (_, i) => c.call('ssh.exec', { host: 'flaky', command: `echo ${i}` }));
    await until(() => daemon!.logLines().some((l) => l.msg === 'connect failed, retrying'), 10_000, 'a refused connect');
    await proxy.listen();
    const results = await Promise.all(calls);
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 10 }, (_, i) => `${i}\n`));
    expect(proxy.accepted).toBe(1);
    expect(fleet.server('web1').acceptedLogins()).toBeGreaterThan(0);
    c.close();
  });

  it('a wrong key fails at once, without retries', async () => {
    daemon = await fleet.startDaemon({ SCOUT_CONNECT_TIMEOUT: '10' });
    const c = await daemon.client();
    const t0 = Date.now();
    const e = await expectCode(c.call('ssh.exec', { host: 'wrongkey', command: 'true' }), 'AUTH_FAILED');
    expect(e.message).toContain('wrong_key');
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(proxy.accepted).toBe(1);
    expect((await hostMetrics(daemon, 'wrongkey')).connectRetries).toBe(0);
    c.close();
  });
});
