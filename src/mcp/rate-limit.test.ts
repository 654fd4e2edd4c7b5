import { describe, expect, it } from 'vitest';
import { RateLimiter, type RateLimiterOptions } from './rate-limit.js';

/** A limiter on a clock the test moves (milliseconds). */
function limiter(opts: Omit<RateLimiterOptions, 'now'>) {
  const clock = { t: 5_000 };
  return { clock, rl: new RateLimiter({ ...opts, now: () => clock.t }) };
}

describe('RateLimiter', () => {
  it('lets a burst through, then refuses with a whole-second Retry-After', () => {
    const { clock, rl } = limiter({ perMinute: 60, burst: 10 });
    const results = [];
    for (let i = 0; i < 100; i++) {
      results.push(rl.take('ci-bot'));
      clock.t += 9; // 100 takes within 0.9 s: 0.89 tokens refilled, not enough for an 11th
    }
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    expect(results.slice(0, 10).every((r) => r.ok)).toBe(true);
    for (const r of results.slice(10)) {
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(Number.isInteger(r.retryAfterSeconds)).toBe(true);
        expect(r.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('keeps each key to its own bucket', () => {
    const { rl } = limiter({ perMinute: 60, burst: 2 });
    expect(rl.take('alice').ok).toBe(true);
    expect(rl.take('alice').ok).toBe(true);
    expect(rl.take('alice').ok).toBe(false);
    expect(rl.take('bob').ok).toBe(true);
    expect(rl.take('bob').ok).toBe(true);
  });

  it('refills with time, and says how long until the next token', () => {
    const { clock, rl } = limiter({ perMinute: 6, burst: 1 }); // one token every 10 s
    expect(rl.take('k')).toEqual({ ok: true });
    expect(rl.take('k')).toEqual({ ok: false, retryAfterSeconds: 10 });
    clock.t += 2_500;
    expect(rl.take('k')).toEqual({ ok: false, retryAfterSeconds: 8 }); // 7.5 s, rounded up
    clock.t += 7_500;
    expect(rl.take('k')).toEqual({ ok: true });
  });

  it('gives a key its own rate when asked', () => {
    const { rl } = limiter({ perMinute: 60, burst: 1 });
    const own = { perMinute: 600, burst: 3 };
    expect([1, 2, 3, 4].map(() => rl.take('ci-bot', own).ok)).toEqual([true, true, true, false]);
    expect(rl.take('ci-bot', own)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect([1, 2].map(() => rl.take('other').ok)).toEqual([true, false]);
    expect(rl.take('unlimited', { perMinute: 0, burst: 1 }).ok).toBe(true);
  });

  it('is off at 0 per minute', () => {
    const { rl } = limiter({ perMinute: 0, burst: 0 });
    for (let i = 0; i < 1000; i++) expect(rl.take('k').ok).toBe(true);
    expect(rl.size).toBe(0);
  });

  it('drops buckets that have refilled, and never holds more than maxBuckets', () => {
    const { clock, rl } = limiter({ perMinute: 60, burst: 5, maxBuckets: 100 });
    for (let i = 0; i < 10_000; i++) rl.take(`address:${i}`);
    expect(rl.size).toBe(100);
    // The newest keys kept their debt: the least recently used went first.
    for (let i = 0; i < 5; i++) rl.take('address:9999');
    expect(rl.take('address:9999').ok).toBe(false);

    clock.t += 60_000; // all refilled: a full bucket is no bucket, and each take drops a few of the oldest
    for (let i = 0; i < 50; i++) rl.take('late');
    expect(rl.size).toBe(1);
  });

  it('drops full buckets before busy ones when at the bound', () => {
    const { clock, rl } = limiter({ perMinute: 60, burst: 2, maxBuckets: 3 });
    for (let i = 0; i < 2; i++) rl.take('busy');
    rl.take('idle-1');
    rl.take('idle-2');
    clock.t += 1_500; // idle-1 and idle-2 are full again; busy (2 tokens short) is not
    rl.take('busy'); // the oldest is idle-1: trimmed on this take
    rl.take('new');
    expect(rl.size).toBe(2); // idle-2 swept at the bound, busy kept
    expect(rl.take('busy').ok).toBe(false);
  });

  it('refuses a rate it cannot keep', () => {
    expect(() => new RateLimiter({ perMinute: -1, burst: 1 })).toThrow(/perMinute/);
    expect(() => new RateLimiter({ perMinute: 60, burst: 0 })).toThrow(/burst must be at least 1/);
  });
});
