// scout-mcp end to end: the SDK's own MCP Client drives the built dist/bin/scout-mcp.js over stdio; the shim
// talks to a real scoutd (started by the fixture, or auto-started by the shim), which reaches real sshd.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StatusResult } from '../src/protocol/methods/index.js';
import { SCOUT_MCP, scoutctl, type DaemonProc } from './fixtures/daemon.js';
import { ok, remoteTree, scout, startShim } from './fixtures/mcp.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1', 'web2']);
let remote: string; // a directory of the remote user, prepared below
let daemon: DaemonProc | undefined;
const shims: Client[] = [];
const envs: NodeJS.ProcessEnv[] = [];
let n = 0;

beforeAll(async () => {
  remote = await remoteTree(fleet, 'scout-mcp');
});

afterAll(async () => {
  if (remote) await fleet.runAsUser(`rm -rf '${remote}'`);
});

afterEach(async () => {
  await Promise.all(shims.splice(0).map((c) => c.close().catch(() => undefined)));
  // Daemons the shims or scoutctl started on their own: stop them through their socket.
  for (const e of envs.splice(0)) await scoutctl(['stop'], e);
});

/** A private socket and state directory for one test (auto-started daemons write their log there). */
function testDirs(): Record<string, string> {
  const dir = path.join(fleet.root, `t${++n}`);
  return { SCOUT_SOCKET: path.join(dir, 'run', 'scoutd.sock'), SCOUT_STATE_DIR: path.join(dir, 'state') };
}

/** The environment of a test whose daemon the shim or scoutctl start on their own (stopped after the test). */
function env(): NodeJS.ProcessEnv {
  const e = fleet.env(testDirs());
  envs.push(e);
  return e;
}

async function shim(e: NodeJS.ProcessEnv): Promise<Client> {
  const c = await startShim(e);
  shims.push(c);
  return c;
}

async function status(e: NodeJS.ProcessEnv): Promise<StatusResult & { running: boolean }> {
  const r = await scoutctl(['status', '--json'], e);
  return JSON.parse(r.stdout);
}

/** Live scoutd processes serving `socket` (read from /proc: the env of each node process). */
function scoutdPids(socket: string): number[] {
  const pids: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (!cmd.includes('scoutd.js')) continue;
      const environ = fs.readFileSync(`/proc/${p}/environ`, 'utf8').split('\0');
      if (environ.includes(`SCOUT_SOCKET=${socket}`)) pids.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

describe('the scout tool', () => {
  it('is listed with its schema and annotations', async () => {
    daemon = await fleet.startDaemon(testDirs());
    // SCOUT_MCP_TOOLS=scout lists exactly the pair the Python Scout MCP has; the default adds the granular tools.
    const c = await shim({ ...daemon.env, SCOUT_MCP_TOOLS: 'scout' });
    const { tools } = await c.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['scout', 'scout_jobs']);
    const all = (await (await shim(daemon.env)).listTools()).tools.map((x) => x.name);
    expect(all).toEqual(expect.arrayContaining(['scout', 'scout_jobs', 'scout_read', 'scout_exec']));
    const t = tools.find((x) => x.name === 'scout')!;
    const props = Object.keys((t.inputSchema as { properties: Record<string, unknown> }).properties);
    expect(props.sort()).toEqual(['background', 'beam', 'beam_source', 'beam_target', 'depth', 'diff', 'diff_content', 'find', 'query', 'target', 'targets', 'tree'].sort());
    expect(t.annotations?.readOnlyHint).toBe(false);
    expect(t.annotations?.openWorldHint).toBe(true);
    expect(t.description).toContain('host:/path');
  });

  it('lists hosts with their online status', async () => {
    daemon = await fleet.startDaemon(testDirs());
    const c = await shim(daemon.env);
    const text = await ok(c, { target: 'hosts' });
    expect(text).toMatch(/^Available hosts:/);
    expect(text).toMatch(/\[✓\] web1 \(online\) -> \S+@127\.0\.0\.1:\d+/);
    expect(text).toMatch(/\[✓\] web2 \(online\)/);
  });

  it('runs a query in the target directory, pipes included, with stderr and exit code', async () => {
    daemon = await fleet.startDaemon(testDirs());
    const c = await shim(daemon.env);
    expect(await ok(c, { target: `web1:${remote}/tree`, query: 'cat hello.txt | grep -c line; pwd' })).toBe(`1\n${remote}/tree`);
    const r = await scout(c, { target: `web1:${remote}/tree`, query: 'echo out; echo oops >&2; exit 3' });
    expect(r.isError).toBe(false); // the command ran: its failure is its output
    expect(r.text).toBe('out\n[stderr]\noops\n[exit code: 3]');
    expect(r.structured).toMatchObject({ mode: 'query', exitCode: 3, stdout: 'out\n' });
  });

  it('reports errors with isError, the daemon message and its code, never a stack', async () => {
    daemon = await fleet.startDaemon(testDirs());
    const c = await shim(daemon.env);
    const r = await scout(c, { target: 'nope:/etc', query: 'true' });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/^Error: .*web1.*\[UNKNOWN_HOST\]$/s);
    expect(r.text).not.toMatch(/\n\s+at /);
    expect(r.structured).toMatchObject({ mode: 'error', error: { code: 'UNKNOWN_HOST' } });
    const bad = await scout(c, { target: 'web1' });
    expect(bad.isError).toBe(true);
    expect(bad.text).toContain("Expected 'host:/path' or 'hosts'");
  });

  it('a query on many targets reports each in its own section; a stopped host fails alone', async () => {
    daemon = await fleet.startDaemon(testDirs());
    const c = await shim(daemon.env);
    await fleet.server('web2').stop();
    try {
      const r = await scout(c, { targets: [`web1:${remote}/tree`, `web2:${remote}/tree`], query: 'cat hello.txt' });
      expect(r.isError).toBe(false);
      const [first, second] = r.text.split(/\n(?=═══ )/);
      expect(first).toMatch(new RegExp(`^═══ web1:${remote}/tree ═+\nhello from web\nsecond line\n`));
      expect(second).toMatch(new RegExp(`^═══ web2:${remote}/tree \\[FAILED\\] ═+\nError: .*\\[CONNECT_FAILED\\]`));
      expect(r.text.trimEnd().split('\n').at(-1)).toBe('─── 1/2 hosts succeeded ───');
      expect(r.structured).toMatchObject({ summary: { ok: 1, failed: 1, total: 2 } });
      // A command that runs but exits non-zero fails its own section (here: different directories, one host).
      const mixed = await scout(c, { targets: [`web1:${remote}/tree`, `web1:${remote}/tree/sub`], query: 'cat hello.txt' });
      expect(mixed.text).toMatch(new RegExp(`═══ web1:${remote}/tree/sub \\[FAILED\\] ═+\n\\[stderr\\]\n.*No such file.*\n\\[exit code: 1\\]\nCommand exited with code 1`));
      expect(mixed.text).toContain('─── 1/2 hosts succeeded ───');
    } finally {
      await fleet.server('web2').start();
    }
  });
});

describe('beam', () => {
  it('uploads when the local path exists and downloads when it does not, byte for byte', async () => {
    daemon = await fleet.startDaemon(testDirs());
    const c = await shim(daemon.env);
    const local = fs.mkdtempSync(path.join(fleet.root, 'local-'));
    const bytes = crypto.randomBytes(300 * 1024 + 7);
    fs.writeFileSync(path.join(local, 'up.bin'), bytes);
    const up = await ok(c, { target: `web1:${remote}/up.bin`, beam: path.join(local, 'up.bin') });
    expect(up).toMatch(new RegExp(`^✓ Uploaded ${local}/up.bin → web1:${remote}/up.bin\n  Size: 300.01 KB`));
    const sum = await fleet.runAsUser(`sha256sum '${remote}/up.bin'`);
    expect(sum.stdout.split(' ')[0]).toBe(crypto.createHash('sha256').update(bytes).digest('hex'));

    const down = await ok(c, { target: `web1:${remote}/up.bin`, beam: path.join(local, 'down.bin') });
    expect(down).toMatch(new RegExp(`^✓ Downloaded web1:${remote}/up.bin → ${local}/down.bin`));
    expect(fs.readFileSync(path.join(local, 'down.bin')).equals(bytes)).toBe(true);
  });

  it('beam_source → beam_target copies from one host to another', async () => {
    daemon = await fleet.startDaemon(testDirs());
    const c = await shim(daemon.env);
    const text = await ok(c, { beam_source: `web1:${remote}/tree/hello.txt`, beam_target: `web2:${remote}/copied.txt` });
    expect(text).toMatch(new RegExp(`^✓ Copied web1:${remote}/tree/hello.txt → web2:${remote}/copied.txt`));
    expect((await fleet.runAsUser(`cat '${remote}/copied.txt'`)).stdout).toBe('hello from web\nsecond line\n');
    const half = await scout(c, { beam_source: `web1:${remote}/tree/hello.txt` });
    expect(half.isError).toBe(true);
    expect(half.text).toContain('beam_source and beam_target must be given together');
  });
});

describe('resources', () => {
  it('hosts://list names every host with its status', async () => {
    daemon = await fleet.startDaemon(testDirs());
    const c = await shim(daemon.env);
    const r = await c.readResource({ uri: 'hosts://list' });
    const text = (r.contents[0] as { text: string }).text;
    expect(text).toMatch(/\[✓\] web1 \(online\)/);
    expect(text).toContain('scout://web2/');
    const { resourceTemplates } = await c.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toContain('scout://{host}/{+path}');
    const { resources } = await c.listResources();
    expect(resources.map((x) => x.uri)).toEqual(expect.arrayContaining(['hosts://list', 'scout://web1/', 'web1://docker']));
  });

  it('a host without zfs gets a sentence, not a failure; docker answers in its own words', async () => {
    daemon = await fleet.startDaemon(testDirs());
    const c = await shim(daemon.env);
    // Checked first, so the test means something on this machine: no zfs tools on the remote PATH.
    expect(await ok(c, { target: 'web1:/', query: 'command -v zpool zfs || echo none' })).toBe('none');
    const zfs = await c.readResource({ uri: 'web1://zfs' });
    expect((zfs.contents[0] as { text: string }).text).toBe('ZFS is not installed on web1.');
    const snaps = await c.readResource({ uri: 'web1://zfs/snapshots' });
    expect((snaps.contents[0] as { text: string }).text).toBe('ZFS is not installed on web1.');
    // docker: installed or not, the read succeeds and says what docker said (or that it is missing).
    const hasDocker = (await ok(c, { target: 'web1:/', query: 'command -v docker || echo none' })) !== 'none';
    const docker = (await c.readResource({ uri: 'web1://docker' })).contents[0] as { text: string };
    if (hasDocker) expect(docker.text).not.toBe('Docker is not installed on web1.');
    else expect(docker.text).toBe('Docker is not installed on web1.');
    const bad = c.readResource({ uri: 'web1://docker/x;rm -rf ~/logs' });
    await expect(bad).rejects.toThrow(/invalid container name/);
  });
});

describe('sharing the daemon and its pool', () => {
  it('two shims, one after the other, reuse one pooled connection', async () => {
    daemon = await fleet.startDaemon(testDirs());
    for (const word of ['first', 'second']) {
      const c = await shim(daemon.env);
      expect(await ok(c, { target: 'web1:/', query: `echo ${word}` })).toBe(word);
      await c.close();
    }
    const s = await status(daemon.env);
    expect(s.pool.created).toBe(1);
    expect(s.pool.uses).toBe(2);
  });

  it('with no daemon, the first call starts one (logging to the state dir)', async () => {
    const e = env();
    expect((await status(e)).running).toBe(false);
    const c = await shim(e);
    // Starting the shim alone starts nothing: the daemon comes with the first call.
    expect(scoutdPids(e.SCOUT_SOCKET!)).toEqual([]);
    expect(await ok(c, { target: 'web1:/', query: 'echo started' })).toBe('started');
    const s = await status(e);
    expect(s.running).toBe(true);
    expect(scoutdPids(e.SCOUT_SOCKET!)).toEqual([s.pid]);
    expect(fs.readFileSync(path.join(e.SCOUT_STATE_DIR!, 'scoutd.log'), 'utf8')).toContain('scoutd listening');
  });

  it('two shims started together leave exactly one daemon', async () => {
    const e = env();
    const [a, b] = await Promise.all([shim(e), shim(e)]);
    const [ra, rb] = await Promise.all([ok(a, { target: 'web1:/', query: 'echo a' }), ok(b, { target: 'web2:/', query: 'echo b' })]);
    expect([ra, rb]).toEqual(['a', 'b']);
    const s = await status(e);
    expect(scoutdPids(e.SCOUT_SOCKET!)).toEqual([s.pid]);
    // The lock let one of them start a daemon; the other never tried (no "already running" refusal logged).
    const log = fs.readFileSync(path.join(e.SCOUT_STATE_DIR!, 'scoutd.log'), 'utf8');
    expect(log.match(/scoutd listening/g)).toHaveLength(1);
    expect(log).not.toContain('already running');
  });

  it('closing stdin ends the shim within 1 s with exit 0, and the daemon stays up', async () => {
    daemon = await fleet.startDaemon(testDirs());
    const p = spawn(process.execPath, [SCOUT_MCP], { env: daemon.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => p.once('exit', (code) => resolve(code)));
    let out = '';
    const answered = new Promise<void>((resolve) =>
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString('utf8');
        if (out.includes('"id":2')) resolve();
      }),
    );
    const send = (m: unknown) => p.stdin.write(JSON.stringify(m) + '\n');
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'scout', arguments: { target: 'web1:/', query: 'echo warm' } } });
    await answered;
    expect(out).toContain('warm');
    const t0 = Date.now();
    p.stdin.end();
    expect(await exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(1_000);
    const s = await status(daemon.env);
    expect(s.pid).toBe(daemon.pid);
    expect(s.pool.connections).toBe(1); // the warm connection outlives the session
  });

  it('kill -9 of the daemon between two calls: the second call succeeds through a new daemon', async () => {
    daemon = await fleet.startDaemon(testDirs());
    const e = daemon.env;
    const c = await shim(e);
    expect(await ok(c, { target: 'web1:/', query: 'echo before' })).toBe('before');
    const oldPid = daemon.pid;
    await daemon.kill9();
    daemon = undefined;
    expect(await ok(c, { target: 'web1:/', query: 'echo after' })).toBe('after');
    const s = await status(e);
    expect(s.running).toBe(true);
    expect(s.pid).not.toBe(oldPid);
  });
});

describe('a daemon that dies mid-call', () => {
  it('fails the call in flight with a clear error; the next call goes through a new daemon', async () => {
    daemon = await fleet.startDaemon(testDirs());
    const e = daemon.env;
    const c = await shim(e);
    const mark = `${remote}/inflight-${Date.now()}`;
    const inFlight = scout(c, { target: 'web1:/', query: `touch '${mark}'; sleep 30` });
    // The command has started once its mark exists (no event crosses to the test for that: poll, bounded).
    const end = Date.now() + 10_000;
    while ((await fleet.runAsUser(`test -e '${mark}'`)).code !== 0) {
      if (Date.now() > end) throw new Error('the in-flight command never started');
      await new Promise((r) => setTimeout(r, 50));
    }
    await daemon.kill9();
    daemon = undefined;
    const r = await inFlight;
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/^Error: scoutd closed the connection .*\[DAEMON_UNAVAILABLE\]$/s);
    expect(await ok(c, { target: 'web1:/', query: 'echo again' })).toBe('again');
  });
});

describe('scoutctl auto-start', () => {
  it('scoutctl exec with no daemon running starts one and succeeds; status never starts one', async () => {
    const e = env();
    const st = await scoutctl(['status'], e);
    expect(st.code).toBe(3);
    expect(scoutdPids(e.SCOUT_SOCKET!)).toEqual([]);
    const r = await scoutctl(['exec', 'web1', '--', 'echo', 'auto'], e);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('auto\n');
    expect(r.code).toBe(0);
    const s = await status(e);
    expect(s.running).toBe(true);
    expect(scoutdPids(e.SCOUT_SOCKET!)).toEqual([s.pid]);
  });

  it('a start lock left by a dead process does not block the start', async () => {
    const e = env();
    const dead = spawn(process.execPath, ['-e', '0']);
    const deadPid = dead.pid!;
    await new Promise((r) => dead.once('exit', r));
    fs.mkdirSync(path.dirname(e.SCOUT_SOCKET!), { recursive: true, mode: 0o700 });
    fs.writeFileSync(`${e.SCOUT_SOCKET}.lock`, `${deadPid}\n`);
    const r = await scoutctl(['exec', 'web1', '--', 'echo', 'unlocked'], e);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('unlocked\n');
    expect(fs.existsSync(`${e.SCOUT_SOCKET}.lock`)).toBe(false);
  });

  it('a daemon speaking another protocol gets a message saying what to restart', async () => {
    const e = env();
    const socket = e.SCOUT_SOCKET!;
    fs.mkdirSync(path.dirname(socket), { recursive: true, mode: 0o700 });
    // A stand-in for a newer scoutd: it answers every hello with the daemon's PROTOCOL_MISMATCH error.
    const conns = new Set<net.Socket>();
    const server = net.createServer(
      (sock) =>
        conns.add(sock).size &&
        sock.on('data', (d) => {
          for (const line of d.toString('utf8').split('\n').filter(Boolean)) {
            const { id } = JSON.parse(line);
            sock.write(
              JSON.stringify({
                jsonrpc: '2.0',
                id,
                error: { code: -32016, message: 'scoutd speaks protocol 2, the client speaks 1', data: { code: 'PROTOCOL_MISMATCH', daemonProtocol: 2, daemonVersion: '9.0.0', clientProtocol: 1 } },
              }) + '\n',
            );
          }
        }),
    );
    await new Promise<void>((r) => server.listen(socket, r));
    try {
      const c = await shim(e);
      const r = await scout(c, { target: 'hosts' });
      expect(r.isError).toBe(true);
      expect(r.text).toContain('speaks protocol 2 (scoutd 9.0.0); this scout-mcp');
      expect(r.text).toContain("restart the daemon with 'scoutctl stop'");
      expect(r.text).toMatch(/\[PROTOCOL_MISMATCH\]$/);
      const ctl = await scoutctl(['exec', 'web1', '--', 'true'], e);
      expect(ctl.code).toBe(255);
      expect(ctl.stderr).toContain("restart the daemon with 'scoutctl stop'");
    } finally {
      for (const s of conns) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
