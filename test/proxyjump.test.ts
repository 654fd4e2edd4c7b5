// ProxyJump through a pooled bastion: targets are reached by forwardOut on the bastion's pooled connection,
// two targets share one bastion login, chains work, a dead bastion is named, ProxyCommand is refused.
import { afterEach, describe, expect, it } from 'vitest';
import type { PoolListResult } from '../src/protocol/methods/index.js';
import { scoutctl, type DaemonProc } from './fixtures/daemon.js';
import { expectCode } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['bastion', 'inner1', 'inner2']);
let daemon: DaemonProc | undefined;

afterEach(() => {
  fleet.writeConfig();
});

/** A host block for an alias that is not a fleet server but lands on `server`'s sshd. */
function aliasOf(server: string, extra: string[]): string[] {
  const s = fleet.server(server);
  return [...extra, 'HostName 127.0.0.1', `Port ${s.port}`, `User ${fleet.user}`, `IdentityFile ${fleet.clientKeyPath}`, `UserKnownHostsFile ${fleet.knownHostsPath}`, 'IdentitiesOnly yes'];
}

describe('ProxyJump', () => {
  it('two targets behind one bastion share the pooled bastion connection', async () => {
    fleet.writeConfig({ inner1: ['ProxyJump bastion'], inner2: ['ProxyJump bastion'] });
    const bastionLogins = fleet.server('bastion').acceptedLogins();
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    const [a, b] = await Promise.all([c.call('ssh.exec', { host: 'inner1', command: 'echo one' }), c.call('ssh.exec', { host: 'inner2', command: 'echo two' })]);
    expect([a.stdout, b.stdout]).toEqual(['one\n', 'two\n']);
    // Nothing ran on the bastion itself: its one login is the tunnel both targets went through.
    expect(fleet.server('bastion').acceptedLogins() - bastionLogins).toBe(1);
    const pool = await c.call('pool.list');
    expect(pool.connections.map((x) => x.host).sort()).toEqual(['bastion', 'inner1', 'inner2']);
    expect(pool.hosts.find((h) => h.host === 'bastion')!.created).toBe(1);
    // The CLI shows the route.
    const hosts = await scoutctl(['hosts', '--json'], daemon.env);
    expect(JSON.parse(hosts.stdout).find((h: { name: string }) => h.name === 'inner1').proxyJump).toEqual(['bastion']);
    c.close();
  });

  it('a chain of two jumps reaches the target through both', async () => {
    fleet.writeConfig({ deep: aliasOf('inner2', ['ProxyJump bastion,inner1']) });
    const before = { bastion: fleet.server('bastion').acceptedLogins(), inner1: fleet.server('inner1').acceptedLogins() };
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    const r = await c.call('ssh.exec', { host: 'deep', command: 'echo deep' });
    expect(r.stdout).toBe('deep\n');
    expect(fleet.server('bastion').acceptedLogins() - before.bastion).toBe(1);
    expect(fleet.server('inner1').acceptedLogins() - before.inner1).toBe(1);
    c.close();
  });

  it('a reload that changes the bastion replaces the targets behind it too', async () => {
    fleet.writeConfig({ inner1: ['ProxyJump bastion'], deep: aliasOf('inner2', ['ProxyJump bastion,inner1']) });
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    for (const host of ['inner1', 'deep']) expect((await c.call('ssh.exec', { host, command: 'echo a' })).stdout).toBe('a\n');
    const before = await c.call('pool.list');
    const ids = (p: PoolListResult) => Object.fromEntries(p.connections.map((x) => [x.host, x.id]));
    expect(Object.keys(ids(before)).sort()).toEqual(['bastion', 'deep', 'inner1']);

    // Only the bastion's own block changes; inner1 and deep (reached through it) must not keep the old route.
    fleet.writeConfig({ bastion: ['ServerAliveInterval 7'], inner1: ['ProxyJump bastion'], deep: aliasOf('inner2', ['ProxyJump bastion,inner1']) });
    expect(await c.call('daemon.reload')).toMatchObject({ changed: ['bastion'] });
    for (const host of ['inner1', 'deep']) expect((await c.call('ssh.exec', { host, command: 'echo b' })).stdout).toBe('b\n');
    const after = await c.call('pool.list');
    const live = ids({ ...after, connections: after.connections.filter((x) => !x.retiring) });
    for (const host of ['bastion', 'inner1', 'deep']) expect(live[host], host).not.toBe(ids(before)[host]);
    expect(after.connections.find((x) => x.host === 'bastion' && !x.retiring)?.keepalive.intervalMs).toBe(7_000);
    c.close();
  });

  it('a dead bastion gives an error naming it; the target works once the bastion is back', async () => {
    fleet.writeConfig({ inner1: ['ProxyJump bastion'] });
    daemon = await fleet.startDaemon({ SCOUT_CONNECT_TIMEOUT: '3' });
    const c = await daemon.client();
    await fleet.server('bastion').stop();
    try {
      const e = await expectCode(c.call('ssh.exec', { host: 'inner1', command: 'true' }), 'CONNECT_FAILED');
      expect(e.message).toContain('jump host bastion');
      expect(e.details.hop).toBe('bastion');
      expect(e.details.host).toBe('inner1');
    } finally {
      await fleet.server('bastion').start();
    }
    const r = await c.call('ssh.exec', { host: 'inner1', command: 'echo back' });
    expect(r.stdout).toBe('back\n');
    c.close();
  });

  it('a jump host that cannot reach the target names the hop', async () => {
    // inner2's block points at a port nobody listens on; the bastion's direct-tcpip open fails.
    fleet.writeConfig({ ghost: [...aliasOf('inner2', ['ProxyJump bastion']).filter((l) => !l.startsWith('Port')), 'Port 1'] });
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    const e = await expectCode(c.call('ssh.exec', { host: 'ghost', command: 'true' }), 'CONNECT_FAILED');
    expect(e.message).toContain('jump host bastion could not open a connection');
    expect(e.details.hop).toBe('bastion');
    c.close();
  });

  it('a ProxyCommand host is refused, never dialled directly', async () => {
    fleet.writeConfig({ viacmd: aliasOf('inner1', ['ProxyCommand nc %h %p']) });
    const before = fleet.server('inner1').acceptedLogins();
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    const e = await expectCode(c.call('ssh.exec', { host: 'viacmd', command: 'true' }), 'CONNECT_FAILED');
    expect(e.message).toContain('ProxyCommand');
    expect(e.message).toContain('ProxyJump');
    expect(fleet.server('inner1').acceptedLogins()).toBe(before);
    c.close();
  });

  it('a ProxyJump loop is refused before any connection', async () => {
    fleet.writeConfig({ inner1: ['ProxyJump inner2'], inner2: ['ProxyJump inner1'] });
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    const e = await expectCode(c.call('ssh.exec', { host: 'inner1', command: 'true' }), 'CONNECT_FAILED');
    expect(e.message).toContain('loops');
    c.close();
  });
});
