import { describe, expect, it } from 'vitest';
import { ChannelSlots } from './channel-slots.js';

describe('ChannelSlots', () => {
  it('never grants more than the limit and serves waiters in FIFO order', async () => {
    const slots = new ChannelSlots(2);
    const a = await slots.acquire();
    const b = await slots.acquire();
    const order: string[] = [];
    const c = slots.acquire().then((r) => (order.push('c'), r));
    const d = slots.acquire().then((r) => (order.push('d'), r));
    expect(slots.open).toBe(2);
    expect(slots.queued).toBe(2);
    a();
    a(); // a second release of the same slot is ignored
    const rc = await c;
    expect(slots.open).toBe(2);
    b();
    const rd = await d;
    expect(order).toEqual(['c', 'd']);
    rc();
    rd();
    expect(slots.open).toBe(0);
  });

  it('answers BUSY at once when the queue is full, and lets an aborted waiter go', async () => {
    const slots = new ChannelSlots(1, 1);
    await slots.acquire();
    const ac = new AbortController();
    const waiting = slots.acquire(ac.signal);
    await expect(slots.acquire()).rejects.toMatchObject({ code: 'BUSY' });
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(slots.queued).toBe(0);
  });
});
