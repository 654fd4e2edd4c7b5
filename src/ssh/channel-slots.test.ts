import { describe, expect, it } from 'vitest';
import { ChannelSlots } from './channel-slots.js';

describe('ChannelSlots', () => {
  it('never grants more than the limit and serves waiters in FIFO order', async () => {
    const slots = new ChannelSlots(2);
    const a = await slots.acquire();
    const b = await slots.acquire();
    const order: string[] = [];
    const c = slots.acquire().then((r) => {
      order.push('c');
      return r;
    });
    const d = slots.acquire().then((r) => {
      order.push('d');
      return r;
    });
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

  it('a burst against a server allowing 3 lowers the limit to 3, one refusal at a time', async () => {
    const slots = new ChannelSlots(10);
    const held = await Promise.all(Array.from({ length: 10 }, () => slots.acquire()));
    for (const r of held.slice(0, 3)) r.established();
    // The other 7 are refused, in the order the server answers.
    for (const r of held.slice(3)) {
      slots.refused();
      r();
    }
    expect(slots.limit).toBe(3);
    expect(slots.stats()).toMatchObject({ limit: 3, configuredLimit: 10, refused: 7, peak: 10, open: 3 });
  });

  it('a refusal below the most channels ever open (sshd freeing slots lazily) leaves the limit alone', async () => {
    const slots = new ChannelSlots(10);
    const held = await Promise.all(Array.from({ length: 10 }, () => slots.acquire()));
    for (const r of held) r.established();
    for (const r of held) r();
    const again = await Promise.all(Array.from({ length: 8 }, () => slots.acquire()));
    expect(slots.refused()).toBeUndefined();
    expect(slots.limit).toBe(10);
    for (const r of again) r();
  });

  it('settle resolves when another slot is released, before its bound', async () => {
    const slots = new ChannelSlots(2);
    const a = await slots.acquire();
    const settled = slots.settle(60_000);
    a();
    await settled;
    expect(slots.open).toBe(0);
  });
});

describe('optional channels give way', () => {
  it('a caller that has to queue signals pressure; a slot freed in response goes to it', async () => {
    const slots = new ChannelSlots(1);
    const optional = slots.tryAcquire()!;
    expect(slots.tryAcquire()).toBeUndefined();
    let pressured = 0;
    slots.onPressure = () => {
      pressured++;
      optional();
    };
    const release = await slots.acquire();
    expect(pressured).toBe(1);
    expect(slots.open).toBe(1);
    release();
    expect(slots.open).toBe(0);
  });
});
