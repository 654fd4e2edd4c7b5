// audit.query: the daemon reads its own audit log for `scoutctl audit` (clients never open daemon files).
import type { AuditQueryResult } from '../../protocol/methods/index.js';
import type { Handlers, Services } from '../context.js';

const DEFAULT_AUDIT_ENTRIES = 1000;

export function auditHandlers(svc: Services): Handlers<'audit.query'> {
  return {
    'audit.query': (p): AuditQueryResult => svc.audit.query({ host: p?.host, since: p?.since, limit: p?.limit ?? DEFAULT_AUDIT_ENTRIES }),
  };
}
