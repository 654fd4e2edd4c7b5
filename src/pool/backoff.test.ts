import { describe, expect, it } from 'vitest';
import { backoffDelay, withRetry, type BackoffPolicy } from './backoff.js';

const policy: BackoffPolicy = { retries: 3, baseMs: 100, maxDelayMs: 300, minAttemptMs: 50 };

/** A fake clock: sleep advances it. */
function clock() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms), advance: (ms: number) => void (t += ms) };
}

describe('connect backoff', () => {
  it('delays double up to the ceiling, with half of each delay random', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(policy, n, () => 0))).toEqual([50, 100, 150, 150]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(policy, n, () => 1))).toEqual([100, 200, 300, 300]);
  });

  it('retries transient failures and succeeds', async () => {
    const c = clock();
    const delays: number[] = [];
    let calls = 0;
    const r = await withRetry(policy, 10_000, {
      attempt: async () => {
        if (++calls < 3) throw new Error('refused');
        return 'ok';
      },
      transient: () => true,
      onRetry: (_e, _n, d) => delays.push(d),
      random: () => 0.5,
      ...c,
    });
    expect(r).toBe('ok');
    expect(calls).toBe(3);
    expect(delays).toEqual([75, 150]);
  });

  it.each([
    ['a final failure is thrown at once', 'auth', false, 1],
    ['a transient failure stops after the retry count', 'refused', true, 4],
  ])('%s', async (_name, message, transient, attempts) => {
    let calls = 0;
    await expect(
      withRetry(policy, 10_000, {
        attempt: async () => {
          calls++;
          throw new Error(message);
        },
        transient: () => transient,
        ...clock(),
      }),
    ).rejects.toThrow(message);
    expect(calls).toBe(attempts);
  });

  it('stops when the next pause would overrun the budget, and gives each attempt what is left', async () => {
    const c = clock();
    const timeouts: number[] = [];
    await expect(
      withRetry(policy, 250, {
        attempt: async (timeoutMs) => {
          timeouts.push(timeoutMs);
          c.advance(20);
          throw new Error('refused');
        },
        transient: () => true,
        random: () => 1,
        ...c,
      }),
    ).rejects.toThrow('refused');
    // 0: 250 left; +20 +100 pause → 130 left; +20 → 110 left, a 200 ms pause would overrun.
    expect(timeouts).toEqual([250, 130]);
  });
});
