// The pool under load: 100 concurrent calls to one host behind MaxSessions 10, a full queue answers BUSY,
// least-recently-used eviction of idle connections above SCOUT_MAX_POOL_SIZE, metrics in status and CLI.
import { describe, expect, it } from 'vitest';
import { scoutctl, type DaemonProc } from './fixtures/daemon.js';
import { expectCode, remoteProcesses, until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1', 'web2', 'web3'], { config: ['MaxSessions 10'] });
let daemon: DaemonProc | undefined;

describe('channel slots', () => {
  it('100 concurrent ssh.exec calls to a MaxSessions 10 host all succeed, never more than 10 channels on the connection', async () => {
    daemon = await fleet.startDaemon();
    const logins = fleet.server('web1').acceptedLogins();
    const clients = await Promise.all(Array.from({ length: 4 }, (_, i) => daemon!.client(`load-${i}`)));
    const calls = Array.from({ length: 100 }, (_, i) => clients[i % clients.length].call('ssh.exec', { host: 'web1', command: `sleep 0.2; echo call-${i}` }));
    const results = await Promise.all(calls);
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 100 }, (_, i) => `call-${i}\n`));
    expect(results.every((r) => r.exitCode === 0)).toBe(true);
    const pool = await clients[0].call('pool.list');
    const [conn] = pool.connections;
    expect(pool.connections).toHaveLength(1);
    // Slots held at once, counted at the moment each channel was asked for.
    expect(conn.channels.peak).toBe(10);
    expect(conn.channels.limit).toBe(10);
    // Nothing leaked: what stays open is the connection's idle resident shells (the exec fast path).
    expect(conn.channels.open).toBe(conn.warmShells ?? 0);
    const web1 = pool.hosts.find((h) => h.host === 'web1')!;
    expect(web1.uses).toBe(100);
    // 90 calls at least had to wait for a slot, and the waits are counted.
    expect(web1.channelWaits).toBeGreaterThanOrEqual(90);
    expect(web1.channelWaitMs).toBeGreaterThan(0);
    expect(web1.errors).toEqual({});
    expect(fleet.server('web1').acceptedLogins() - logins).toBe(1);
    for (const c of clients) c.close();
  });

  it('with SCOUT_MAX_CONNECTIONS_PER_HOST=3, a burst of 30 opens overflow connections instead of queueing, 10 channels at most on each', async () => {
    daemon = await fleet.startDaemon({ SCOUT_MAX_CONNECTIONS_PER_HOST: '3' });
    const logins = fleet.server('web3').acceptedLogins();
    const c = await daemon.client();
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => c.call('ssh.exec', { host: 'web3', command: `sleep 1; echo burst-${i}` })));
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 30 }, (_, i) => `burst-${i}\n`));
    const pool = await c.call('pool.list');
    const conns = pool.connections.filter((x) => x.host === 'web3');
    expect(conns).toHaveLength(3);
    expect(conns.filter((x) => x.overflow)).toHaveLength(2);
    for (const x of conns) expect(x.channels.peak).toBeLessThanOrEqual(10);
    expect(conns.reduce((n, x) => n + x.uses, 0)).toBe(30);
    expect(fleet.server('web3').acceptedLogins() - logins).toBe(3);
    expect(pool.hosts.find((h) => h.host === 'web3')).toMatchObject({ created: 3, reconnects: 0, errors: {} });
    c.close();
  });

  it('a full queue answers BUSY at once; the queued calls still complete', async () => {
    daemon = await fleet.startDaemon({ SCOUT_MAX_SESSIONS: '1', SCOUT_CHANNEL_QUEUE: '2' });
    const c = await daemon.client();
    await c.call('ssh.exec', { host: 'web1', command: 'true' });
    const held = c.call('ssh.exec', { host: 'web1', command: 'sleep 1.5; echo held' });
    await until(async () => (await c.call('pool.list')).connections[0]?.channels.open === 1, 10_000, 'the first call to hold the only slot');
    const queued = [c.call('ssh.exec', { host: 'web1', command: 'echo q1' }), c.call('ssh.exec', { host: 'web1', command: 'echo q2' })];
    await until(async () => (await c.call('pool.list')).connections[0]?.channels.queued === 2, 10_000, 'two calls to queue');
    const t0 = Date.now();
    const busy = await expectCode(c.call('ssh.exec', { host: 'web1', command: 'echo q3' }), 'BUSY');
    // At once: long before the held call (1.5 s) frees the slot.
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(busy.message).toContain('queued');
    expect((await held).stdout).toBe('held\n');
    expect((await Promise.all(queued)).map((r) => r.stdout)).toEqual(['q1\n', 'q2\n']);
    c.close();
  });
});

describe('eviction', () => {
  it('with SCOUT_MAX_POOL_SIZE=2, touching a third host closes the least recently used idle one; a busy one is never evicted', async () => {
    daemon = await fleet.startDaemon({ SCOUT_MAX_POOL_SIZE: '2' });
    const c = await daemon.client();
    const hosts = async () => (await c.call('pool.list')).connections.map((x) => x.host).sort();
    await c.call('ssh.exec', { host: 'web1', command: 'true' });
    await c.call('ssh.exec', { host: 'web2', command: 'true' });
    await c.call('ssh.exec', { host: 'web1', command: 'true' }); // web2 is now the least recently used
    await c.call('ssh.exec', { host: 'web3', command: 'true' });
    expect(await hosts()).toEqual(['web1', 'web3']);

    // web1 is the LRU now, but busy: web3 goes instead when web2 comes back.
    const busy = c.call('ssh.exec', { host: 'web1', command: 'sleep 33; echo still', timeoutMs: 60_000 });
    await until(async () => (await remoteProcesses(fleet.user, 'sleep 33')).length > 0, 10_000, 'the busy call to run');
    await c.call('ssh.exec', { host: 'web3', command: 'true' });
    await c.call('ssh.exec', { host: 'web2', command: 'true' });
    expect(await hosts()).toEqual(['web1', 'web2']);
    const pool = await c.call('pool.list');
    expect(pool.hosts.find((h) => h.host === 'web2')).toMatchObject({ created: 2, closed: 1, reconnects: 1 });
    expect(pool.hosts.find((h) => h.host === 'web3')).toMatchObject({ created: 1, closed: 1 });
    // The busy call was not disturbed.
    await fleet.runAsUser("pkill -f '^sleep 33$'"); // the sleep only, not the shell that echoes after it
    const r = await busy;
    expect(r.stdout).toBe('still\n');
    c.close();
  });
});

describe('metrics', () => {
  it('daemon.status, pool.list and scoutctl status show the pool counters', async () => {
    daemon = await fleet.startDaemon({ SCOUT_MAX_SESSIONS: '2' });
    const c = await daemon.client();
    await Promise.all(Array.from({ length: 6 }, () => c.call('ssh.exec', { host: 'web2', command: 'sleep 0.2' })));
    await expectCode(c.call('ssh.exec', { host: 'web2', command: 'sleep 5', timeoutMs: 300 }), 'COMMAND_TIMEOUT');
    const status = await c.call('daemon.status');
    expect(status.pool).toMatchObject({ connections: 1, created: 1, uses: 7, reconnects: 0, keepaliveFailures: 0, queued: 0, errors: { COMMAND_TIMEOUT: 1 } });
    expect(status.pool.channelWaits).toBeGreaterThanOrEqual(4);
    // Every call has finished: the status call does not count itself.
    expect(status.inFlight).toBe(0);
    const text = await scoutctl(['status'], daemon.env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('0 calls in flight');
    expect(text.stdout).toMatch(/channel waits: *\d+/);
    expect(text.stdout).toContain('COMMAND_TIMEOUT×1');
    expect(text.stdout).toMatch(/web2 .* 0\/2/);
    const pool = await scoutctl(['pool'], daemon.env);
    expect(pool.stdout).toMatch(/WAITS/);
    c.close();
  });
});
