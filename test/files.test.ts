// fs.* end to end against real sshd: byte-exact round trips, bounded reads, exact listings, SFTP errors
// mapped to codes, and writes that leave the old file intact when they fail.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoutClient } from '../src/client/client.js';
import { PROTOCOL_VERSION } from '../src/protocol/version.js';
import type { DaemonProc } from './fixtures/daemon.js';
import { expectCode, until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

/** A name a shell would love to run: spaces, quotes, $(), backticks, a newline, a leading dash, non-ASCII. */
const HOSTILE = '-n é \'q" $(touch PWNED) `touch PWNED`\nx.txt';

let daemon: DaemonProc;
let c: ScoutClient;
let dir: string;
let uid: number;
let gid: number;
let scriptDir: string;

/** Make `p` (and everything under it) belong to the remote test user, as if it had created it. */
function own(p: string): void {
  fs.lchownSync(p, uid, gid);
  if (fs.lstatSync(p).isDirectory()) for (const n of fs.readdirSync(p)) own(path.join(p, n));
}

/** Scout temp files (`.NAME.scout-XXXXXXXX.tmp`) left in a directory. */
function temps(d: string): string[] {
  return fs.readdirSync(d).filter((n) => /\.scout-[0-9a-f]{8}\.tmp$/.test(n));
}

const fleet = useFleet(['web1', 'quota'], () => {
  // The "quota" host runs every session, SFTP included, under a 1-2 MiB file size limit (ulimit -f; SIGXFSZ
  // ignored so write(2) fails with EFBIG instead of killing the server): a real write failure midway.
  scriptDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-q-'));
  fs.chmodSync(scriptDir, 0o755);
  const script = path.join(scriptDir, 'limited.sh');
  fs.writeFileSync(
    script,
    [
      '#!/bin/sh',
      "trap '' XFSZ",
      'ulimit -f 2048',
      'case "$SSH_ORIGINAL_COMMAND" in',
      '  internal-sftp|*/sftp-server) exec /usr/lib/openssh/sftp-server ;;',
      '  *) exec /bin/sh -c "$SSH_ORIGINAL_COMMAND" ;;',
      'esac',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return { perHost: { quota: { config: [`ForceCommand ${script}`] } } };
});

beforeAll(async () => {
  const ids = await fleet.runAsUser('id -u; id -g');
  [uid, gid] = ids.stdout.trim().split('\n').map(Number);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-files-'));
  fs.chmodSync(dir, 0o755);
  own(dir);
  daemon = await fleet.startDaemon();
  c = await daemon.client();
});

afterAll(async () => {
  if (dir) {
    for (const d of [dir, ...fs.readdirSync(dir).map((n) => path.join(dir, n))]) fs.chmodSync(d, 0o755);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (scriptDir) fs.rmSync(scriptDir, { recursive: true, force: true });
});

describe('fs.write then fs.read', () => {
  it('text and binary files round-trip byte-exact, atomically, with modes kept or set', async () => {
    const text = 'héllo wörld ✓ 日本語\nline two\r\nno newline at the end';
    const textPath = path.join(dir, 'text.txt');
    const w = await c.call('fs.write', { host: 'web1', path: textPath, content: text });
    expect(w).toEqual({ path: textPath, bytes: Buffer.byteLength(text) });
    expect(fs.readFileSync(textPath, 'utf8')).toBe(text);
    expect(fs.statSync(textPath).mode & 0o7777).toBe(0o644);
    const r = await c.call('fs.read', { host: 'web1', path: textPath });
    expect(r).toEqual({ path: textPath, content: text, encoding: 'utf8', size: Buffer.byteLength(text), bytes: Buffer.byteLength(text), offset: 0, truncated: false });

    // Every byte value, NULs included, and more than one chunk's worth (several writes in flight).
    const bin = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(700_000)]);
    const binPath = path.join(dir, 'deep', 'er', 'blob.bin');
    await expectCode(c.call('fs.write', { host: 'web1', path: binPath, content: bin.toString('base64'), encoding: 'base64' }), 'REMOTE_NOT_FOUND');
    await c.call('fs.write', { host: 'web1', path: binPath, content: bin.toString('base64'), encoding: 'base64', mode: 0o600, createDirs: true });
    expect(fs.readFileSync(binPath).equals(bin)).toBe(true);
    expect(fs.statSync(binPath).mode & 0o7777).toBe(0o600);
    expect(fs.statSync(path.dirname(binPath)).mode & 0o7777).toBe(0o755);
    const rb = await c.call('fs.read', { host: 'web1', path: binPath });
    expect(rb.encoding).toBe('base64');
    expect(rb).toMatchObject({ size: bin.length, bytes: bin.length, truncated: false });
    expect(Buffer.from(rb.content, 'base64').equals(bin)).toBe(true);

    // Replacing keeps the old file's mode, and leaves no temp file beside it.
    fs.chmodSync(textPath, 0o640);
    await c.call('fs.write', { host: 'web1', path: textPath, content: 'new' });
    expect(fs.readFileSync(textPath, 'utf8')).toBe('new');
    expect(fs.statSync(textPath).mode & 0o7777).toBe(0o640);
    expect(temps(dir)).toEqual([]);
    expect(temps(path.dirname(binPath))).toEqual([]);

    // One SFTP session serves every call: one connection, one channel held open.
    const pool = await c.call('pool.list');
    expect(pool.connections.filter((x) => x.host === 'web1')).toHaveLength(1);
    expect(pool.connections.find((x) => x.host === 'web1')?.channels.open).toBe(1);
  });

  it('a 100 MB file read with the default cap returns its first 1 MiB and truncated, with daemon memory bounded', async () => {
    const big = path.join(dir, 'big.log');
    // 16-byte lines: the first MiB is a known, checkable text.
    const made = await fleet.runAsUser(`yes 0123456789abcde | head -c ${100 * 1024 * 1024} > '${big}'`);
    expect(made.code, made.stderr).toBe(0);
    const before = (await c.call('daemon.status')).rssBytes;
    const r = await c.call('fs.read', { host: 'web1', path: big });
    const after = (await c.call('daemon.status')).rssBytes;
    expect(r).toMatchObject({ encoding: 'utf8', size: 100 * 1024 * 1024, bytes: 1024 * 1024, offset: 0, truncated: true });
    expect(r.content).toBe('0123456789abcde\n'.repeat(65536));
    console.log(`daemon rss: ${(before / 2 ** 20).toFixed(1)} MiB before, ${(after / 2 ** 20).toFixed(1)} MiB after a capped read of 100 MiB`);
    expect(after - before).toBeLessThan(64 * 1024 * 1024);
    // offset + maxBytes: the tail, not truncated.
    const tail = await c.call('fs.read', { host: 'web1', path: big, offset: 100 * 1024 * 1024 - 20, maxBytes: 100 });
    expect(tail).toMatchObject({ content: 'abcde\n0123456789abcde\n'.slice(-20), bytes: 20, offset: 100 * 1024 * 1024 - 20, truncated: false });
    fs.rmSync(big);
  });

  it('a file whose size says nothing (/proc) is read to its end', async () => {
    const r = await c.call('fs.read', { host: 'web1', path: '/proc/self/status' });
    expect(r.size).toBe(0);
    expect(r.content).toMatch(/^Name:\s+\S+/);
    expect(r.truncated).toBe(false);
  });

  it('a client that asked for blobs gets a long content as raw bytes after a short line; one that did not, plain JSON', async () => {
    const text = 'blob ✓ line\n'.repeat(80_000); // ~1 MiB of UTF-8 with newlines (escaped in JSON)
    const file = path.join(dir, 'blob.txt');
    fs.writeFileSync(file, text);
    const bytes = Buffer.byteLength(text);
    for (const blobs of [true, false]) {
      const wire = await rawCall(daemon.socket, blobs, { host: 'web1', path: file, maxBytes: bytes }).answer;
      const nl = wire.indexOf(0x0a);
      const msg = JSON.parse(wire.subarray(0, nl).toString('utf8'));
      if (blobs) {
        expect(nl).toBeLessThan(400);
        expect(msg).toMatchObject({ id: 2, result: { content: '', encoding: 'utf8', bytes }, $blobs: [{ at: ['result', 'content'], bytes }] });
        expect(wire.subarray(nl + 1).toString('utf8')).toBe(text);
      } else {
        expect(msg.$blobs).toBeUndefined();
        expect(msg.result.content).toBe(text);
        expect(wire.length).toBe(nl + 1);
      }
    }
    // Through the client (which asks): the same string.
    expect((await c.call('fs.read', { host: 'web1', path: file, maxBytes: bytes })).content).toBe(text);

    // Read buffers are reused once written (src/ssh/buffer-pool.ts), never before: a client that reads nothing
    // holds its answer in the daemon's socket while another client's read runs; it then gets its own bytes.
    const a = path.join(dir, 'pool-a.txt');
    const b = path.join(dir, 'pool-b.txt');
    fs.writeFileSync(a, 'A'.repeat(1024 * 1024));
    fs.writeFileSync(b, 'B'.repeat(1024 * 1024));
    const doneReads = () => daemon.logLines().filter((l) => l.msg === 'done' && l.method === 'fs.read').length;
    const before = doneReads();
    const held = rawCall(daemon.socket, true, { host: 'web1', path: a, maxBytes: 1024 * 1024 }, { paused: true });
    await until(() => doneReads() > before, 10_000, 'the held read to be answered');
    expect((await c.call('fs.read', { host: 'web1', path: b })).content).toBe('B'.repeat(1024 * 1024));
    held.resume();
    const heldWire = await held.answer;
    expect(heldWire.subarray(heldWire.indexOf(0x0a) + 1).toString('latin1')).toBe('A'.repeat(1024 * 1024));

    // 24 reads at once on two connections, each of its own file: each gets exactly its own bytes.
    const files = Array.from({ length: 12 }, (_, i) => {
      const f = path.join(dir, `pool-${i}.txt`);
      fs.writeFileSync(f, `${i}:`.padEnd(200_000 + i * 1000, String.fromCharCode(97 + i)));
      return f;
    });
    const other = await daemon.client('pool-2');
    try {
      const reads = [c, other].flatMap((cl) => files.map(async (f) => ({ f, r: await cl.call('fs.read', { host: 'web1', path: f }) })));
      for (const { f, r } of await Promise.all(reads)) expect(r.content === fs.readFileSync(f, 'utf8'), f).toBe(true);
    } finally {
      other.close();
    }
  });
});

/**
 * The bytes scoutd sends for one fs.read on a fresh connection whose hello does (or does not) ask for blobs:
 * from the answer's line to the end of what belongs to it (its blobs). `paused`: nothing is read until resume().
 */
function rawCall(socket: string, blobs: boolean, params: { host: string; path: string; maxBytes: number }, opts: { paused?: boolean } = {}): { answer: Promise<Buffer>; resume: () => void } {
  const sock = net.connect(socket);
  if (opts.paused) sock.pause();
  const lines = [
    { jsonrpc: '2.0', id: 1, method: 'daemon.hello', params: { client: 'raw', protocol: PROTOCOL_VERSION, ...(blobs ? { blobs } : {}) } },
    { jsonrpc: '2.0', id: 2, method: 'fs.read', params },
  ];
  sock.write(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  let got = Buffer.alloc(0);
  const answer = new Promise<Buffer>((resolve, reject) => {
    sock.on('error', reject);
    sock.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const first = got.indexOf(0x0a);
      if (first === -1) return;
      const rest = got.subarray(first + 1);
      const nl = rest.indexOf(0x0a);
      if (nl === -1) return;
      const head = JSON.parse(rest.subarray(0, nl).toString('utf8'));
      const want = nl + 1 + (head.$blobs ?? []).reduce((n: number, b: { bytes: number }) => n + b.bytes, 0);
      if (rest.length >= want) resolve(rest);
    });
    if (opts.paused) sock.pause(); // adding a 'data' listener resumes the stream
  }).finally(() => sock.destroy());
  return { answer, resume: () => sock.resume() };
}

describe('listings', () => {
  let tree: string;
  beforeAll(() => {
    tree = path.join(dir, 'tree');
    fs.mkdirSync(path.join(tree, 'sub', 'deep'), { recursive: true });
    fs.mkdirSync(path.join(tree, 'b-dir'));
    fs.writeFileSync(path.join(tree, 'a.txt'), 'aaaa');
    fs.writeFileSync(path.join(tree, HOSTILE), 'hostile');
    fs.writeFileSync(path.join(tree, '.hidden'), 'h');
    fs.writeFileSync(path.join(tree, 'sub', 'one.log'), '1');
    fs.writeFileSync(path.join(tree, 'sub', 'deep', 'two.log'), '22');
    fs.symlinkSync('a.txt', path.join(tree, 'link'));
    fs.symlinkSync('sub', path.join(tree, 'dirlink'));
    fs.chmodSync(path.join(tree, 'a.txt'), 0o640);
    own(tree);
    const closed = path.join(dir, 'closed');
    fs.mkdirSync(closed);
    fs.writeFileSync(path.join(closed, 'secret'), 's');
    fs.writeFileSync(path.join(dir, 'unreadable.txt'), 'u');
    own(closed);
    own(path.join(dir, 'unreadable.txt'));
    fs.chmodSync(closed, 0o000);
    fs.chmodSync(path.join(dir, 'unreadable.txt'), 0o000);
  });

  it('fs.list returns the exact entries, directories first, dot entries only with all', async () => {
    const r = await c.call('fs.list', { host: 'web1', path: tree });
    const mtime = (n: string) => new Date(Math.floor(fs.lstatSync(path.join(tree, n)).mtimeMs / 1000) * 1000).toISOString();
    const dirMode = fs.statSync(path.join(tree, 'sub')).mode & 0o7777;
    expect(r.truncated).toBe(false);
    expect(r.entries).toEqual([
      { name: 'b-dir', type: 'dir', size: fs.statSync(path.join(tree, 'b-dir')).size, mode: dirMode, mtime: mtime('b-dir') },
      { name: 'sub', type: 'dir', size: fs.statSync(path.join(tree, 'sub')).size, mode: dirMode, mtime: mtime('sub') },
      { name: HOSTILE, type: 'file', size: 7, mode: fs.statSync(path.join(tree, HOSTILE)).mode & 0o7777, mtime: mtime(HOSTILE) },
      { name: 'a.txt', type: 'file', size: 4, mode: 0o640, mtime: mtime('a.txt') },
      { name: 'dirlink', type: 'symlink', size: 3, mode: 0o777, mtime: mtime('dirlink'), linkTarget: 'sub' },
      { name: 'link', type: 'symlink', size: 5, mode: 0o777, mtime: mtime('link'), linkTarget: 'a.txt' },
    ]);
    const all = await c.call('fs.list', { host: 'web1', path: tree, all: true });
    expect(all.entries.map((e) => e.name)).toEqual(['b-dir', 'sub', HOSTILE, '.hidden', 'a.txt', 'dirlink', 'link']);
    const capped = await c.call('fs.list', { host: 'web1', path: tree, maxEntries: 2, all: true });
    expect(capped.entries).toHaveLength(2);
    expect(capped.truncated).toBe(true);

    const st = await c.call('fs.stat', { host: 'web1', path: path.join(tree, 'link') });
    expect(st).toEqual({ path: path.join(tree, 'link'), type: 'symlink', size: 5, mode: 0o777, mtime: mtime('link'), linkTarget: 'a.txt' });
    const hostile = await c.call('fs.read', { host: 'web1', path: path.join(tree, HOSTILE) });
    expect(hostile.content).toBe('hostile');
    expect(fs.existsSync(path.join(tree, 'PWNED'))).toBe(false);
  });

  it('fs.tree nests entries to the depth, counts them, and says when the cap cut it', async () => {
    const r = await c.call('fs.tree', { host: 'web1', path: tree, depth: 2 });
    expect(r).toEqual({
      path: tree,
      entries: 8,
      truncated: false,
      root: {
        name: 'tree',
        type: 'dir',
        size: fs.statSync(tree).size,
        children: [
          { name: 'b-dir', type: 'dir', size: fs.statSync(path.join(tree, 'b-dir')).size, children: [] },
          {
            name: 'sub',
            type: 'dir',
            size: fs.statSync(path.join(tree, 'sub')).size,
            // depth 2: deep is listed but not read.
            children: [
              { name: 'deep', type: 'dir', size: fs.statSync(path.join(tree, 'sub', 'deep')).size },
              { name: 'one.log', type: 'file', size: 1 },
            ],
          },
          { name: HOSTILE, type: 'file', size: 7 },
          { name: 'a.txt', type: 'file', size: 4 },
          { name: 'dirlink', type: 'symlink', size: 3 },
          { name: 'link', type: 'symlink', size: 5 },
        ],
      },
    });
    const deep = await c.call('fs.tree', { host: 'web1', path: tree });
    expect(deep.entries).toBe(9);
    expect(deep.root.children![1].children![0].children).toEqual([{ name: 'two.log', type: 'file', size: 2 }]);
    const capped = await c.call('fs.tree', { host: 'web1', path: tree, maxEntries: 3 });
    expect(capped.entries).toBe(3);
    expect(capped.truncated).toBe(true);
    // Breadth first: the cap keeps the top level.
    expect(capped.root.children!.map((n) => n.name)).toEqual(['b-dir', 'sub', HOSTILE]);
  });

  it('fs.find matches a glob on names, by type, within a depth, without following links', async () => {
    const logs = await c.call('fs.find', { host: 'web1', path: tree, pattern: '*.log' });
    expect(logs).toEqual({ paths: [path.join(tree, 'sub', 'one.log'), path.join(tree, 'sub', 'deep', 'two.log')], truncated: false });
    expect((await c.call('fs.find', { host: 'web1', path: tree, pattern: '*.log', depth: 2 })).paths).toEqual([path.join(tree, 'sub', 'one.log')]);
    expect((await c.call('fs.find', { host: 'web1', path: tree, pattern: '*', type: 'symlink' })).paths).toEqual([path.join(tree, 'dirlink'), path.join(tree, 'link')]);
    expect((await c.call('fs.find', { host: 'web1', path: tree, pattern: '*', type: 'dir' })).paths).toEqual(['b-dir', 'sub', 'sub/deep'].map((p) => path.join(tree, p)));
    expect((await c.call('fs.find', { host: 'web1', path: tree, pattern: '-n*$(touch*' })).paths).toEqual([path.join(tree, HOSTILE)]);
    expect((await c.call('fs.find', { host: 'web1', path: tree, pattern: '[ab].*' })).paths).toEqual([path.join(tree, 'a.txt')]);
    expect((await c.call('fs.find', { host: 'web1', path: tree, pattern: '.h*' })).paths).toEqual([path.join(tree, '.hidden')]);
    const capped = await c.call('fs.find', { host: 'web1', path: tree, pattern: '*', maxResults: 2 });
    expect(capped).toEqual({ paths: [path.join(tree, 'b-dir'), path.join(tree, 'sub')], truncated: true });
    expect(fs.existsSync(path.join(tree, 'PWNED'))).toBe(false);
  });

  it('missing → REMOTE_NOT_FOUND, unreadable → REMOTE_PERMISSION_DENIED, a directory read → REMOTE_IO is-directory', async () => {
    const missing = path.join(dir, 'no', 'such');
    for (const [m, extra] of [
      ['fs.read', {}],
      ['fs.stat', {}],
      ['fs.list', {}],
      ['fs.tree', {}],
      ['fs.find', { pattern: '*' }],
    ] as const) {
      const e = await expectCode(c.call(m, { host: 'web1', path: missing, ...extra }), 'REMOTE_NOT_FOUND');
      expect(e.message).toContain(missing);
    }
    const closed = path.join(dir, 'closed');
    expect((await expectCode(c.call('fs.list', { host: 'web1', path: closed }), 'REMOTE_PERMISSION_DENIED')).message).toContain(closed);
    await expectCode(c.call('fs.read', { host: 'web1', path: path.join(closed, 'secret') }), 'REMOTE_PERMISSION_DENIED');
    await expectCode(c.call('fs.read', { host: 'web1', path: path.join(dir, 'unreadable.txt') }), 'REMOTE_PERMISSION_DENIED');
    // A walk skips what it cannot read, as find does, and says so.
    const t = await c.call('fs.tree', { host: 'web1', path: dir, depth: 2 });
    expect(t.root.children!.find((n) => n.name === 'closed')).toEqual({ name: 'closed', type: 'dir', size: expect.any(Number), error: 'REMOTE_PERMISSION_DENIED' });
    const f = await c.call('fs.find', { host: 'web1', path: dir, pattern: 'secret' });
    expect(f).toEqual({ paths: [], truncated: false, skipped: [closed] });

    const isDir = await expectCode(c.call('fs.read', { host: 'web1', path: path.join(dir, 'tree') }), 'REMOTE_IO');
    expect(isDir.details.reason).toBe('is-directory');
    expect(isDir.message).toMatch(/is a directory/);
    const notDir = await expectCode(c.call('fs.list', { host: 'web1', path: path.join(dir, 'tree', 'a.txt') }), 'REMOTE_IO');
    expect(notDir.details.reason).toBe('not-a-directory');
  });
});

describe('fleet.read', () => {
  it('reads one path on many hosts: a result each, in input order, a missing file failing alone', async () => {
    const p = path.join(dir, 'fleet.txt');
    fs.writeFileSync(p, 'same file, two hosts\n');
    own(p);
    const r = await c.call('fleet.read', { hosts: ['quota', 'web1', 'nosuch'], path: p, maxBytes: 4 });
    expect(r.summary).toEqual({ ok: 2, failed: 1, total: 3 });
    expect(r.results.map((x) => x.host)).toEqual(['quota', 'web1', 'nosuch']);
    for (const x of r.results.slice(0, 2)) expect(x).toMatchObject({ ok: true, result: { path: p, content: 'same', bytes: 4, size: 21, truncated: true } });
    expect(r.results[2]).toMatchObject({ ok: false, error: { code: 'UNKNOWN_HOST' } });
    const gone = await c.call('fleet.read', { pattern: '*', path: path.join(dir, 'absent') });
    expect(gone.results.map((x) => [x.host, x.ok, x.error?.code])).toEqual([
      ['web1', false, 'REMOTE_NOT_FOUND'],
      ['quota', false, 'REMOTE_NOT_FOUND'],
    ]);
  });
});

describe('failed writes', () => {
  it('a write that fails midway (file size limit on the server) leaves the original unchanged and no temp file', async () => {
    const target = path.join(dir, 'config.yml');
    fs.writeFileSync(target, 'original: true\n');
    own(target);
    const e = await expectCode(c.call('fs.write', { host: 'quota', path: target, content: randomBytes(4 * 1024 * 1024).toString('base64'), encoding: 'base64' }), 'REMOTE_IO');
    expect(e.message).toContain(target);
    // Midway: the first MiB went through before the server refused the rest.
    expect(e.details.writtenBytes).toBeGreaterThanOrEqual(1024 * 1024);
    expect(e.details.writtenBytes).toBeLessThan(4 * 1024 * 1024);
    expect(e.message).toMatch(/write failed after \d+ of 4194304 bytes/);
    expect(fs.readFileSync(target, 'utf8')).toBe('original: true\n');
    expect(temps(dir)).toEqual([]);
    // The same host takes a write under its limit.
    await c.call('fs.write', { host: 'quota', path: target, content: 'small: true\n' });
    expect(fs.readFileSync(target, 'utf8')).toBe('small: true\n');
  });

  it('a write whose final rename is refused (sticky directory, file of another user) leaves both files as they were', async () => {
    const sticky = path.join(dir, 'sticky');
    fs.mkdirSync(sticky);
    fs.chmodSync(sticky, 0o1777);
    const target = path.join(sticky, 'shared.txt');
    fs.writeFileSync(target, 'root owns this\n');
    fs.chmodSync(target, 0o666);
    await expectCode(c.call('fs.write', { host: 'web1', path: target, content: 'replaced?\n' }), 'REMOTE_PERMISSION_DENIED');
    expect(fs.readFileSync(target, 'utf8')).toBe('root owns this\n');
    expect(temps(sticky)).toEqual([]);
  });

  it('a write onto a directory is refused before anything is created', async () => {
    const e = await expectCode(c.call('fs.write', { host: 'web1', path: path.join(dir, 'tree'), content: 'x' }), 'REMOTE_IO');
    expect(e.details.reason).toBe('is-directory');
    expect(temps(dir)).toEqual([]);
  });
});
