// Issue 17, point 9: the small ways one client could still hurt the daemon or a person reading its output.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScoutClient } from '../src/client/client.js';
import { KILL_GRACE_MS, TERM_GRACE_MS } from '../src/ssh/exec.js';
import { scoutctl } from './fixtures/daemon.js';
import { expectCode, until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1', 'frozen']);
let dir: string;
let owner: { uid: number; gid: number };

beforeAll(async () => {
  const ids = await fleet.runAsUser('id -u; id -g');
  const [uid, gid] = ids.stdout.trim().split('\n').map(Number);
  owner = { uid, gid };
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-small-'));
  fs.chownSync(dir, uid, gid);
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Scout temp files left in a directory. */
const temps = (d: string) => fs.readdirSync(d).filter((n) => /\.scout-[0-9a-f]{8}\.(tmp|old)$/.test(n));

const ESC = '\x1b';

describe('logs stay bounded and free of commands', () => {
  it('a 4 MiB method name is answered METHOD_NOT_FOUND and costs the log a bounded line', async () => {
    const d = await fleet.startDaemon({ SCOUT_LOG_LEVEL: 'debug' });
    const sock = net.connect(d.socket);
    await new Promise((r) => sock.once('connect', r));
    let answer = '';
    sock.on('data', (b: Buffer) => (answer += b.toString('utf8')));
    const before = d.logs().length;
    sock.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'm'.repeat(4 * 1024 * 1024) }) + '\n');
    await until(() => answer.includes('\n'), 10_000, 'the answer');
    sock.destroy();
    expect(JSON.parse(answer)).toMatchObject({ id: 1, error: { code: -32601 } });
    expect(answer.length).toBeLessThan(1_000);
    // Before: 8 MiB of log per call (the name in both the 'call' and 'done' lines).
    expect(d.logs().length - before).toBeLessThan(4_000);
  });

  it("a background job's command and cwd never reach the log, even at trace level", async () => {
    const d = await fleet.startDaemon({ SCOUT_LOG_LEVEL: 'trace' });
    const c = await d.client();
    const secret = 'hunter2-job-secret';
    const { jobId } = await c.call('jobs.start', { host: 'web1', command: `echo ${secret} >/dev/null`, cwd: `/tmp` });
    await c.call('jobs.wait', { jobId, timeoutMs: 10_000 });
    expect(d.logs()).toMatch(/job started/);
    expect(d.logs()).not.toContain(secret);
  });
});

describe('human output cannot drive the terminal', () => {
  it("scoutctl audit and scoutctl jobs show a client's escape sequences as text", async () => {
    const d = await fleet.startDaemon();
    const evil = new ScoutClient({ socket: d.socket, clientName: `evil${ESC}[2J${ESC}]0;owned\x07`, env: d.env });
    await evil.connect();
    try {
      const { jobId } = await evil.call('jobs.start', { host: 'web1', command: `printf '${ESC}[2J' # ${ESC}[31mred\u202e` });
      await evil.call('jobs.wait', { jobId, timeoutMs: 10_000 });
    } finally {
      evil.close();
    }
    for (const args of [['audit'], ['jobs']]) {
      const r = await scoutctl(args, d.env);
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain(ESC);
      expect(r.stdout).not.toContain('\u202e');
      expect(r.stdout).toContain('\\x1b[');
    }
    // --json stays exact (JSON escapes the bytes itself).
    const j = await scoutctl(['audit', '--json'], d.env);
    expect(JSON.parse(j.stdout).entries.some((e: { client: string }) => e.client.includes(`${ESC}[2J`))).toBe(true);
  });
});

describe('temp files', () => {
  it('a name of 255 bytes (the most a file system takes) is written by fs.write and transfer.put, leaving no temp', async () => {
    const d = await fleet.startDaemon();
    const c = await d.client();
    const sub = fs.mkdtempSync(path.join(dir, 'long-'));
    fs.chownSync(sub, owner.uid, owner.gid);
    const name = `${'é'.repeat(100)}${'n'.repeat(55)}`; // 255 bytes: the temp name beside it used to be 275
    expect(Buffer.byteLength(name)).toBe(255);
    await c.call('fs.write', { host: 'web1', path: path.join(sub, name), content: 'written' });
    expect(fs.readFileSync(path.join(sub, name), 'utf8')).toBe('written');
    const local = path.join(dir, 'src.txt');
    fs.writeFileSync(local, 'put');
    const put = path.join(sub, `${'p'.repeat(254)}x`);
    await c.call('transfer.put', { host: 'web1', localPath: local, remotePath: put });
    expect(fs.readFileSync(put, 'utf8')).toBe('put');
    expect(temps(sub)).toEqual([]);
  });

  it('a temp a dead daemon left behind is removed by the next copy into its directory; a fresh one is not', async () => {
    const sub = fs.mkdtempSync(path.join(dir, 'stale-'));
    fs.chownSync(sub, owner.uid, owner.gid);
    const stale = path.join(sub, '.big.iso.scout-0123abcd.tmp');
    const fresh = path.join(sub, '.other.scout-89abcdef.tmp');
    const staleTree = path.join(sub, '.tree.scout-00ff00ff.tmp');
    for (const f of [stale, fresh]) fs.writeFileSync(f, 'partial');
    fs.mkdirSync(path.join(staleTree, 'inner'), { recursive: true });
    fs.writeFileSync(path.join(staleTree, 'inner', 'f'), 'x');
    const twoDaysAgo = new Date(Date.now() - 48 * 3600 * 1000);
    for (const f of [stale, staleTree]) fs.utimesSync(f, twoDaysAgo, twoDaysAgo);
    for (const f of [stale, fresh, staleTree]) fs.chownSync(f, owner.uid, owner.gid);
    for (const f of [path.join(staleTree, 'inner'), path.join(staleTree, 'inner', 'f')]) fs.chownSync(f, owner.uid, owner.gid);
    const d = await fleet.startDaemon();
    const c = await d.client();
    await c.call('fs.write', { host: 'web1', path: path.join(sub, 'new.txt'), content: 'new' });
    await until(() => !fs.existsSync(stale) && !fs.existsSync(staleTree), 10_000, 'the stale temps to be removed');
    expect(fs.existsSync(fresh)).toBe(true);
    expect(fs.readFileSync(path.join(sub, 'new.txt'), 'utf8')).toBe('new');
  });
});

describe("a call's timeout bounds the whole call", () => {
  it('behind a stopped sshd, a 1.5 s timeout ends at 1.5 s, not after the connect timeout too; cancel ends the wait at once', async () => {
    const server = fleet.server('frozen');
    const d = await fleet.startDaemon({ SCOUT_CONNECT_TIMEOUT: '20' });
    const c = await d.client();
    process.kill(server.pid!, 'SIGSTOP'); // accepts TCP (the kernel does), never answers
    try {
      const t0 = performance.now();
      const err = await expectCode(c.call('ssh.exec', { host: 'frozen', command: 'true', timeoutMs: 1_500 }), 'CONNECT_TIMEOUT');
      const ms = performance.now() - t0;
      console.log(`timed out after ${ms.toFixed(0)} ms waiting for a connection`);
      expect(ms).toBeGreaterThanOrEqual(1_400);
      expect(ms).toBeLessThan(3_000); // before: the 20 s connect timeout (and its retries) came first
      expect(err.message).toMatch(/did not run/);
      const ac = new AbortController();
      const t1 = performance.now();
      const cancelled = c.call('ssh.exec', { host: 'frozen', command: 'true', timeoutMs: 60_000 }, { signal: ac.signal });
      setTimeout(() => ac.abort(), 300);
      await expectCode(cancelled, 'CANCELLED');
      expect(performance.now() - t1).toBeLessThan(2_000);
      // The daemon still serves the other host at once.
      expect(await c.call('ssh.exec', { host: 'web1', command: 'echo ok' })).toMatchObject({ stdout: 'ok\n' });
    } finally {
      process.kill(server.pid!, 'SIGCONT');
    }
  });
  it('a pooled connection whose sshd stops mid-way: a 1.5 s call ends with COMMAND_TIMEOUT within its timeout plus the stop ladder', async () => {
    const server = fleet.server('frozen');
    const d = await fleet.startDaemon();
    const c = await d.client();
    await c.call('ssh.exec', { host: 'frozen', command: 'true' }); // the connection is pooled and warm
    // The connection's own sshd processes (the listener's descendants), not the listener: the link is up, the peer mute.
    const tree = (pid: number): number[] => {
      const kids = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean)
        .map(Number);
      return kids.flatMap((k) => [k, ...tree(k)]);
    };
    const stopped = tree(server.pid!);
    expect(stopped.length).toBeGreaterThan(0);
    for (const pid of stopped) process.kill(pid, 'SIGSTOP');
    try {
      const ended = async (mode: 'auto' | 'off') => {
        const t0 = performance.now();
        const err = await expectCode(c.call('ssh.exec', { host: 'frozen', command: 'true', timeoutMs: 1_500, mode }), 'COMMAND_TIMEOUT');
        const ms = performance.now() - t0;
        console.log(`mode ${mode}: COMMAND_TIMEOUT after ${ms.toFixed(0)} ms: ${err.message}`);
        return { ms, message: err.message };
      };
      // Exec channel: the open is bounded by the timeout, and the command never ran.
      const exec = await ended('off');
      expect(exec.ms).toBeLessThan(1_500 + 1_500);
      expect(exec.message).toMatch(/no channel opened/);
      // Resident shell: the command was sent, so the stop ladder (TERM, KILL) and one bounded try to reap its
      // group follow, and a mute host confirms nothing. Before: 12.8 s (each of 3 reap tries waited 3 s).
      const shell = await ended('auto');
      expect(shell.ms).toBeLessThan(1_500 + TERM_GRACE_MS + KILL_GRACE_MS + 3_000 + 1_500);
      expect(shell.message).toMatch(/may still be running/);
    } finally {
      for (const pid of stopped)
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          /* gone */
        }
    }
  });
});

describe('names that are not UTF-8', () => {
  it('are flagged in listings, and get -r of their folder copies the rest and says what it left', async () => {
    const sub = fs.mkdtempSync(path.join(dir, 'bytes-'));
    for (const raw of [Buffer.from('bad\xffname', 'latin1'), Buffer.from('bad\xfename', 'latin1')]) {
      fs.writeFileSync(Buffer.concat([Buffer.from(`${sub}/`), raw]), 'raw');
    }
    fs.writeFileSync(path.join(sub, 'good.txt'), 'good');
    spawnSync('chown', ['-R', `${owner.uid}:${owner.gid}`, sub]);
    const d = await fleet.startDaemon();
    const c = await d.client();
    const list = await c.call('fs.list', { host: 'web1', path: sub });
    expect(list.entries.filter((e) => e.undecodable)).toHaveLength(2);
    expect(list.entries.find((e) => e.name === 'good.txt')?.undecodable).toBeUndefined();
    const local = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-bytes-get-'));
    try {
      // Before: the two names decoded alike and could not be read, so the whole get -r failed.
      const r = await scoutctl(['get', '-r', `web1:${sub}`, path.join(local, 'copy')], d.env);
      expect(r.code).toBe(0);
      expect(fs.readFileSync(path.join(local, 'copy', 'good.txt'), 'utf8')).toBe('good');
      expect(r.stderr).toMatch(/not copied.*not UTF-8/);
    } finally {
      fs.rmSync(local, { recursive: true, force: true });
    }
  });
});
