// Channel slots: how many channels one connection may have open at once. OpenSSH's MaxSessions defaults
// to 10; opening more makes the server refuse with "open failed", so callers beyond the limit wait here in
// FIFO order instead of failing.
import { ScoutError, isScoutError } from '../protocol/errors.js';

export class ChannelSlots {
  private used = 0;
  private readonly waiters: Array<{ grant: () => void; reject: (e: Error) => void }> = [];

  constructor(public limit: number, private readonly maxQueue = 1000) {}

  /** Channels currently held. */
  get open(): number {
    return this.used;
  }

  /** Callers waiting for a slot. */
  get queued(): number {
    return this.waiters.length;
  }

  /** Wait for a slot; resolves with a release function that must be called exactly once. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.used < this.limit && this.waiters.length === 0) {
      this.used++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiters.length >= this.maxQueue) {
      return Promise.reject(new ScoutError('BUSY', `too many requests waiting for a channel (${this.waiters.length} queued)`, { queued: this.waiters.length }));
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          this.used++;
          resolve(this.releaser());
        },
        reject,
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(isScoutError(signal?.reason) ? signal.reason : new ScoutError('CANCELLED', 'cancelled while waiting for a channel'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** A slot now if one is free and nobody waits, else undefined (for optional channels that must not queue). */
  tryAcquire(): (() => void) | undefined {
    if (this.used >= this.limit || this.waiters.length > 0) return undefined;
    this.used++;
    return this.releaser();
  }

  /** Fail everyone waiting (the connection went away). */
  rejectAll(err: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.used--;
      this.pump();
    };
  }

  private pump(): void {
    while (this.used < this.limit && this.waiters.length > 0) this.waiters.shift()!.grant();
  }
}
