// Issue 17, items 5 and 6: every call ends with exactly one answer, and a client that reads is never cut off.
// Before: an answer over 16 MiB was dropped by the client's line reader (the call hung), an fs.write at the
// documented maximum was refused with id null (hung), 13 MB of --stdin hung, 200 MB of output with the largest
// maxOutputBytes threw RangeError in the daemon (1.8 GB RSS, never answered), and six 12 MiB reads at once got
// their reader disconnected although it read as fast as it could.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FS_IO_BYTES, MAX_OUTPUT_BYTES, type FsReadResult } from '../src/protocol/methods/index.js';
/** SCOUT_CLIENT_STALL for the stalled-reader test: its 10 s default would only make the test slower. */
const STALL_LIMIT_MS = 2_000;
import { ScoutClient } from '../src/client/client.js';
import { MAX_RESPONSE_BYTES } from '../src/protocol/ndjson.js';
import { PROTOCOL_VERSION } from '../src/protocol/version.js';
import { scoutctl, type DaemonProc } from './fixtures/daemon.js';
import { expectCode, until, worstStatusWhile } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

const ALIASES = Array.from({ length: 17 }, (_, i) => `a${i + 1}`);
const fleet = useFleet(['web1']);
let dir: string;

beforeAll(async () => {
  const s = fleet.server('web1');
  // 17 aliases of one sshd: each is a pooled connection of its own, as 17 hosts would be.
  fleet.writeConfig(
    Object.fromEntries(
      ALIASES.map((a) => [
        a,
        ['HostName 127.0.0.1', `Port ${s.port}`, `User ${fleet.user}`, `IdentityFile ${fleet.clientKeyPath}`, `UserKnownHostsFile ${fleet.knownHostsPath}`, 'IdentitiesOnly yes'],
      ]),
    ),
  );
  const ids = await fleet.runAsUser('id -u; id -g');
  const [uid, gid] = ids.stdout.trim().split('\n').map(Number);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-answers-'));
  fs.chownSync(dir, uid, gid);
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A local file of fs.read's largest size (MAX_FS_IO_BYTES) of random bytes, readable by the remote user. */
function maxFile(name: string): { file: string; content: Buffer } {
  const content = randomBytes(MAX_FS_IO_BYTES);
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return { file, content };
}

/** The daemon's peak resident memory (VmHWM), in MiB. */
function peakRssMiB(d: DaemonProc): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${d.pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

describe('every call ends with one answer', () => {
  it('fleet.exec over 17 hosts × 1 MiB answers, with every host its output', async () => {
    const d = await fleet.startDaemon();
    const [a, b] = await Promise.all([d.client(), d.client()]);
    const call = a.call('fleet.exec', { hosts: ALIASES, command: 'head -c 1048576 /dev/zero | tr "\\0" x', concurrency: 17, timeoutMs: 30_000 });
    const worst = await worstStatusWhile(b, call);
    const r = await call;
    console.log(`fleet 17 × 1 MiB: worst daemon.status ${worst.toFixed(0)} ms, daemon peak RSS ${peakRssMiB(d).toFixed(0)} MiB`);
    expect(r.summary).toEqual({ ok: 17, failed: 0, total: 17 });
    for (const h of r.results) expect(h.result?.stdout).toHaveLength(1024 * 1024);
    expect(worst).toBeLessThan(1_000);
    expect(peakRssMiB(d)).toBeLessThan(1024);
  });

  it("fs.write at its documented maximum is written, and one byte more is refused with the call's own answer", async () => {
    const d = await fleet.startDaemon();
    const c = await d.client();
    const bytes = randomBytes(MAX_FS_IO_BYTES);
    const target = path.join(dir, 'max.bin');
    const w = await c.call('fs.write', { host: 'web1', path: target, content: bytes.toString('base64'), encoding: 'base64' });
    expect(w.bytes).toBe(MAX_FS_IO_BYTES);
    expect(fs.readFileSync(target).equals(bytes)).toBe(true);
    await expectCode(c.call('fs.write', { host: 'web1', path: target, content: Buffer.concat([bytes, Buffer.from('x')]).toString('base64'), encoding: 'base64' }), 'INVALID_PARAMS');
    // A request no schema bounds (escaping makes it large) is measured by the client and never sent.
    await expectCode(c.call('fs.write', { host: 'web1', path: target, content: '\u0001'.repeat(4 * 1024 * 1024) }), 'TOO_LARGE');
    expect(fs.readFileSync(target).equals(bytes)).toBe(true);
    expect(await c.call('daemon.status')).toBeTruthy();
  });

  it('scoutctl exec --stdin of 13 MB ends with a coded error at once', async () => {
    const d = await fleet.startDaemon();
    const t0 = performance.now();
    const r = await scoutctl(['exec', 'web1', '--stdin', '--', 'wc', '-c'], d.env, 'x'.repeat(13 * 1000 * 1000));
    const ms = performance.now() - t0;
    expect(r.code).toBe(255);
    expect(r.stderr).toMatch(/stdin|too large|INVALID_PARAMS|TOO_LARGE/i);
    expect(ms).toBeLessThan(15_000);
  });

  it('200 MB of output with the largest maxOutputBytes answers with the capped output, daemon memory bounded, others served', async () => {
    const d = await fleet.startDaemon();
    const [a, b] = await Promise.all([d.client(), d.client()]);
    const call = a.call('ssh.exec', { host: 'web1', command: 'head -c 200000000 /dev/zero | tr "\\0" y', maxOutputBytes: MAX_OUTPUT_BYTES, timeoutMs: 60_000 });
    const worst = await worstStatusWhile(b, call);
    const r = await call;
    console.log(`200 MB output: worst daemon.status ${worst.toFixed(0)} ms, daemon peak RSS ${peakRssMiB(d).toFixed(0)} MiB`);
    expect(r).toMatchObject({ exitCode: 0, truncated: true });
    expect(r.stdout).toHaveLength(MAX_OUTPUT_BYTES);
    expect(worst).toBeLessThan(1_000);
    expect(peakRssMiB(d)).toBeLessThan(1024);
  });

  it('output dense with control characters travels as base64 rather than six bytes a character; colored output stays text', async () => {
    const d = await fleet.startDaemon();
    const c = await d.client();
    const r = await c.call('ssh.exec', { host: 'web1', command: 'head -c 100000 /dev/zero | tr "\\0" "\\001"' });
    expect(r.encoding).toBe('base64');
    expect(Buffer.from(r.stdout, 'base64').equals(Buffer.alloc(100_000, 1))).toBe(true);
    const colored = await c.call('ssh.exec', { host: 'web1', command: 'printf "\\033[01;34mdir\\033[0m\\n"' });
    expect(colored).toMatchObject({ stdout: '\x1b[01;34mdir\x1b[0m\n' });
    expect(colored.encoding).toBeUndefined();
  });
});

describe('a batch whose answers together are too large', () => {
  it('answers every call of it by its own id: as many as fit, the largest as TOO_LARGE', async () => {
    const { file, content } = maxFile('twelve-batch.bin');
    const d = await fleet.startDaemon();
    const sock = net.connect(d.socket);
    await new Promise((r) => sock.once('connect', r));
    const chunks: Buffer[] = [];
    let gotLine = false;
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      if (c.includes(0x0a)) gotLine = true;
    });
    // Six 12 MiB reads are 96 MiB of base64, over the 64 MiB one answer line may be.
    const batch = Array.from({ length: 6 }, (_, i) => ({ jsonrpc: '2.0', id: i + 1, method: 'fs.read', params: { host: 'web1', path: file, maxBytes: MAX_FS_IO_BYTES } }));
    sock.write(JSON.stringify(batch) + '\n');
    await until(() => gotLine, 60_000, 'the answer to the batch');
    sock.destroy();
    const text = Buffer.concat(chunks).toString('utf8');
    type Answer = { id: number | null; result?: FsReadResult; error?: { data: { code: string; limit: number } } };
    const line = JSON.parse(text.slice(0, text.indexOf('\n'))) as Answer[] | Answer;
    const answers = Array.isArray(line) ? line : [line];
    // Before: one error with id null, which answers none of the six.
    expect(answers.map((a) => a.id).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    const ok = answers.filter((a) => a.result);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const a of ok) expect(Buffer.from(a.result!.content, 'base64').equals(content)).toBe(true);
    for (const a of answers.filter((x) => !x.result)) expect(a.error?.data).toMatchObject({ code: 'TOO_LARGE', limit: MAX_RESPONSE_BYTES });
  });
});

describe('no line is dropped silently by the client', () => {
  it('an answer over what the client reads fails the pending call with a coded error instead of leaving it waiting', async () => {
    // A peer that answers hello, then sends one line over the client's bound: scoutd never would (it sends
    // TOO_LARGE instead), so this stands for a broken or foreign daemon.
    const sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-bigline-'));
    const socket = path.join(sockDir, 'scoutd.sock');
    const server = net.createServer((conn) => {
      let buf = '';
      conn.on('error', () => {});
      conn.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
          const req = JSON.parse(buf.slice(0, nl)) as { id: number; method: string };
          buf = buf.slice(nl + 1);
          if (req.method === 'daemon.hello') conn.write(JSON.stringify({ jsonrpc: '2.0', id: req.id, result: { protocol: PROTOCOL_VERSION } }) + '\n');
          else conn.write(`{"jsonrpc":"2.0","id":${req.id},"result":"${'x'.repeat(MAX_RESPONSE_BYTES)}"}\n`);
        }
      });
    });
    await new Promise<void>((r) => server.listen(socket, r));
    try {
      const c = new ScoutClient({ socket });
      await c.connect();
      // Before, the client's line reader dropped the line without a word and this call waited forever.
      const e = await expectCode(c.call('daemon.status'), 'PROTOCOL_MISMATCH');
      expect(e.message).toMatch(/over the \d+ a client reads/);
      c.close();
    } finally {
      server.close();
      fs.rmSync(sockDir, { recursive: true, force: true });
    }
  });
});

describe('backpressure judged by progress', () => {
  it('six concurrent 12 MiB reads by a client that reads continuously are all answered, byte-exact', async () => {
    const { file, content } = maxFile('twelve.bin');
    const d = await fleet.startDaemon();
    const c = await d.client();
    const reads = await Promise.all(Array.from({ length: 6 }, () => c.call('fs.read', { host: 'web1', path: file, maxBytes: MAX_FS_IO_BYTES })));
    for (const r of reads) {
      expect(r).toMatchObject({ encoding: 'base64', bytes: MAX_FS_IO_BYTES, truncated: false });
      expect(Buffer.from(r.content, 'base64').equals(content)).toBe(true);
    }
  });

  it('a client that stops reading with a backlog over the bound is cut off, and the daemon serves others meanwhile', async () => {
    const { file } = maxFile('twelve-stall.bin');
    const d = await fleet.startDaemon({ SCOUT_CLIENT_STALL: String(STALL_LIMIT_MS / 1000) });
    const other = await d.client();
    const sock = net.connect(d.socket);
    await new Promise((r) => sock.once('connect', r));
    let closed = false;
    sock.on('close', () => (closed = true));
    sock.on('error', () => {});
    sock.pause(); // never reads a byte
    const t0 = performance.now();
    for (let i = 1; i <= 8; i++) sock.write(JSON.stringify({ jsonrpc: '2.0', id: i, method: 'fs.read', params: { host: 'web1', path: file, maxBytes: MAX_FS_IO_BYTES } }) + '\n');
    await until(
      async () => {
        expect(await other.call('daemon.status')).toBeTruthy();
        return /client does not read its responses/.test(d.logs());
      },
      STALL_LIMIT_MS + 20_000,
      'the daemon to cut the stalled client off',
    );
    const s = performance.now() - t0;
    console.log(`stalled reader cut off after ${(s / 1000).toFixed(1)} s`);
    expect(s).toBeGreaterThanOrEqual(STALL_LIMIT_MS);
    // Reading again, the client finds its connection closed, short of the eight answers.
    let got = 0;
    sock.on('data', (chunk: Buffer) => (got += chunk.length));
    sock.resume();
    await until(() => closed, 10_000, 'the cut-off connection to close');
    expect(got).toBeLessThan(8 * MAX_FS_IO_BYTES);
    expect(d.logs()).toMatch(/client does not read its responses/);
  });
});
