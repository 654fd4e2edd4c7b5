// The foundation, end to end: scoutctl / client → Unix socket → JSON-RPC → scoutd → pooled ssh2 → real sshd.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScoutError } from '../src/protocol/errors.js';
import type { PoolListResult } from '../src/protocol/methods/index.js';
import { scoutctl, type DaemonProc } from './fixtures/daemon.js';
import { expectCode, remoteProcesses, until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1', 'web2']);
let daemon: DaemonProc | undefined;

describe('exec through the pool', () => {
  it('five scoutctl processes share one pooled connection', async () => {
    daemon = await fleet.startDaemon();
    for (let i = 0; i < 5; i++) {
      const r = await scoutctl(['exec', 'web1', '--', 'echo', `run-${i}`], daemon.env);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`run-${i}\n`);
      expect(r.code).toBe(0);
    }
    const pool = JSON.parse((await scoutctl(['pool', '--json'], daemon.env)).stdout) as PoolListResult;
    const web1 = pool.hosts.find((h) => h.host === 'web1')!;
    expect(web1.created).toBe(1);
    expect(web1.uses).toBe(5);
    expect(pool.connections.map((c) => c.host)).toEqual(['web1']);
    expect(fleet.server('web1').acceptedLogins()).toBe(1);
  });

  it('returns stdout, stderr and the exit code exactly', async () => {
    daemon = await fleet.startDaemon();
    const r = await scoutctl(['exec', 'web1', '--', "printf 'out\\nline2'; printf 'err' >&2; exit 7"], daemon.env);
    expect(r.stdout).toBe('out\nline2');
    expect(r.stderr).toBe('err');
    expect(r.code).toBe(7);
    const c = await daemon.client();
    const res = await c.call('ssh.exec', { host: 'web1', command: 'id -un; pwd', cwd: '/tmp' });
    expect(res.stdout).toBe(`${fleet.user}\n/tmp\n`);
    expect(res.exitCode).toBe(0);
    expect(res.signal).toBeNull();
    c.close();
  });
});

describe('errors carry their code', () => {
  it('unknown alias → UNKNOWN_HOST', async () => {
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    const e = await expectCode(c.call('ssh.exec', { host: 'nope', command: 'true' }), 'UNKNOWN_HOST');
    expect(e.message).toContain('web1');
    const r = await scoutctl(['exec', 'nope', '--', 'true'], daemon.env);
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('UNKNOWN_HOST');
    c.close();
  });

  it('closed port → CONNECT_FAILED within the connect timeout', async () => {
    const closedPort = await freePort();
    fleet.writeConfig({ web2: [`Port ${closedPort}`] });
    try {
      daemon = await fleet.startDaemon({ SCOUT_CONNECT_TIMEOUT: '5' });
      const c = await daemon.client();
      const t0 = Date.now();
      await expectCode(c.call('ssh.exec', { host: 'web2', command: 'true' }), 'CONNECT_FAILED');
      expect(Date.now() - t0).toBeLessThan(5_000);
      c.close();
    } finally {
      fleet.writeConfig();
    }
  });

  it('missing known_hosts entry → HOST_KEY_UNKNOWN, changed key → HOST_KEY_MISMATCH, and nothing runs', async () => {
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    const marker = path.join(fleet.root, 'must-not-exist');
    fs.writeFileSync(fleet.knownHostsPath, '');
    try {
      const unknown = await expectCode(c.call('ssh.exec', { host: 'web1', command: `touch ${marker}` }), 'HOST_KEY_UNKNOWN');
      expect(unknown.message).toMatch(/SHA256:[A-Za-z0-9+/]{43}/);
    } finally {
      fleet.writeConfig();
    }
    await fleet.server('web2').rotateHostKey();
    try {
      const changed = await expectCode(c.call('ssh.exec', { host: 'web2', command: `touch ${marker}` }), 'HOST_KEY_MISMATCH');
      expect(changed.message).toMatch(/expected SHA256:\S+.*got SHA256:/);
    } finally {
      fleet.writeConfig();
    }
    expect(fs.existsSync(marker)).toBe(false);
    c.close();
  });
});

describe('connection lifecycle', () => {
  it('the reaper closes an idle connection and the next call opens a new one', async () => {
    daemon = await fleet.startDaemon({ SCOUT_IDLE_TIMEOUT: '1' });
    const c = await daemon.client();
    await c.call('ssh.exec', { host: 'web1', command: 'true' });
    await until(async () => (await c.call('pool.list')).connections.length === 0, 10_000, 'the idle connection to be reaped');
    const r = await c.call('ssh.exec', { host: 'web1', command: 'echo again' });
    expect(r.stdout).toBe('again\n');
    const pool = await c.call('pool.list');
    expect(pool.hosts.find((h) => h.host === 'web1')).toMatchObject({ created: 2, closed: 1 });
    c.close();
  });

  it('survives sshd being killed and restarted', async () => {
    daemon = await fleet.startDaemon({ SCOUT_CONNECT_TIMEOUT: '3' });
    const c = await daemon.client();
    await c.call('ssh.exec', { host: 'web2', command: 'true' });
    await fleet.server('web2').kill9();
    const down = await c.call('ssh.exec', { host: 'web2', command: 'true' }).then(
      () => undefined,
      (e: ScoutError) => e,
    );
    expect(down?.code).toMatch(/^(CONNECT_FAILED|CONNECTION_LOST|CONNECT_TIMEOUT)$/);
    await fleet.server('web2').start();
    const r = await c.call('ssh.exec', { host: 'web2', command: 'echo back' });
    expect(r.stdout).toBe('back\n');
    expect(daemon.proc.exitCode).toBeNull();
    c.close();
  });

  it('a command over its timeout → COMMAND_TIMEOUT and the remote process is gone', async () => {
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    const t0 = Date.now();
    await expectCode(c.call('ssh.exec', { host: 'web1', command: 'sleep 3171; echo never', timeoutMs: 500 }), 'COMMAND_TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(5_000);
    await until(async () => (await remoteProcesses(fleet.user, 'sleep 3171')).length === 0, 3_000, 'the remote sleep to exit');
    // The shared connection survives the timeout of one call.
    expect((await c.call('ssh.exec', { host: 'web1', command: 'echo ok' })).stdout).toBe('ok\n');
    expect((await c.call('pool.list')).hosts.find((h) => h.host === 'web1')?.created).toBe(1);
    c.close();
  });
});

describe('the wire protocol', () => {
  it('answers malformed JSON, unknown methods and bad params with standard errors, while another client is served', async () => {
    daemon = await fleet.startDaemon();
    const good = await daemon.client('good');
    const raw = net.connect(daemon.socket);
    await new Promise((r) => raw.once('connect', r));
    const replies: Array<Record<string, any>> = [];
    let buf = '';
    raw.on('data', (d) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        replies.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
    });
    raw.write('{"jsonrpc":"2.0","id":1,"method":\n');
    raw.write('{"jsonrpc":"2.0","id":2,"method":"no.such"}\n');
    raw.write('{"jsonrpc":"2.0","id":3,"method":"ssh.exec","params":{"host":"web1","command":42}}\n');
    raw.write('{"jsonrpc":"2.0","id":4,"method":"ssh.exec","params":{"host":"web1"}}\n');
    raw.write('"just a string"\n');
    const during = good.call('ssh.exec', { host: 'web1', command: 'echo served' });
    raw.write('{"jsonrpc":"2.0","id":5,"method":"daemon.hello","params":{"client":"raw","protocol":1}}\n');
    await until(() => replies.length >= 6, 5_000, 'six replies');
    const byId = (id: unknown) => replies.find((r) => r.id === id);
    expect(replies.find((r) => r.error?.code === -32700)).toMatchObject({ id: null, error: { data: { code: 'PARSE_ERROR' } } });
    expect(byId(2)?.error).toMatchObject({ code: -32601 });
    expect(byId(3)?.error).toMatchObject({ code: -32602, data: { code: 'INVALID_PARAMS' } });
    expect(byId(3)?.error.message).toContain('command');
    expect(byId(4)?.error).toMatchObject({ code: -32602 });
    expect(replies.filter((r) => r.error?.code === -32600)).toHaveLength(1);
    expect(byId(5)?.result).toMatchObject({ daemon: 'scoutd', protocol: 1 });
    expect((await during).stdout).toBe('served\n');
    raw.destroy();
    good.close();
  });

  it('refuses a client speaking another protocol number with PROTOCOL_MISMATCH', async () => {
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    const e = await expectCode(c.call('daemon.hello', { client: 'old', protocol: 99 }), 'PROTOCOL_MISMATCH');
    expect(e.message).toMatch(/restart/);
    c.close();
  });
});

describe('daemon lifecycle and the socket', () => {
  it('creates the socket 0600 in a 0700 directory', async () => {
    daemon = await fleet.startDaemon();
    expect(fs.statSync(daemon.socket).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(daemon.socket)).mode & 0o777).toBe(0o700);
  });

  it('SIGTERM exits 0 and removes the socket', async () => {
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    await c.call('ssh.exec', { host: 'web1', command: 'true' });
    c.close();
    expect(await daemon.stop()).toBe(0);
    expect(fs.existsSync(daemon.socket)).toBe(false);
    const s = await scoutctl(['status'], daemon.env);
    expect(s.code).toBe(3);
    expect(s.stdout).toContain('not running');
  });

  it('replaces a stale socket after kill -9; a second scoutd on a live socket exits non-zero', async () => {
    const first = await fleet.startDaemon();
    await first.kill9();
    expect(fs.existsSync(first.socket)).toBe(true);
    daemon = await fleet.startDaemon();
    const second = await fleet.startDaemon({}, { waitForListening: false });
    expect(await second.exited).not.toBe(0);
    expect(second.logs()).toContain(`pid ${daemon.pid}`);
    const c = await daemon.client();
    expect((await c.call('ssh.exec', { host: 'web1', command: 'echo still' })).stdout).toBe('still\n');
    c.close();
  });

  it('scoutctl stop shuts the daemon down and status reports it', async () => {
    daemon = await fleet.startDaemon();
    const st = await scoutctl(['status'], daemon.env);
    expect(st.code).toBe(0);
    expect(st.stdout).toContain(`pid ${daemon.pid}`);
    const r = await scoutctl(['stop'], daemon.env);
    expect(r.code).toBe(0);
    expect(await daemon.exited).toBe(0);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
