import { describe, expect, it } from 'vitest';
import { ScoutError } from '../protocol/errors.js';
import { follow } from './job-resources.js';
import type { Rpc } from './tool.js';

/** A daemon whose job has these byte totals, one per jobs.output call, then ends (or is forgotten). */
function fakeJob(totals: number[], end: 'exited' | 'forgotten' = 'exited') {
  const offsets: number[] = [];
  let i = 0;
  const rpc = {
    call: async (_m: string, p: { offset: number }) => {
      offsets.push(p.offset);
      if (i < totals.length) return { totalBytes: totals[i++], state: 'running' };
      if (end === 'forgotten') throw new ScoutError('NOT_FOUND', 'no such job');
      return { totalBytes: totals[totals.length - 1], state: 'exited' };
    },
  } as unknown as Rpc;
  return { rpc, offsets };
}

describe('follow', () => {
  it('tells of each growth and of the end, asking only from the end of what it knows', async () => {
    const { rpc, offsets } = fakeJob([10, 10, 25, 40]);
    let updates = 0;
    await follow(rpc, 'j1', new AbortController().signal, () => updates++, 0);
    // 10 is where it starts; a poll that comes back with nothing new is no update; 25, 40 and the end are.
    expect(updates).toBe(3);
    expect(offsets).toEqual([-1, 10, 10, 25, 40]);
  });

  it('stops when unsubscribed, and when the job is forgotten', async () => {
    const ac = new AbortController();
    let updates = 0;
    const { rpc } = fakeJob([0, 5, 6, 7, 8, 9]);
    await follow(
      rpc,
      'j1',
      ac.signal,
      () => {
        updates++;
        ac.abort();
      },
      0,
    );
    expect(updates).toBe(1);
    const gone = fakeJob([0], 'forgotten');
    await follow(gone.rpc, 'j2', new AbortController().signal, () => updates++, 0);
    expect(updates).toBe(1);
  });
});
