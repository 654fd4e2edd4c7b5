import { describe, expect, it } from 'vitest';
import { isScoutError } from '../protocol/errors.js';
import { Approvals } from './approvals.js';
import type { CallContext } from './context.js';
import type { Grant } from './grant.js';
import type { Policy } from './policy.js';

const policy = { confirmReason: (host: string) => `commands on ${host} need a person's approval` } as unknown as Policy;

function ctx(clientName: string, sessionId = 1, grant?: Grant): CallContext {
  return { clientName, sessionId, rpcId: 1, grant, notify: () => true, signal: new AbortController().signal } as unknown as CallContext;
}

const code = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return isScoutError(err) ? err.code : String(err);
  }
};

const idOf = async (a: Approvals, c: CallContext, what: string): Promise<string> => {
  try {
    await a.check(c, 'fail', { host: 'web1', kinds: ['command'], what });
  } catch (err) {
    if (isScoutError(err, 'APPROVAL_PENDING')) return String(err.details.approvalId);
  }
  throw new Error('expected APPROVAL_PENDING');
};

describe('Approvals', () => {
  it('an approval runs the retry of the client that asked, once; another client is asked itself', async () => {
    const audit: unknown[] = [];
    const a = new Approvals({ policy: () => policy, timeoutMs: 60_000, audit: (e) => audit.push(e) });
    const agent = ctx('scout-mcp key:a', 7);
    const id = await idOf(a, agent, 'touch x');
    // The retry before a decision reuses the same id.
    expect(await idOf(a, agent, 'touch x')).toBe(id);
    a.decide(ctx('scoutctl', 9), id, true, undefined);
    expect(await code(a.check(ctx('scout-mcp key:b', 8), 'fail', { host: 'web1', kinds: ['command'], what: 'touch x' }))).toBe('APPROVAL_PENDING');
    expect(await code(a.check(agent, 'fail', { host: 'web1', kinds: ['command'], what: 'touch x' }))).toBe('ok');
    expect(await code(a.check(agent, 'fail', { host: 'web1', kinds: ['command'], what: 'touch x' }))).toBe('APPROVAL_PENDING');
    expect(audit.map((e) => (e as { method: string; outcome: string }).outcome)).toEqual(['pending', 'approved', 'pending', 'pending']);
  });

  it('a window covers the same action until it ends; a denial refuses the retry', async () => {
    let now = 0;
    const a = new Approvals({ policy: () => policy, timeoutMs: 60_000, audit: () => {}, now: () => now });
    const c = ctx('scout-mcp');
    a.decide(ctx('scoutctl'), await idOf(a, c, 'touch w'), true, 600_000);
    for (let i = 0; i < 3; i++) expect(await code(a.check(c, 'fail', { host: 'web1', kinds: ['command'], what: 'touch w' }))).toBe('ok');
    now += 600_001;
    expect(await code(a.check(c, 'fail', { host: 'web1', kinds: ['command'], what: 'touch w' }))).toBe('APPROVAL_PENDING');
    a.decide(ctx('scoutctl'), await idOf(a, c, 'touch d'), false, undefined);
    expect(await code(a.check(c, 'fail', { host: 'web1', kinds: ['command'], what: 'touch d' }))).toBe('POLICY_DENIED');
  });

  it('a waiting call runs on approval; a narrowed connection may decide only what its own calls asked', async () => {
    const a = new Approvals({ policy: () => policy, timeoutMs: 60_000, audit: () => {} });
    const key = ctx('scout-mcp key:a', 3, {} as Grant);
    const other = ctx('scout-mcp key:b', 4, {} as Grant);
    const waiting = a.check(key, 'wait', { host: 'web1', kinds: ['command'], what: 'touch z' });
    const [p] = a.list();
    expect(() => a.decide(other, p.id, true, undefined)).toThrow(/no pending approval/);
    a.decide(key, p.id, true, undefined);
    await expect(waiting).resolves.toBeUndefined();
    // The waiting call took the approval: nothing is left for a later one.
    expect(await code(a.check(key, 'fail', { host: 'web1', kinds: ['command'], what: 'touch z' }))).toBe('APPROVAL_PENDING');
  });
});
