import { z } from 'zod';

/** What a `confirm` rule covers (docs/security.md, per-host policy). */
export const ApprovalKind = z.enum(['command', 'write', 'transfer', 'job', 'forward', 'sudo']);
export type ApprovalKind = z.infer<typeof ApprovalKind>;

/**
 * What a call does when it needs approval: 'wait' (default) holds it until a person decides or the approval
 * expires (SCOUT_APPROVAL_TIMEOUT); 'fail' answers at once with APPROVAL_PENDING and the id, and the same call
 * made again after `scoutctl approve ID` runs. Either way the caller gets an `approval.pending` notification.
 */
export const ApprovalMode = z.enum(['wait', 'fail']);
export type ApprovalMode = z.infer<typeof ApprovalMode>;

export interface ApprovalInfo {
  /** `a1`, `a2`…: what `scoutctl approve` takes. */
  id: string;
  host: string;
  kind: ApprovalKind;
  /** The command, or the path or forward, exactly as it would run. */
  what: string;
  cwd?: string;
  /** Why it needs approval, from the policy ("commands on web1 need approval"). */
  reason: string;
  /** The client that asks (its daemon.hello name: `scout-mcp`, `scout-mcp key:ci-bot`, `scoutctl`). */
  client: string;
  requestedAt: string;
  expiresAt: string;
}

/** Notification `approval.pending`, tagged with the id of the call that needs it (`id`, as every notification). */
export interface ApprovalPending extends Omit<ApprovalInfo, 'id'> {
  id: string | number;
  approvalId: string;
}

export const ApprovalsListParams = z.object({}).strict().optional().nullable();
export interface ApprovalsListResult {
  approvals: ApprovalInfo[];
}

export const ApprovalDecideParams = z
  .object({
    id: z.string().regex(/^a[0-9]+$/, 'an approval id like a1'),
    approve: z.boolean(),
    /** Approve this action on this host for this long without asking again (ms, at most a day). */
    forMs: z
      .number()
      .int()
      .min(1000)
      .max(24 * 3600 * 1000)
      .optional(),
    /** How the person was asked, for the refusal text and the audit log. */
    via: z.enum(['elicitation', 'terminal']).optional(),
  })
  .strict()
  .refine((p) => p.approve || p.forMs === undefined, { message: 'forMs goes with approve: true' });
export type ApprovalDecideParams = z.infer<typeof ApprovalDecideParams>;
export interface ApprovalDecideResult extends ApprovalInfo {
  decision: 'approved' | 'denied';
}
