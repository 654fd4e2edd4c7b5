import { describe, expect, it } from 'vitest';
import { FramedStream, MarkerScanner, fastPathObstacle } from './warm-shell.js';

describe('which commands may take the fast path', () => {
  it('redirections and lists are fine; a background & is not', () => {
    for (const ok of ['true', 'a && b', 'a 2>&1', 'a >&2', 'a <&3', 'a &> f', 'a |& b', 'echo "x"']) expect(fastPathObstacle(ok, {}), ok).toBeUndefined();
    for (const bg of ['sleep 1 &', 'a & b', '(a) &', 'a &\nb', '&']) expect(fastPathObstacle(bg, {}), bg).toBe('background');
  });

  it('$$ (the resident shell is not the command\'s shell), stdin, env, NUL and long commands fall back', () => {
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
    expect(parse(reply, Array.from({ length: reply.length }, (_, i) => i))).toEqual({ body: output, phase: 'done', status: 42 });
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
