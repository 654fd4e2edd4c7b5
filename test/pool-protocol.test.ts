// The pool against protocol faults from ssh2's in-process server: refused channel opens (the limit comes
// down, calls still complete), a channel open never answered, a connection dropped mid-command, and a
// handshake that never completes.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DaemonProc } from './fixtures/daemon.js';
import { expectCode } from './fixtures/expect.js';
import { startFaultServer, startSilentServer, type FaultServerOptions } from './fixtures/fault-server.js';
import { useFleet } from './fixtures/suite.js';

// No sshd: only the temp HOME, client key and ssh config. The fault server counts and drops exec channel
// opens and cannot run a resident shell: exec channels only.
const fleet = useFleet([], { daemonEnv: { SCOUT_EXEC_MODE: 'off' } });
let daemon: DaemonProc | undefined;
const closers: Array<() => Promise<void>> = [];

fleet.cleanupEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** Point alias `fake` at a port, trusting `hostKeyLine` there. */
function configure(port: number, hostKeyLine?: string): void {
  fleet.writeConfig({ fake: ['HostName 127.0.0.1', `Port ${port}`, `User ${fleet.user}`, `IdentityFile ${fleet.clientKeyPath}`, `UserKnownHostsFile ${fleet.knownHostsPath}`, 'IdentitiesOnly yes'] });
  if (hostKeyLine) fs.appendFileSync(fleet.knownHostsPath, `[127.0.0.1]:${port} ${hostKeyLine}\n`);
}

async function fake(opts: FaultServerOptions) {
  const server = await startFaultServer(opts);
  closers.push(() => server.close());
  configure(server.port, server.hostKeyLine);
  return server;
}

describe('protocol faults', () => {
  it('a server refusing channel opens beyond 3 lowers the limit to 3 and every call completes', async () => {
    const server = await fake({ maxSessions: 3, commandMs: 100 });
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => c.call('ssh.exec', { host: 'fake', command: `job-${i}` })));
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 20 }, (_, i) => `job-${i}\n`));
    expect(server.refused).toBeGreaterThan(0);
    expect(server.maxConcurrent).toBe(3);
    const pool = await c.call('pool.list');
    expect(pool.connections[0].channels).toMatchObject({ limit: 3, configuredLimit: 10 });
    expect(pool.hosts[0].refusedOpens).toBe(server.refused);
    expect(pool.hosts[0].errors).toEqual({});
    // The lowered limit holds: another burst meets no refusal at all.
    const before = server.refused;
    await Promise.all(Array.from({ length: 10 }, (_, i) => c.call('ssh.exec', { host: 'fake', command: `again-${i}` })));
    expect(server.refused).toBe(before);
    expect(daemon.logLines().some((l) => l.msg === 'server refused a channel: channel limit lowered')).toBe(true);
    c.close();
  });

  it('a channel open that is never answered ends in COMMAND_TIMEOUT; the connection serves the next call', async () => {
    await fake({ ignoreOpen: 2 });
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    expect((await c.call('ssh.exec', { host: 'fake', command: 'first' })).stdout).toBe('first\n');
    const t0 = Date.now();
    const e = await expectCode(c.call('ssh.exec', { host: 'fake', command: 'second', timeoutMs: 1_000 }), 'COMMAND_TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(e.message).toContain('no channel opened');
    expect((await c.call('ssh.exec', { host: 'fake', command: 'third' })).stdout).toBe('third\n');
    const pool = await c.call('pool.list');
    expect(pool.hosts[0].created).toBe(1);
    expect(pool.connections[0].channels.open).toBe(0);
    c.close();
  });

  it('a connection dropped mid-command fails that call with CONNECTION_LOST, not retried; the next call reconnects', async () => {
    const server = await fake({});
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    await expectCode(c.call('ssh.exec', { host: 'fake', command: 'die' }), 'CONNECTION_LOST');
    expect(server.connections).toBe(1); // the command had run: never run again
    expect((await c.call('ssh.exec', { host: 'fake', command: 'next' })).stdout).toBe('next\n');
    expect(server.connections).toBe(2);
    c.close();
  });

  it('a handshake that never completes → CONNECT_TIMEOUT within the connect timeout, one attempt', async () => {
    const silent = await startSilentServer();
    closers.push(() => silent.close());
    configure(silent.port);
    daemon = await fleet.startDaemon({ SCOUT_CONNECT_TIMEOUT: '2' });
    const c = await daemon.client();
    const t0 = Date.now();
    await expectCode(c.call('ssh.exec', { host: 'fake', command: 'true' }), 'CONNECT_TIMEOUT');
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
    expect(elapsed).toBeLessThan(2_000 + 2_000);
    expect(silent.connections()).toBe(1);
    c.close();
  });
});
