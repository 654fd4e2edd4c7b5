import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter, encodeLine, idFromHead, nestingExceeds } from './ndjson.js';

function split(chunks: string[], max = 1024) {
  const lines: string[] = [];
  const oversized: number[] = [];
  const s = new LineSplitter({ line: (l) => lines.push(l), oversized: (n) => oversized.push(n) }, max);
  for (const c of chunks) s.push(Buffer.from(c));
  return { lines, oversized };
}

describe('LineSplitter', () => {
  it('reassembles lines split across chunks and accepts CRLF', () => {
    expect(split(['{"a":', '1}\n{"b"', ':2}\r\n', '\n']).lines).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('keeps multi-byte characters split across chunks intact', () => {
    const bytes = Buffer.from('"é✓"\n');
    const lines: string[] = [];
    const s = new LineSplitter({ line: (l) => lines.push(l), oversized: () => {} });
    for (const b of bytes) s.push(Buffer.from([b]));
    expect(lines).toEqual(['"é✓"']);
  });

  it('keeps lines intact when every chunk arrives in one buffer that is overwritten after each push', () => {
    // The client reads into one reused buffer (net's onread): a line that goes on past a chunk must be copied.
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 300 }), { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 8 }), (texts, sizes) => {
        const lines = texts.map((t) => JSON.stringify(t));
        const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''));
        const got: string[] = [];
        const s = new LineSplitter({ line: (l) => got.push(l), oversized: () => {} }, 1 << 20, true);
        const reused = Buffer.alloc(97);
        for (let at = 0, i = 0; at < bytes.length; i++) {
          const n = Math.min(sizes[i % sizes.length], bytes.length - at);
          bytes.copy(reused, 0, at, at + n);
          s.push(reused.subarray(0, n));
          reused.fill(0x7b); // what the next read would leave there
          at += n;
        }
        expect(got).toEqual(lines);
      }),
    );
  });

  it('drops an oversized line, reports its size, and goes on with the next', () => {
    const r = split(['x'.repeat(600), 'y'.repeat(600) + '\n{"ok":1}\n'], 1000);
    expect(r.oversized).toEqual([1200]);
    expect(r.lines).toEqual(['{"ok":1}']);
  });

  it('encodes a message as one line even when strings hold newlines', () => {
    const line = encodeLine({ s: 'a\nb' });
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(JSON.parse(line)).toEqual({ s: 'a\nb' });
  });
});

describe('idFromHead', () => {
  it('finds the id of a request that starts as our clients write one, and nothing else', () => {
    expect(idFromHead('{"jsonrpc":"2.0","id":42,"method":"fs.write","params":{"content":"xxxx')).toBe(42);
    expect(idFromHead('{ "jsonrpc": "2.0", "id": "a\\"b", "method"')).toBe('a"b');
    expect(idFromHead('{"id":7}')).toBe(7);
    // An "id" deeper in the message is not the request's.
    expect(idFromHead('{"jsonrpc":"2.0","method":"x","params":{"id":3}')).toBeNull();
    expect(idFromHead('{"jsonrpc":"2.0","id":1.5,')).toBeNull();
    expect(idFromHead('xxxx')).toBeNull();
  });

  it('is handed the head of an oversized line', () => {
    const heads: string[] = [];
    const s = new LineSplitter({ line: () => {}, oversized: (_n, head) => heads.push(head) }, 64);
    s.push(Buffer.from('{"jsonrpc":"2.0","id":9,'));
    s.push(Buffer.from(`"p":"${'x'.repeat(100)}"}\n`));
    expect(heads).toHaveLength(1);
    expect(idFromHead(heads[0])).toBe(9);
  });

  it('is handed the whole head of an oversized line that arrived a few bytes at a time', () => {
    const heads: string[] = [];
    const s = new LineSplitter({ line: () => {}, oversized: (_n, head) => heads.push(head) }, 64);
    for (const piece of ['{"js', 'onrpc"', ':"2.0",', '"id":', '12', '3,"p":"']) s.push(Buffer.from(piece));
    s.push(Buffer.from(`${'x'.repeat(100)}"}\n`));
    expect(heads).toHaveLength(1);
    expect(idFromHead(heads[0])).toBe(123);
  });
});

describe('nestingExceeds', () => {
  it('counts array and object nesting, not brackets inside strings', () => {
    expect(nestingExceeds('{"a":[1,{"b":[]}]}', 4)).toBe(false);
    expect(nestingExceeds('{"a":[1,{"b":[[]]}]}', 4)).toBe(true);
    expect(nestingExceeds(JSON.stringify({ s: '[[[[[[[[{{{{{' }), 2)).toBe(false);
    expect(nestingExceeds(JSON.stringify({ s: 'quote \\" [[[[[' }), 1)).toBe(false);
    expect(nestingExceeds('['.repeat(65))).toBe(true);
    expect(nestingExceeds('['.repeat(64) + ']'.repeat(64))).toBe(false);
  });
});
