// A token-bucket rate limiter keyed by string (an API key's name, an OAuth principal, a client address), for
// scout-mcp --http. A bucket holds up to `burst` tokens and refills at perMinute/60 a second; a request takes one.
//
// Memory stays bounded whatever keys arrive: a bucket that has refilled to full is the same as no bucket, so it
// is dropped, and the map never holds more than maxBuckets. At that bound full buckets go first, then the least
// recently used (a Map iterates in insertion order, and every take re-inserts its key, so the first is the oldest).
// Dropping a bucket that is not full forgets a debt: under a flood of new keys an old key may get its burst back
// early. That is the price of the bound, and only a client holding many keys or addresses can collect it.

/** A rate: tokens refilled per minute (0: unlimited) and the most a bucket holds. */
export interface RateLimits {
  perMinute: number;
  burst: number;
}

export type Taken = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface RateLimiterOptions extends RateLimits {
  /** Buckets held at most; default 10 000. */
  maxBuckets?: number;
  /** Milliseconds from a monotonic clock: performance.now by default, so a wall-clock step neither refills nor starves. */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date. */
  at: number;
  /** The limits it was last taken under (a key's own rate can change while its bucket lives). */
  limits: RateLimits;
}

const DEFAULT_MAX_BUCKETS = 10_000;
/** A sweep for full buckets that found none is not repeated sooner than this: under a flood of new keys, each
 * would otherwise scan all 10 000 buckets for nothing. */
const SWEEP_INTERVAL_MS = 1_000;
/** Oldest buckets checked on each take, so idle full buckets leave without waiting for the bound. */
const TRIM_PER_TAKE = 2;

function checkLimits(l: RateLimits, what: string): void {
  if (!Number.isFinite(l.perMinute) || l.perMinute < 0) throw new Error(`${what}: perMinute must be a number ≥ 0, got ${l.perMinute}`);
  if (l.perMinute > 0 && (!Number.isFinite(l.burst) || l.burst < 1)) throw new Error(`${what}: burst must be at least 1, got ${l.burst}`);
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly limits: RateLimits;
  private readonly maxBuckets: number;
  private readonly now: () => number;
  private lastEmptySweep = Number.NEGATIVE_INFINITY;

  constructor(opts: RateLimiterOptions) {
    checkLimits(opts, 'the rate limit');
    this.limits = { perMinute: opts.perMinute, burst: opts.burst };
    this.maxBuckets = Math.max(1, opts.maxBuckets ?? DEFAULT_MAX_BUCKETS);
    this.now = opts.now ?? (() => performance.now());
  }

  /** Buckets held now (full ones are dropped, so this counts keys that are spending). */
  get size(): number {
    return this.buckets.size;
  }

  /** Take one token for `key`, under its own `limits` if given, else the limiter's. */
  take(key: string, limits: RateLimits = this.limits): Taken {
    checkLimits(limits, `the rate limit of ${key}`);
    const now = this.now();
    this.trim(now);
    const old = this.buckets.get(key);
    if (limits.perMinute === 0) {
      this.buckets.delete(key);
      return { ok: true };
    }
    const tokens = old ? Math.min(limits.burst, refilled(old, now)) : limits.burst;
    this.buckets.delete(key);
    if (!old && this.buckets.size >= this.maxBuckets) this.makeRoom(now);
    const ok = tokens >= 1;
    const bucket: Bucket = { tokens: ok ? tokens - 1 : tokens, at: now, limits };
    // Never full here (a take leaves at most burst - 1, a refusal less than 1): always worth keeping.
    this.buckets.set(key, bucket);
    if (ok) return { ok: true };
    const perSecond = limits.perMinute / 60;
    // Retry-After takes whole seconds: round up (the epsilon keeps 1.0000000001 from becoming 2), at least 1.
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perSecond - 1e-9)) };
  }

  /** Drop the oldest buckets while they have refilled to full: constant work per take. */
  private trim(now: number): void {
    for (let i = 0; i < TRIM_PER_TAKE; i++) {
      const first = this.buckets.entries().next();
      if (first.done || !isFull(first.value[1], now)) return;
      this.buckets.delete(first.value[0]);
    }
  }

  /** At the bound: drop every full bucket, then the least recently used until there is room for one. */
  private makeRoom(now: number): void {
    if (now - this.lastEmptySweep >= SWEEP_INTERVAL_MS) {
      for (const [k, b] of this.buckets) if (isFull(b, now)) this.buckets.delete(k);
      if (this.buckets.size >= this.maxBuckets) this.lastEmptySweep = now;
    }
    for (const k of this.buckets.keys()) {
      if (this.buckets.size < this.maxBuckets) break;
      this.buckets.delete(k);
    }
  }
}

function refilled(b: Bucket, now: number): number {
  // A clock that went backwards (an injected one) refills nothing rather than draining the bucket.
  return b.tokens + (Math.max(0, now - b.at) / 60_000) * b.limits.perMinute;
}

function isFull(b: Bucket, now: number): boolean {
  return refilled(b, now) >= b.limits.burst;
}
