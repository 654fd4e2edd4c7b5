// Human approval for what the policy marks `confirm`: a call that needs it waits, bounded, for a person's
// decision, or (a caller that cannot wait) fails at once with APPROVAL_PENDING and the id to decide. The caller
// hears `approval.pending` either way, so a client that can ask its person (scoutctl on a terminal, scout-mcp
// through MCP elicitation) asks and answers with approvals.decide; anyone else decides with `scoutctl approve`.
// An approval runs the call that waits for it, or the first retry of the same action; `--for` makes it a
// window in which the same action on the same host runs without asking. Request and decision are audited.
import { ScoutError } from '../protocol/errors.js';
import type { ApprovalInfo, ApprovalKind, ApprovalMode, AuditEntry } from '../protocol/methods/index.js';
import type { CallContext } from './context.js';
import type { Policy } from './policy.js';

/** What may need approval: an action on a host, the kinds of rule it falls under (first match asks), and what exactly. */
export interface Action {
  host: string;
  kinds: ApprovalKind[];
  /** The command, or the path / forward spec, as a person reads it. */
  what: string;
  cwd?: string;
}

/** Ask (if the policy says so) before `action`; resolves when it may go ahead. */
export type Approve = (action: Action) => Promise<void>;

interface Pending extends ApprovalInfo {
  expiresMs: number;
  session: number;
  /** Calls waiting for it (mode 'wait'); with none, its caller will retry. */
  waiters: Set<(approved: boolean, by: string) => void>;
}

interface Grant {
  /** The client that asked (daemon.hello name): the decision covers its calls only. */
  client: string;
  host: string;
  kind: ApprovalKind;
  what: string;
  untilMs: number;
  /** Used up by the first action it covers (an approval without --for). */
  once: boolean;
  /** A denial: the retry of a call that could not wait is refused with it rather than asked again. */
  denied?: { by: string; id: string; reason: string };
}

export interface ApprovalsOptions {
  policy: () => Policy;
  /** How long a pending approval waits for a decision (SCOUT_APPROVAL_TIMEOUT). */
  timeoutMs: number;
  audit: (entry: Omit<AuditEntry, 'time'>) => void;
  now?: () => number;
}

/** Pending approvals kept at once: a runaway agent retrying in 'fail' mode reuses its id, so this is plenty. */
const MAX_PENDING = 1000;

export class Approvals {
  private readonly pending = new Map<string, Pending>();
  private grants: Grant[] = [];
  private seq = 0;

  constructor(private readonly opts: ApprovalsOptions) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /**
   * Return when `action` may go ahead: at once when the policy asks no confirmation or a grant covers it;
   * else after a person approves. Throws POLICY_DENIED when denied or expired, APPROVAL_PENDING in 'fail' mode.
   */
  async check(ctx: CallContext, mode: ApprovalMode | undefined, act: Action): Promise<void> {
    const policy = this.opts.policy();
    let reason: string | undefined;
    const kind = act.kinds.find((k) => (reason = policy.confirmReason(act.host, k, act.what)) !== undefined);
    if (kind === undefined || reason === undefined) return;
    const action = { host: act.host, kind, what: act.what, cwd: act.cwd };
    const now = this.now();
    this.grants = this.grants.filter((g) => g.untilMs > now);
    // A decision is for the client that asked: another agent sending the same command is asked itself.
    const g = this.grants.find((x) => x.client === ctx.clientName && x.host === action.host && x.kind === action.kind && x.what === action.what);
    if (g) {
      if (g.once) this.grants = this.grants.filter((x) => x !== g);
      if (g.denied) throw declined(g.denied.reason, g.denied.by, g.denied.id, action.host);
      return;
    }
    const p = this.request(ctx, action, reason);
    const { id: approvalId, ...info } = this.info(p);
    ctx.notify('approval.pending', { id: ctx.rpcId, approvalId, ...info });
    if (mode === 'fail') {
      throw new ScoutError(
        'APPROVAL_PENDING',
        `${reason}: approval ${p.id} is pending. Ask the user to run 'scoutctl approve ${p.id}' (or 'scoutctl deny ${p.id}'), then make the same call again; it expires at ${p.expiresAt}`,
        { approvalId: p.id, host: action.host, expiresAt: p.expiresAt },
      );
    }
    await this.wait(ctx, p);
  }

  /** `check` bound to one call: what handlers pass down to where the action is known. */
  asker(ctx: CallContext, mode: ApprovalMode | undefined): Approve {
    return (action) => this.check(ctx, mode, action);
  }

  /** A new pending approval, or the one this action already waits on (a retry in 'fail' mode). */
  private request(ctx: CallContext, action: Omit<Action, 'kinds'> & { kind: ApprovalKind }, reason: string): Pending {
    const now = this.now();
    for (const [id, p] of this.pending) if (p.expiresMs <= now) this.expire(id);
    const same = [...this.pending.values()].find((p) => p.host === action.host && p.kind === action.kind && p.what === action.what && p.client === ctx.clientName);
    if (same) return same;
    if (this.pending.size >= MAX_PENDING) throw new ScoutError('LIMIT_REACHED', `${MAX_PENDING} approvals are pending already: decide some (scoutctl approvals)`, { limit: MAX_PENDING });
    const id = `a${++this.seq}`;
    const expiresMs = now + this.opts.timeoutMs;
    const p: Pending = {
      id,
      host: action.host,
      kind: action.kind,
      what: action.what,
      ...(action.cwd ? { cwd: action.cwd } : {}),
      reason,
      client: ctx.clientName,
      requestedAt: new Date(now).toISOString(),
      expiresAt: new Date(expiresMs).toISOString(),
      expiresMs,
      session: ctx.sessionId,
      waiters: new Set(),
    };
    this.pending.set(id, p);
    this.opts.audit({ method: 'approval.request', approvalId: id, client: p.client, host: p.host, kind: p.kind, what: p.what, cwd: p.cwd, outcome: 'pending', expiresAt: p.expiresAt });
    return p;
  }

  private wait(ctx: CallContext, p: Pending): Promise<void> {
    if (ctx.signal.aborted) return Promise.reject(ctx.signal.reason);
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        p.waiters.delete(decided);
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', onAbort);
      };
      const timer = setTimeout(() => {
        done();
        this.expire(p.id);
        reject(expired(p, this.opts.timeoutMs));
      }, p.expiresMs - this.now());
      const onAbort = () => {
        // The caller gave up: the request stays for a later retry until it expires.
        done();
        reject(ctx.signal.reason);
      };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      const decided = (approved: boolean, by: string) => {
        done();
        if (approved) resolve();
        else reject(declined(p.reason, by, p.id, p.host));
      };
      p.waiters.add(decided);
    });
  }

  private expire(id: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.opts.audit({ method: 'approval.decision', approvalId: id, client: p.client, host: p.host, kind: p.kind, what: p.what, outcome: 'expired' });
  }

  list(): ApprovalInfo[] {
    const now = this.now();
    for (const [id, p] of this.pending) if (p.expiresMs <= now) this.expire(id);
    return [...this.pending.values()].map((p) => this.info(p));
  }

  /**
   * A person's decision. The owner (an un-narrowed connection) decides any; a narrowed one (an HTTP key) only
   * the approvals its own calls asked for, which is how MCP elicitation answers on a key's connection.
   */
  decide(ctx: CallContext, id: string, approve: boolean, forMs: number | undefined, via?: 'elicitation' | 'terminal'): ApprovalInfo & { decision: 'approved' | 'denied' } {
    const p = this.pending.get(id);
    if (!p || p.expiresMs <= this.now() || (ctx.grant && p.session !== ctx.sessionId))
      throw new ScoutError('NOT_FOUND', `no pending approval ${id} (it may have been decided or have expired: scoutctl approvals)`, { approvalId: id });
    this.pending.delete(id);
    const by = via === 'elicitation' ? `the user (asked through ${ctx.clientName})` : via === 'terminal' ? `the user at ${ctx.clientName}'s terminal` : ctx.clientName;
    const untilMs = this.now() + (forMs ?? this.opts.timeoutMs);
    // Without --for, an approval runs the call waiting for it, or else the first retry of a call that could
    // not wait; with --for, also every same action on the host until then.
    if (approve && (forMs !== undefined || p.waiters.size === 0)) this.grants.push({ client: p.client, host: p.host, kind: p.kind, what: p.what, untilMs, once: forMs === undefined });
    if (!approve && p.waiters.size === 0) this.grants.push({ client: p.client, host: p.host, kind: p.kind, what: p.what, untilMs, once: true, denied: { by, id, reason: p.reason } });
    this.opts.audit({
      method: 'approval.decision',
      approvalId: id,
      client: p.client,
      decider: by,
      ...(via ? { via } : {}),
      host: p.host,
      kind: p.kind,
      what: p.what,
      outcome: approve ? 'approved' : 'denied',
      ...(approve && (forMs !== undefined || p.waiters.size === 0) ? { until: new Date(untilMs).toISOString() } : {}),
    });
    for (const w of [...p.waiters]) w(approve, by);
    return { ...this.info(p), decision: approve ? 'approved' : 'denied' };
  }

  private info(p: Pending): ApprovalInfo {
    return { id: p.id, host: p.host, kind: p.kind, what: p.what, ...(p.cwd ? { cwd: p.cwd } : {}), reason: p.reason, client: p.client, requestedAt: p.requestedAt, expiresAt: p.expiresAt };
  }
}

function declined(reason: string, by: string, id: string, host: string): ScoutError {
  return new ScoutError('POLICY_DENIED', `${reason}: declined by ${by} (approval ${id})`, { host, approvalId: id, reason: 'declined' });
}

function expired(p: Pending, timeoutMs: number): ScoutError {
  return new ScoutError('POLICY_DENIED', `${p.reason}: nobody decided within ${Math.round(timeoutMs / 1000)} s, so approval ${p.id} expired`, { host: p.host, approvalId: p.id, reason: 'expired' });
}
