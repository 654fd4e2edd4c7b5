// Channel slots: how many channels one connection may have open at once. OpenSSH's MaxSessions defaults
// to 10; opening more makes the server refuse with "open failed", so callers beyond the limit wait here in
// FIFO order instead of failing. The limit is lowered when a server proves to allow fewer (see `refused`).
import { ScoutError, abortReason } from '../protocol/errors.js';

/** Releases a slot (idempotent). `established()` says the channel really opened (feeds the learned limit). */
export type SlotRelease = (() => void) & { established(): void };

export interface SlotStats {
  limit: number;
  /** The limit the connection started with (before any lowering). */
  configuredLimit: number;
  open: number;
  queued: number;
  /** Most slots held at once. */
  peak: number;
  /** Acquires that had to queue, and their total time in the queue. */
  waits: number;
  waitMs: number;
  /** Channel opens the server refused. */
  refused: number;
}

export class ChannelSlots {
  private used = 0;
  /** Channels confirmed open right now, and the most ever confirmed open at once. */
  private established = 0;
  proven = 0;
  private readonly waiters: Array<{ grant: () => void; reject: (e: Error) => void }> = [];
  private readonly releaseListeners = new Set<() => void>();
  readonly configuredLimit: number;
  peak = 0;
  waits = 0;
  waitMs = 0;
  refusedCount = 0;

  constructor(
    public limit: number,
    private readonly maxQueue = 1000,
  ) {
    this.configuredLimit = limit;
  }

  /** Channels currently held. */
  get open(): number {
    return this.used;
  }

  /** Callers waiting for a slot. */
  get queued(): number {
    return this.waiters.length;
  }

  stats(): SlotStats {
    return {
      limit: this.limit,
      configuredLimit: this.configuredLimit,
      open: this.used,
      queued: this.waiters.length,
      peak: this.peak,
      waits: this.waits,
      waitMs: Math.round(this.waitMs),
      refused: this.refusedCount,
    };
  }

  /** Called when a caller has to queue: holders of optional channels (idle resident shells) give theirs back. */
  onPressure?: () => void;

  /** A slot is free now and nobody queues for one: acquire() would not wait. */
  get free(): boolean {
    return this.used < this.limit && this.waiters.length === 0;
  }

  /**
   * Wait for a slot; resolves with a release function that must be called exactly once. `onGrant` runs
   * synchronously the moment the slot is taken, for a caller that also waits for something else (a resident
   * shell) and must know at once which came first.
   */
  acquire(signal?: AbortSignal, onGrant?: () => void): Promise<SlotRelease> {
    if (this.free) {
      this.take();
      onGrant?.();
      return Promise.resolve(this.releaser());
    }
    if (this.waiters.length >= this.maxQueue) {
      return Promise.reject(new ScoutError('BUSY', `too many requests waiting for a channel (${this.waiters.length} queued)`, { queued: this.waiters.length }));
    }
    if (signal?.aborted) return Promise.reject(abortReason(signal, 'the wait for a channel'));
    const queuedAt = performance.now();
    this.waits++;
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          this.waitMs += performance.now() - queuedAt;
          this.take();
          onGrant?.();
          resolve(this.releaser());
        },
        reject: (e: Error) => {
          signal?.removeEventListener('abort', onAbort);
          this.waitMs += performance.now() - queuedAt;
          reject(e);
        },
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        waiter.reject(abortReason(signal, 'the wait for a channel'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.onPressure?.();
    });
  }

  /** A slot now if one is free and nobody waits, else undefined (for optional channels that must not queue). */
  tryAcquire(): SlotRelease | undefined {
    if (!this.free) return undefined;
    this.take();
    return this.releaser();
  }

  /**
   * The server refused a channel open; call while still holding the refused slot. sshd frees a session
   * slot lazily after a channel closes (measured: 8 concurrent channels under MaxSessions 10 saw 51 of 500
   * opens refused), so a refusal proves little on its own. The limit comes down to the channels held by
   * others, but never below the most channels the server ever had open for us at once (`proven`): a burst
   * against a server allowing 3 lowers 10 → 3 one refusal at a time, while lazy refusals at or below the
   * high-water mark change nothing. Returns the new limit when it was lowered.
   */
  refused(): number | undefined {
    this.refusedCount++;
    const candidate = Math.max(1, this.proven, this.used - 1);
    if (candidate >= this.limit) return undefined;
    this.limit = candidate;
    return candidate;
  }

  /** Resolves when another slot is released, or after `maxWaitMs` (a lazily freed server slot), or on abort. */
  settle(maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.releaseListeners.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        clearTimeout(timer);
        this.releaseListeners.delete(done);
        reject(abortReason(signal, 'the wait for a channel'));
      };
      const timer = setTimeout(done, maxWaitMs);
      this.releaseListeners.add(done);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Fail everyone waiting (the connection went away). */
  rejectAll(err: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  private take(): void {
    this.used++;
    if (this.used > this.peak) this.peak = this.used;
  }

  private releaser(): SlotRelease {
    let done = false;
    let confirmed = false;
    const release = (() => {
      if (done) return;
      done = true;
      this.used--;
      if (confirmed) this.established--;
      this.pump();
      for (const l of [...this.releaseListeners]) l();
    }) as SlotRelease;
    release.established = () => {
      if (done || confirmed) return;
      confirmed = true;
      this.established++;
      if (this.established > this.proven) this.proven = this.established;
    };
    return release;
  }

  private pump(): void {
    while (this.used < this.limit && this.waiters.length > 0) this.waiters.shift()!.grant();
  }
}
