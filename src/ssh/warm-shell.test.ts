import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FramedStream, LEFTOVER_EXIT, MarkerScanner, bootstrap, fastPathObstacle } from './warm-shell.js';

describe('which commands may take the fast path', () => {
  it('redirections and lists are fine; a background & is not', () => {
    for (const ok of ['true', 'a && b', 'a 2>&1', 'a >&2', 'a <&3', 'a &> f', 'a |& b', 'echo "x"']) expect(fastPathObstacle(ok, {}), ok).toBeUndefined();
    for (const bg of ['sleep 1 &', 'a & b', '(a) &', 'a &\nb', '&']) expect(fastPathObstacle(bg, {}), bg).toBe('background');
  });

  it("$$ (the resident shell is not the command's shell), stdin, env, NUL and long commands fall back", () => {
    expect(fastPathObstacle('kill $$', {})).toBe('pid-of-shell');
    expect(fastPathObstacle('echo ${$}', {})).toBe('pid-of-shell');
    expect(fastPathObstacle('cat', { stdin: Buffer.from('x') })).toBe('stdin');
    expect(fastPathObstacle('cat', { stdin: Buffer.alloc(0) })).toBeUndefined();
    expect(fastPathObstacle('env', { env: { A: '1' } })).toBe('env');
    expect(fastPathObstacle('a\0b', {})).toBe('nul-byte');
    expect(fastPathObstacle('x'.repeat(70_000), {})).toBe('long-command');
  });
});

describe('framing a reply that arrives in arbitrary pieces', () => {
  const nonce = 'ab'.repeat(16);
  /** Feed `reply` to a fresh stdout frame in pieces cut at `cuts`; return the body bytes and the status. */
  function parse(reply: Buffer, cuts: number[]) {
    const body: Buffer[] = [];
    const f = new FramedStream(nonce, true, (b) => body.push(Buffer.from(b)));
    let at = 0;
    for (const cut of [...cuts, reply.length]) {
      f.feed(reply.subarray(at, cut));
      at = cut;
    }
    return { body: Buffer.concat(body), phase: f.phase, status: f.status };
  }

  it('any split gives the exact body and status: stray bytes dropped, look-alike prefixes kept', () => {
    const output = Buffer.concat([Buffer.from(`E${nonce.slice(0, 10)} no\nS`), Buffer.from([0, 255, 10]), Buffer.from('E')]);
    const reply = Buffer.concat([Buffer.from(`stray\nS${nonce.slice(0, 5)}`), Buffer.from(`S${nonce}\n`), output, Buffer.from(`E${nonce} 42\nlate`)]);
    // Every single cut point, then every byte on its own.
    for (let i = 0; i <= reply.length; i++) {
      expect(parse(reply, [i]), `cut at ${i}`).toEqual({ body: output, phase: 'done', status: 42 });
    }
    expect(
      parse(
        reply,
        Array.from({ length: reply.length }, (_, i) => i),
      ),
    ).toEqual({ body: output, phase: 'done', status: 42 });
  });

  it('streams without waiting for more: only a tail that could begin the marker is held back', () => {
    const body: string[] = [];
    const f = new FramedStream(nonce, true, (b) => body.push(b.toString()));
    f.feed(Buffer.from(`S${nonce}\nline one\n`));
    expect(body.join('')).toBe('line one\n');
    f.feed(Buffer.from(`more E${nonce.slice(0, 3)}`));
    expect(body.join('')).toBe('line one\nmore ');
    f.feed(Buffer.from('zz'));
    expect(body.join('')).toBe(`line one\nmore E${nonce.slice(0, 3)}zz`);
  });

  it('a marker scanner finds its marker across chunks', () => {
    const s = new MarkerScanner(Buffer.from('MARK'));
    const seen: string[] = [];
    expect(s.feed(Buffer.from('abcMA'), (b) => seen.push(b.toString()))).toBeUndefined();
    expect(s.feed(Buffer.from('RKrest'), (b) => seen.push(b.toString()))?.toString()).toBe('rest');
    expect(seen.join('')).toBe('abc');
  });
});

describe('the resident loop retires itself after a command that left a process holding its output', () => {
  /**
   * Run the loop under `shell` with pipes for stdio and send one request per command; the first starts a
   * leftover (`setsid -f` + `redirect`) that lives until its FIFO is opened and closed, which is done once the
   * loop has exited, so that the pipes it may hold close. Resolves with what the loop printed and its status.
   */
  function loop(shell: string, redirect: string, more: string[]): Promise<{ stdout: string; code: number | null }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scout-leftover-'));
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const commands = [`setsid -f sh -c 'read x <${fifo}' ${redirect}`, ...more];
    return new Promise((resolve) => {
      const p = spawn(shell, ['-c', bootstrap('READY')], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let code: number | null = null;
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.resume();
      p.on('exit', (c) => {
        code = c;
        fs.closeSync(fs.openSync(fifo, 'w')); // the leftover is (or will be) blocked opening it for reading
      });
      p.on('close', () => {
        fs.rmSync(dir, { recursive: true, force: true });
        resolve({ stdout, code });
      });
      p.stdin.end(commands.map((c, i) => `s${i}\n${c}\ns${i}\n`).join(''));
    });
  }

  for (const shell of ['/bin/sh', '/bin/bash'].filter((s) => fs.existsSync(s))) {
    it(`${shell}: a leftover holding stdout, stderr or fd 5 ends the loop; one writing elsewhere does not`, async () => {
      expect(await loop(shell, '>/dev/null 2>&1', ['echo next'])).toEqual({
        stdout: expect.stringMatching(/^READY 0 [^\n]*\nSs0\nEs0 0\nSs1\nnext\nEs1 0\n$/),
        code: 0,
      });
      for (const redirect of ['', '>/dev/null', '2>/dev/null', '5>&1 >/dev/null 2>&1']) {
        expect(await loop(shell, redirect, ['echo never']), redirect).toEqual({
          stdout: expect.stringMatching(/^READY 0 [^\n]*\nSs0\nEs0 0\n$/),
          code: LEFTOVER_EXIT,
        });
      }
    });
  }
});
