import { afterEach, describe, expect, it, vi } from 'vitest';
import { BufferPool } from './buffer-pool.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('BufferPool', () => {
  it('gives a released buffer to the next taker, once however often it is released', () => {
    const pool = new BufferPool(65536, 2, 30_000, 0);
    const a = pool.take(100);
    expect(a.buf.length).toBe(100);
    a.release();
    a.release();
    expect(pool.pooled).toBe(1);
    const b = pool.take(65536);
    expect(b.buf.buffer).toBe(a.buf.buffer); // the same memory
    const c = pool.take(10);
    expect(c.buf.buffer).not.toBe(b.buf.buffer); // the one in use is never handed out twice
    expect(pool.pooled).toBe(0);
  });

  it('does not pool what is larger than its buffers, nor more than it keeps', () => {
    const pool = new BufferPool(65536, 2, 30_000, 0);
    const big = pool.take(65537);
    expect(big.buf.length).toBe(65537);
    big.release();
    expect(pool.pooled).toBe(0);
    const held = [pool.take(1), pool.take(1), pool.take(1)];
    for (const h of held) h.release();
    expect(pool.pooled).toBe(2);
  });

  it('does not pool reads below its minimum (they become strings at once)', () => {
    const pool = new BufferPool(65536, 2, 30_000, 1024);
    const small = pool.take(1023);
    expect(small.buf.length).toBe(1023);
    small.release();
    expect(pool.pooled).toBe(0);
    pool.take(1024).release();
    expect(pool.pooled).toBe(1);
  });

  it('drops its buffers after a while unused', () => {
    vi.useFakeTimers();
    const pool = new BufferPool(65536, 2, 1000, 0);
    pool.take(1).release();
    vi.advanceTimersByTime(999);
    expect(pool.pooled).toBe(1);
    vi.advanceTimersByTime(1);
    expect(pool.pooled).toBe(0);
  });
});
