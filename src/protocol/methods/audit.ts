import { z } from 'zod';
import { HostName } from './common.js';

/** Upper bound on entries returned by one `audit.query` (the newest are kept). */
export const MAX_AUDIT_ENTRIES = 10_000;

export const AuditQueryParams = z
  .object({
    /** Entries that touched this host (alone or as one of a fleet call's hosts). */
    host: HostName.optional(),
    /** ISO 8601 time: entries at or after it. */
    since: z
      .string()
      .max(64)
      .refine((s) => Number.isFinite(Date.parse(s)), 'since must be an ISO 8601 time')
      .optional(),
    /** The newest N matching entries (default 1000). */
    limit: z.number().int().positive().max(MAX_AUDIT_ENTRIES).optional(),
  })
  .strict()
  .optional()
  .nullable();
export type AuditQueryParams = z.infer<typeof AuditQueryParams>;

/** One line of the audit log: who did what to which host, and how it ended. Never contents, stdin or env values. */
export interface AuditEntry {
  time: string;
  /** The client name from `daemon.hello`. */
  client: string;
  /** ssh.exec through sudo. */
  sudo?: boolean;
  method: string;
  host?: string;
  /** Fleet calls: the hosts worked on, and each one's outcome. */
  hosts?: string[];
  hostOutcomes?: Record<string, string>;
  /** Fleet calls by glob. */
  pattern?: string;
  jobId?: string;
  command?: string;
  cwd?: string;
  path?: string;
  localPath?: string;
  from?: { host: string; path: string };
  to?: { host: string; path: string };
  /** `ok` or the error code (POLICY_DENIED, HOST_KEY_MISMATCH, …). */
  outcome: string;
  exitCode?: number | null;
  /** `job.end` of a job ended by a signal (`SIGTERM`). */
  signal?: string;
  /** Calls only; `approval.*` lines have none. */
  durationMs?: number;
  /** `approval.request` / `approval.decision` lines: the id, the rule's kind, what exactly, who decided. */
  approvalId?: string;
  kind?: string;
  what?: string;
  decider?: string;
  via?: 'elicitation' | 'terminal';
  /** An approval's window (`--for`), or until when the retry may run. */
  until?: string;
  expiresAt?: string;
}

export interface AuditQueryResult {
  file: string;
  entries: AuditEntry[];
  /** More entries matched than were returned (the oldest were left out). */
  truncated: boolean;
}
