import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Utf8Bytes, blobRefs, extractBlobs, restoreBlobs } from './blobs.js';
import { LineSplitter, encodeLine } from './ndjson.js';

/** What a daemon writes for `message` to a client that reads blobs: the bytes on the wire. */
function wire(message: unknown, min: number): Buffer {
  const ex = extractBlobs(message, min);
  if (!ex) return Buffer.from(encodeLine(message));
  return Buffer.concat([Buffer.from(encodeLine({ ...(ex.message as object), $blobs: ex.refs })), ...ex.data]);
}

/** What a client reads from `bytes` fed in `cuts` pieces: every message, blobs put back. */
function read(bytes: Buffer, cuts: number[] = []): unknown[] {
  const out: unknown[] = [];
  const s: LineSplitter = new LineSplitter({
    line: (text) => {
      const msg = JSON.parse(text);
      const refs = blobRefs(msg, 1 << 30);
      if (!refs) out.push(msg);
      else
        s.takeRaw(
          refs.reduce((n, r) => n + r.bytes, 0),
          (raw) => out.push(restoreBlobs(msg, refs, raw)),
        );
    },
    oversized: () => {
      throw new Error('oversized');
    },
  });
  let at = 0;
  for (const c of [...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length]) {
    s.push(bytes.subarray(at, c));
    at = c;
  }
  return out;
}

describe('blobs', () => {
  it('sends long strings after the line and puts them back byte-exact, split anywhere', () => {
    const big = 'é✓'.repeat(50) + 'x'.repeat(200);
    const msg = { jsonrpc: '2.0', id: 3, result: { content: big, list: [{ stdout: big.toUpperCase(), short: 'hi' }], n: 5 } };
    const bytes = wire(msg, 100);
    // The line is short: the long strings are not in it.
    expect(bytes.indexOf(0x0a)).toBeLessThan(200);
    expect(read(bytes)).toEqual([msg]);
    for (let cut = 1; cut < bytes.length; cut += 7) expect(read(bytes, [cut, cut + 3])).toEqual([msg]);
  });

  it('reads payloads past the reused buffer, and the reused one again after them', () => {
    // Pieces of 64 KiB: characters of 2 and 4 bytes cut at every offset of a piece's end.
    const msgs = [{ a: 'x'.repeat(70_000) }, { b: 'é'.repeat(3_000_000) }, { c: 'z'.repeat(90_000) }, ...[1, 2, 3].map((n) => ({ d: 'y'.repeat(n) + '😀é'.repeat(40_000) }))];
    const bytes = Buffer.concat(msgs.map((m) => wire(m, 1000)));
    expect(
      read(
        bytes,
        Array.from({ length: 40 }, (_, i) => i * 200_003),
      ),
    ).toEqual(msgs);
  });

  it('sends Utf8Bytes as they are, and as their string to JSON', () => {
    const text = Buffer.from('ü'.repeat(2000));
    const msg = { result: { content: new Utf8Bytes(text), small: new Utf8Bytes(Buffer.from('ok')) } };
    const ex = extractBlobs(msg, 100)!;
    expect(ex.data[0]).toBe(text); // no copy
    expect(ex.message).toEqual({ result: { content: '', small: 'ok' } });
    expect(JSON.parse(JSON.stringify(msg))).toEqual({ result: { content: 'ü'.repeat(2000), small: 'ok' } });
    expect(read(wire(msg, 100))).toEqual([{ result: { content: 'ü'.repeat(2000), small: 'ok' } }]);
  });

  it('leaves the input untouched and a message without long strings as it is', () => {
    const msg = { result: { content: 'y'.repeat(300), other: { a: 1 } } };
    const before = JSON.stringify(msg);
    const ex = extractBlobs(msg, 100);
    expect(JSON.stringify(msg)).toBe(before);
    expect((ex!.message as typeof msg).result.other).toBe(msg.result.other); // unchanged parts are shared
    expect(extractBlobs({ result: { content: 'short' } }, 100)).toBeNull();
  });

  it('keeps a string with a lone surrogate in the JSON (UTF-8 cannot carry it)', () => {
    const odd = `${'a'.repeat(200)}\ud800`;
    expect(extractBlobs({ s: odd }, 100)).toBeNull();
    expect(read(wire({ s: odd }, 100))).toEqual([{ s: odd }]);
  });

  it('refuses a manifest that is malformed, points at no string, or announces more than a message may have', () => {
    expect(() => blobRefs({ $blobs: [] }, 100)).toThrow(/non-empty/);
    expect(() => blobRefs({ $blobs: [{ at: [], bytes: 1 }] }, 100)).toThrow(/not \{at/);
    expect(() => blobRefs({ $blobs: [{ at: ['a'], bytes: -1 }] }, 100)).toThrow(/not \{at/);
    expect(() =>
      blobRefs(
        {
          $blobs: [
            { at: ['a'], bytes: 60 },
            { at: ['b'], bytes: 60 },
          ],
        },
        100,
      ),
    ).toThrow(/120 bytes, over the 100/);
    expect(() => restoreBlobs({ a: 1, $blobs: 0 }, [{ at: ['a'], bytes: 1 }], Buffer.from('x'))).toThrow(/not a string/);
    expect(() => restoreBlobs({ $blobs: 0 }, [{ at: ['__proto__', 'x'], bytes: 1 }], Buffer.from('x'))).toThrow(/not a string/);
    expect(blobRefs({ id: 1, result: {} }, 100)).toBeNull();
  });

  it('round-trips any JSON message, however the bytes are cut (property)', () => {
    const text = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ unit: 'grapheme', minLength: 20, maxLength: 80 }));
    const json = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        text,
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(fc.string({ maxLength: 5 }), tie('v'), { maxKeys: 4 }),
      ),
    })).v;
    fc.assert(
      fc.property(fc.array(fc.dictionary(fc.string({ maxLength: 5 }), json, { maxKeys: 4 }), { minLength: 1, maxLength: 3 }), fc.array(fc.nat(4000), { maxLength: 6 }), (msgs, cuts) => {
        const bytes = Buffer.concat(msgs.map((m) => wire(m, 16)));
        expect(read(bytes, cuts)).toEqual(JSON.parse(JSON.stringify(msgs)));
      }),
      { numRuns: 300 },
    );
  });
});
