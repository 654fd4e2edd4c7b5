// Clients trust only a socket that is theirs. Without XDG_RUNTIME_DIR the socket is /tmp/scout-$UID/scoutd.sock,
// a name any local user can take first: here that user is played by root (the test) planting a directory of
// `nobody`, open to all, with a listening socket that records every connection and byte. The victim is the
// fixture's unprivileged user running the built scoutctl and scout-mcp with no socket settings at all, so
// they look exactly where a real user's clients look. Both must refuse before connecting: zero connections.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SCOUT_MCP, SCOUTCTL, scoutctl, type RunResult } from './fixtures/daemon.js';
import { scout } from './fixtures/mcp.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1']);
const NOBODY = 65534;

interface User {
  uid: number;
  gid: number;
  home: string;
}
let victim: User;
/** The victim's default socket directory: what their clients use with no SCOUT_SOCKET and no XDG_RUNTIME_DIR. */
let defaultDir: string;

beforeAll(() => {
  const id = (flag: string) => Number(execFileSync('id', [flag, fleet.user], { encoding: 'utf8' }).trim());
  victim = { uid: id('-u'), gid: id('-g'), home: path.join(fleet.root, 'victim-home') };
  expect(victim.uid).not.toBe(0);
  fs.mkdirSync(victim.home, { mode: 0o700 });
  fs.chownSync(victim.home, victim.uid, victim.gid);
  defaultDir = `/tmp/scout-${victim.uid}`;
});

/** A listening socket standing in for a fake daemon: it records connections and bytes and closes on the first. */
interface Planted {
  connections: number;
  received: string;
  close(): Promise<void>;
}
const planted: Planted[] = [];

afterEach(async () => {
  for (const p of planted.splice(0)) await p.close();
  fs.rmSync(defaultDir, { recursive: true, force: true });
});

async function plant(dir: string, opts: { dirOwner: number; dirMode: number; socketOwner: number }): Promise<Planted> {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir);
  const socket = path.join(dir, 'scoutd.sock');
  const sockets = new Set<net.Socket>();
  const p: Planted = {
    connections: 0,
    received: '',
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
  const server = net.createServer((s) => {
    p.connections++;
    sockets.add(s);
    s.on('data', (d: Buffer) => {
      p.received += d.toString('utf8');
      s.destroy(); // an old client then fails at once instead of waiting for a hello that never comes
    });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  fs.chmodSync(socket, 0o777);
  fs.chownSync(socket, opts.socketOwner, -1);
  fs.chownSync(dir, opts.dirOwner, -1);
  fs.chmodSync(dir, opts.dirMode);
  planted.push(p);
  return p;
}

/** The victim's environment: the fleet's, minus every socket setting (the default discovery applies). */
function victimEnv(): NodeJS.ProcessEnv {
  const e = fleet.env({ HOME: victim.home });
  delete e.SCOUT_SOCKET;
  delete e.XDG_RUNTIME_DIR;
  return e;
}

/** scoutctl run as the victim. */
function scoutctlAsVictim(args: string[], input?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [SCOUTCTL, ...args], { env: victimEnv(), cwd: victim.home, uid: victim.uid, gid: victim.gid, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(input ?? '');
  });
}

/** scout-mcp run as the victim, driven by the MCP SDK's client (setpriv: the SDK's transport cannot set a uid). */
async function shimAsVictim(): Promise<Client> {
  const transport = new StdioClientTransport({
    command: 'setpriv',
    args: [`--reuid=${victim.uid}`, `--regid=${victim.gid}`, '--clear-groups', process.execPath, SCOUT_MCP],
    env: victimEnv() as Record<string, string>,
    cwd: victim.home,
    stderr: 'pipe',
  });
  const c = new Client({ name: 'socket-trust-test', version: '1.0.0' });
  await c.connect(transport);
  return c;
}

describe('a socket directory planted by another user at the default path', () => {
  it('scoutctl refuses before connecting: the planted socket sees no connection, the --stdin secret stays home', async () => {
    const fake = await plant(defaultDir, { dirOwner: NOBODY, dirMode: 0o777, socketOwner: NOBODY });
    const r = await scoutctlAsVictim(['exec', 'web1', '--stdin', '--', 'cat'], 'the-secret\n');
    expect({ connections: fake.connections, received: fake.received }).toEqual({ connections: 0, received: '' });
    expect(r.code).toBe(255);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`socket directory ${defaultDir} is owned by uid ${NOBODY}, not by you (uid ${victim.uid})`);
    expect(r.stderr).toContain('Nothing was sent to it');
    expect(r.stderr).toContain('--socket PATH');
    expect(r.stderr).toMatch(/\[SOCKET_UNTRUSTED\]\n$/);
  });

  it('scout-mcp refuses before connecting, and says so to the agent', async () => {
    const fake = await plant(defaultDir, { dirOwner: NOBODY, dirMode: 0o777, socketOwner: NOBODY });
    const c = await shimAsVictim();
    try {
      const r = await scout(c, { target: 'web1:/tmp', query: 'cat /etc/hostname' });
      expect({ connections: fake.connections, received: fake.received }).toEqual({ connections: 0, received: '' });
      expect(r.isError).toBe(true);
      expect(r.text).toContain(`socket directory ${defaultDir} is owned by uid ${NOBODY}`);
      expect(r.text).toContain('SCOUT_SOCKET');
      expect(r.text).toMatch(/\[SOCKET_UNTRUSTED\]$/);
      expect(r.structured).toMatchObject({ mode: 'error', error: { code: 'SOCKET_UNTRUSTED', data: { socket: path.join(defaultDir, 'scoutd.sock'), reason: 'foreign-owner', ownerUid: NOBODY } } });
    } finally {
      await c.close();
    }
  });

  it("a directory of the victim's own left open (0777) is refused too: anyone could have put the socket there", async () => {
    const fake = await plant(defaultDir, { dirOwner: victim.uid, dirMode: 0o777, socketOwner: NOBODY });
    const r = await scoutctlAsVictim(['exec', 'web1', '--', 'true']);
    expect(fake.connections).toBe(0);
    expect(r.code).toBe(255);
    expect(r.stderr).toContain(`socket directory ${defaultDir} has mode 777`);
  });

  it("a socket of another user inside the victim's private directory is refused, by scoutctl and scout-mcp", async () => {
    const fake = await plant(defaultDir, { dirOwner: victim.uid, dirMode: 0o700, socketOwner: NOBODY });
    const r = await scoutctlAsVictim(['exec', 'web1', '--', 'true']);
    expect(r.code).toBe(255);
    expect(r.stderr).toContain(`socket ${defaultDir}/scoutd.sock is owned by uid ${NOBODY}, not by you (uid ${victim.uid})`);
    const c = await shimAsVictim();
    try {
      const m = await scout(c, { target: 'hosts' });
      expect(m.isError).toBe(true);
      expect(m.text).toMatch(/\[SOCKET_UNTRUSTED\]$/);
    } finally {
      await c.close();
    }
    expect({ connections: fake.connections, received: fake.received }).toEqual({ connections: 0, received: '' });
  });

  it('status (which never starts a daemon) refuses the same way rather than reporting "not running"', async () => {
    const fake = await plant(defaultDir, { dirOwner: NOBODY, dirMode: 0o777, socketOwner: NOBODY });
    const r = await scoutctlAsVictim(['status']);
    expect(fake.connections).toBe(0);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/owned by uid 65534.*\[SOCKET_UNTRUSTED\]/s);
  });
});

describe('scoutctl doctor with a planted socket directory', () => {
  it('fails the socket and daemon checks with the reason, without connecting', async () => {
    const fake = await plant(defaultDir, { dirOwner: NOBODY, dirMode: 0o777, socketOwner: NOBODY });
    const r = await scoutctlAsVictim(['doctor']);
    expect(fake.connections).toBe(0);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL\s+socket\s+socket directory \/tmp\/scout-\d+ is owned by uid 65534/m);
    expect(r.stdout).toMatch(/^FAIL\s+daemon\s+not connecting to \/tmp\/scout-\d+\/scoutd.sock: socket directory/m);
  });
});

describe('scoutctl --socket PATH with no daemon running', () => {
  /** A client environment with no SCOUT_SOCKET, whose default socket lies in a private runtime directory. */
  function socketlessEnv(name: string): { env: NodeJS.ProcessEnv; runtime: string } {
    const runtime = path.join(fleet.root, `runtime-${name}`);
    fs.mkdirSync(runtime, { mode: 0o700 });
    const env = fleet.env({ XDG_RUNTIME_DIR: runtime, SCOUT_STATE_DIR: path.join(fleet.root, `state-${name}`) });
    delete env.SCOUT_SOCKET;
    return { env, runtime };
  }

  it('auto-starts a daemon serving exactly that socket, in a new 0700 directory, and the command runs', async () => {
    const { env, runtime } = socketlessEnv('given');
    const dir = fs.mkdtempSync('/tmp/scout-given-');
    fs.rmdirSync(dir); // a fresh name that does not exist: the client makes it
    const socket = path.join(dir, 's.sock');
    try {
      const r = await scoutctl(['--socket', socket, 'exec', 'web1', '--', 'echo', 'here'], env);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('here\n');
      expect(r.code).toBe(0);
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
      const s = await scoutctl(['--socket', socket, 'status', '--json'], env);
      expect(s.code, s.stderr).toBe(0);
      expect(JSON.parse(s.stdout)).toMatchObject({ running: true, socket });
      // Nothing went to the default socket.
      expect(fs.existsSync(path.join(runtime, 'scout'))).toBe(false);
    } finally {
      await scoutctl(['--socket', socket, 'stop'], env);
      await scoutctl(['stop'], env); // a daemon the old client started on its default socket
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes no directory below one other users can write to, and says how to proceed', async () => {
    const { env } = socketlessEnv('open');
    const open = path.join(fleet.root, 'open-parent');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    const socket = path.join(open, 'x', 's.sock');
    try {
      const r = await scoutctl(['--socket', socket, 'exec', 'web1', '--', 'true'], env);
      expect(r.code).toBe(255);
      expect(r.stderr).toContain(`not creating socket directory ${path.join(open, 'x')}: ${open} has mode 777`);
      expect(r.stderr).toContain(`mkdir -m 700 ${path.join(open, 'x')}`);
      expect(r.stderr).toMatch(/\[SOCKET_UNTRUSTED\]\n$/);
      expect(fs.readdirSync(open)).toEqual([]);
    } finally {
      await scoutctl(['stop'], env);
    }
  });
});
