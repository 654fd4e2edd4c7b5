import type { ApprovalDecideResult, ApprovalsListResult } from '../../protocol/methods/index.js';
import type { Handlers, Services } from '../context.js';

export function approvalsHandlers(svc: Services): Handlers<'approvals.list' | 'approvals.decide'> {
  return {
    'approvals.list': (): ApprovalsListResult => ({ approvals: svc.approvals.list() }),
    'approvals.decide': (p, ctx): ApprovalDecideResult => svc.approvals.decide(ctx, p.id, p.approve, p.forMs, p.via),
  };
}
