import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { table, visible, writeOrWait } from './output.js';

describe('visible', () => {
  it('shows control characters, C1 and bidi overrides as escapes and leaves other text alone', () => {
    expect(visible('a\x1b[2Jb')).toBe('a\\x1b[2Jb');
    expect(visible('l1\nl2\tx\r')).toBe('l1\\nl2\\tx\\r');
    expect(visible('\x7f\x9b\u202e\u2066')).toBe('\\x7f\\x9b\\u202e\\u2066');
    expect(visible('héllo ✓ 日本')).toBe('héllo ✓ 日本');
  });

  it('is applied to every table cell', () => {
    expect(table([['x\x1b', 'y']], ['A', 'B'])).not.toContain('\x1b');
  });
});

describe('writeOrWait', () => {
  it('waits for drain on a full stream and leaves no listener behind', async () => {
    const out = new Writable({ highWaterMark: 1, write: (_chunk, _enc, done) => setImmediate(done) });
    const before = out.listenerCount('error');
    let waited = 0;
    for (let i = 0; i < 30; i++) {
      const wait = writeOrWait(out, 'xx');
      if (wait) {
        waited++;
        await wait;
      }
    }
    expect(waited).toBe(30);
    expect(out.listenerCount('error')).toBe(before);
    expect(out.listenerCount('drain')).toBe(0);
  });

  it('writes that find the stream full before it drains share one wait (one listener pair)', async () => {
    const out = new Writable({ highWaterMark: 1, write: (_chunk, _enc, done) => setImmediate(done) });
    const before = out.listenerCount('error');
    const waits = Array.from({ length: 20 }, () => writeOrWait(out, 'xx'));
    expect(waits.every((w) => w instanceof Promise)).toBe(true);
    expect(out.listenerCount('drain')).toBe(1);
    expect(out.listenerCount('error')).toBe(before + 1);
    await Promise.all(waits);
    expect(out.listenerCount('drain')).toBe(0);
    expect(out.listenerCount('error')).toBe(before);
  });
});
