// ScoutClient reading blobs (src/protocol/blobs.ts) from a stand-in daemon that writes exactly the bytes a test
// gives it: answers put back byte-exact however the socket splits them, framing going on after them, and a
// manifest it cannot honour failing every pending call at once (never a call left waiting for bytes).
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScoutClient } from '../src/client/client.js';
import { MAX_RESPONSE_BYTES } from '../src/protocol/ndjson.js';
import { PROTOCOL_VERSION } from '../src/protocol/version.js';
import { expectCode } from './fixtures/expect.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/**
 * A socket that answers daemon.hello (recording whether it asked for blobs) and answers every other call with
 * `answer(id)`, written a few bytes at a time so every split of line and blob is crossed.
 */
async function standIn(answer: (id: number) => Buffer[]): Promise<{ socket: string; helloAsked: () => unknown }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scout-blobs-'));
  fs.chmodSync(dir, 0o700);
  const socket = path.join(dir, 'scoutd.sock');
  let asked: unknown;
  const server = net.createServer((sock) => {
    let buf = '';
    sock.on('error', () => {});
    sock.on('data', (d) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        const req = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (req.method === 'daemon.hello') {
          asked = req.params.blobs;
          sock.write(`${JSON.stringify({ jsonrpc: '2.0', id: req.id, result: { daemon: 'scoutd', version: 'x', protocol: PROTOCOL_VERSION, pid: 1, startedAt: '' } })}\n`);
        } else {
          const all = Buffer.concat(answer(req.id));
          for (let i = 0; i < all.length; i += 5) sock.write(all.subarray(i, i + 5));
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  cleanups.push(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { socket, helloAsked: () => asked };
}

const line = (m: unknown) => Buffer.from(`${JSON.stringify(m)}\n`);

async function client(socket: string): Promise<ScoutClient> {
  const c = new ScoutClient({ socket, clientName: 'blobs-test' });
  cleanups.push(() => c.close());
  await c.connect();
  return c;
}

describe('ScoutClient and blobs', () => {
  it('asks for blobs, puts a split answer back byte-exact, and reads the next message after it', async () => {
    const text = 'ascii only\n'.repeat(30);
    const utf = 'é✓ 日本語\n'.repeat(20);
    const s = await standIn((id) => [
      line({
        jsonrpc: '2.0',
        id,
        result: { path: '/x', content: '', stdout: [{ s: '' }] },
        $blobs: [
          { at: ['result', 'content'], bytes: Buffer.byteLength(text) },
          { at: ['result', 'stdout', 0, 's'], bytes: Buffer.byteLength(utf) },
        ],
      }),
      Buffer.from(text),
      Buffer.from(utf),
    ]);
    const c = await client(s.socket);
    expect(s.helloAsked()).toBe(true);
    const [a, b] = await Promise.all([c.call('fs.stat', { host: 'h', path: '/x' }), c.call('fs.stat', { host: 'h', path: '/y' })]);
    for (const r of [a, b]) expect(r).toEqual({ path: '/x', content: text, stdout: [{ s: utf }] });
  });

  it('a manifest pointing at no string, or announcing more than a message may have, fails every pending call', async () => {
    const bad = [
      { at: ['result', 'size'], bytes: 3 },
      { at: ['result', 'content'], bytes: MAX_RESPONSE_BYTES + 1 },
    ];
    for (const ref of bad) {
      const s = await standIn((id) => [line({ jsonrpc: '2.0', id, result: { content: '', size: 3 }, $blobs: [ref] }), Buffer.from('abc')]);
      const c = await client(s.socket);
      const err = await expectCode(c.call('fs.stat', { host: 'h', path: '/x' }), 'PROTOCOL_MISMATCH');
      expect(err.message).toMatch(ref.bytes === 3 ? /points at \["result","size"\]/ : /over the \d+ a message may have/);
      expect(c.connected).toBe(false);
    }
  });
});
