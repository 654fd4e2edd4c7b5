import { z } from 'zod';
import { ApprovalMode } from './approvals.js';
import type { ErrorCode } from '../errors.js';
import { ByteCount, Command, HostName, MAX_OUTPUT_BYTES, RemotePath, TimeoutMs } from './common.js';
import type { ExecResult } from './ssh.js';

/** Upper bound on hosts worked on at once: each is a connection (and a dial) of its own. */
export const FLEET_MAX_CONCURRENCY = 100;
export const FLEET_DEFAULT_CONCURRENCY = 10;

const Targets = {
  /** Aliases, worked on and reported in this order. */
  hosts: z.array(HostName).min(1).max(10_000).optional(),
  /** A glob over configured aliases (`web*`, `db[12]`, `app?`), in config order. */
  pattern: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^\s\x00-\x1f\x7f]+$/, 'pattern must not contain spaces or control characters')
    .optional(),
};
const oneTarget = (p: { hosts?: unknown; pattern?: unknown }) => (p.hosts === undefined) !== (p.pattern === undefined);
const oneTargetMessage = { message: 'give exactly one of hosts or pattern', path: ['hosts'] };

export const FleetExecParams = z
  .object({
    ...Targets,
    command: Command,
    cwd: RemotePath.optional(),
    concurrency: z.number().int().positive().max(FLEET_MAX_CONCURRENCY).optional(),
    timeoutMs: TimeoutMs.optional(),
    maxOutputBytes: ByteCount.max(MAX_OUTPUT_BYTES).optional(),
    /** Send `exec.output` notifications {id, host, stream, data, encoding?} while commands run. */
    stream: z.boolean().optional(),
    /** Each host whose policy wants confirmation: wait for its decision, or fail at once (approvals). */
    approval: ApprovalMode.optional(),
  })
  .strict()
  .refine(oneTarget, oneTargetMessage);
export type FleetExecParams = z.infer<typeof FleetExecParams>;

export const FleetReadParams = z
  .object({
    ...Targets,
    path: RemotePath,
    maxBytes: ByteCount.optional(),
    concurrency: z.number().int().positive().max(FLEET_MAX_CONCURRENCY).optional(),
  })
  .strict()
  .refine(oneTarget, oneTargetMessage);
export type FleetReadParams = z.infer<typeof FleetReadParams>;

export interface FleetHostResult<R> {
  host: string;
  /** exec: the command ran and exited 0; read: the file was read. */
  ok: boolean;
  result?: R;
  /** Present when the work did not happen on this host (could not connect, unknown host, …). */
  error?: { code: ErrorCode; message: string };
}

export interface FleetResult<R> {
  /** One per host, in input order (config order for a pattern). */
  results: Array<FleetHostResult<R>>;
  summary: { ok: number; failed: number; total: number };
  durationMs: number;
}

export type FleetExecResult = FleetResult<ExecResult>;

/** Notification `fleet.progress`, tagged with the request id: one more host is done (`done` of `total`, in the order hosts finish). */
export interface FleetProgress {
  id: string | number;
  host: string;
  ok: boolean;
  done: number;
  total: number;
}
