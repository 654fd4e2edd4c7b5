// Connect retries: exponential backoff with jitter, bounded in count and in total time. Pure (clock, sleep
// and randomness are passed in) so the policy is unit-tested without sockets.

export interface BackoffPolicy {
  /** Tries after the first one. */
  retries: number;
  /** Delay before the first retry; doubles each time. */
  baseMs: number;
  /** Ceiling of one delay. */
  maxDelayMs: number;
  /** Never start an attempt with less than this left of the budget (it could not finish a handshake). */
  minAttemptMs: number;
}

/**
 * 250 ms doubling to 2 s with "equal jitter" (half fixed, half random): three retries cost 0.9–1.75 s, well
 * inside the default 10 s connect timeout, and hosts restarting together do not all come back in step.
 */
export const DEFAULT_BACKOFF: BackoffPolicy = { retries: 3, baseMs: 250, maxDelayMs: 2_000, minAttemptMs: 500 };

/** The delay before retry number `n` (1-based). */
export function backoffDelay(policy: BackoffPolicy, n: number, random: () => number = Math.random): number {
  const full = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** (n - 1));
  return Math.round(full / 2 + random() * (full / 2));
}

export interface RetryHooks<T> {
  /** One attempt, given the time it may take. */
  attempt: (timeoutMs: number, n: number) => Promise<T>;
  /** Whether a failure is worth another try. */
  transient: (err: unknown) => boolean;
  /** Called before each pause. */
  onRetry?: (err: unknown, n: number, delayMs: number) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Run `attempt` until it succeeds, fails for good, runs out of retries, or the budget would be exceeded. */
export async function withRetry<T>(policy: BackoffPolicy, budgetMs: number, hooks: RetryHooks<T>): Promise<T> {
  const now = hooks.now ?? (() => performance.now());
  const sleep = hooks.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + budgetMs;
  for (let n = 1; ; n++) {
    try {
      return await hooks.attempt(Math.max(1, Math.round(deadline - now())), n);
    } catch (err) {
      if (n > policy.retries || !hooks.transient(err)) throw err;
      const delay = backoffDelay(policy, n, hooks.random);
      if (now() + delay + policy.minAttemptMs > deadline) throw err;
      hooks.onRetry?.(err, n, delay);
      await sleep(delay);
    }
  }
}
