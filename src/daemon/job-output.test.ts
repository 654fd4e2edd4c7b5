import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JobOutput } from './job-output.js';

const joined = (r: { pieces: Array<{ bytes: Buffer }> }) => Buffer.concat(r.pieces.map((p) => p.bytes)).toString('latin1');

describe('JobOutput', () => {
  it('keeps the newest bytes up to its capacity and says exactly how many were dropped', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.array(fc.uint8Array({ minLength: 0, maxLength: 100 }), { maxLength: 40 }), fc.integer({ min: 1, max: 200 }), (cap, chunks, maxBytes) => {
        const out = new JobOutput(cap);
        let all = '';
        for (const c of chunks) {
          out.push('stdout', Buffer.from(c));
          all += Buffer.from(c).toString('latin1');
        }
        expect(out.total).toBe(all.length);
        expect(out.keptBytes).toBeLessThanOrEqual(cap);
        // Reading through the cursor from 0 returns every kept byte once, in order, after the dropped ones.
        let offset = 0;
        let read = '';
        let dropped = 0;
        for (let guard = 0; guard < 10_000; guard++) {
          const r = out.read(offset, maxBytes);
          dropped += r.dropped;
          read += joined(r);
          if (r.nextOffset === offset) break;
          offset = r.nextOffset;
        }
        expect(offset).toBe(all.length);
        expect(dropped).toBe(Math.max(0, all.length - cap));
        expect(read).toBe(all.slice(dropped));
      }),
    );
  });

  it('filters one stream while the cursor moves through the combined output', () => {
    const out = new JobOutput(1024);
    out.push('stdout', Buffer.from('out1 '));
    out.push('stderr', Buffer.from('ERR '));
    out.push('stdout', Buffer.from('out2'));
    const all = out.read(0, 100);
    expect(joined(all)).toBe('out1 ERR out2');
    const err = out.read(0, 100, 'stderr');
    expect(joined(err)).toBe('ERR ');
    expect(err.nextOffset).toBe(13);
    const outOnly = out.read(3, 4, 'stdout');
    expect(joined(outOnly)).toBe('1 ou');
    expect(outOnly.nextOffset).toBe(11);
  });

  it('reads a tail with a negative offset', () => {
    const out = new JobOutput(8);
    out.push('stdout', Buffer.from('0123456789'));
    expect(joined(out.read(-3, 100))).toBe('789');
    const r = out.read(0, 100);
    expect(r).toMatchObject({ offset: 2, dropped: 2, nextOffset: 10 });
  });
});
