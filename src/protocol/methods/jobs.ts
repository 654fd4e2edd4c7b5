// Background jobs: a command that outlives the call and the client that started it, owned by scoutd, with its
// output kept in a bounded buffer and read by cursor (absolute byte offsets into the job's combined output).
import { z } from 'zod';
import type { ErrorCode } from '../errors.js';
import { CommandFields, HostName, TimeoutMs } from './common.js';

/** Signal names an SSH `signal` channel request may carry (RFC 4254 §6.10, without the SIG prefix). */
export const JOB_SIGNALS = ['TERM', 'KILL', 'INT', 'HUP', 'QUIT', 'USR1', 'USR2', 'ALRM', 'PIPE', 'ABRT', 'FPE', 'ILL', 'SEGV'] as const;

/** Upper bound on one long-poll (`waitMs`) and one `jobs.wait`: a poller that needs longer simply polls again. */
export const MAX_JOB_WAIT_MS = 300_000;
/** Bytes returned by one `jobs.output` call unless `maxBytes` says otherwise: small enough for an agent's context. */
export const DEFAULT_JOB_READ_BYTES = 64 * 1024;
/** Upper bound on `maxBytes` (base64 grows it by 4/3; a wire line is limited to 16 MiB). */
export const MAX_JOB_READ_BYTES = 8 * 1024 * 1024;

export const JobId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'jobId must be a job id from jobs.start or jobs.list');

export const JobStartParams = z
  .object({
    ...CommandFields,
    /** Upper bound on the job's run time; default SCOUT_JOB_TIMEOUT. */
    timeoutMs: TimeoutMs.optional(),
    /**
     * Run detached on the host (its own session, output in a file there) so that it survives a dropped link and
     * a scoutd restart, and is reattached by id. stdout and stderr are one stream, in the order written.
     */
    durable: z.boolean().optional(),
  })
  .strict();
export type JobStartParams = z.infer<typeof JobStartParams>;
export interface JobStartResult {
  jobId: string;
}

export const JobOutputParams = z
  .object({
    jobId: JobId,
    /** Only this stream's bytes; offsets stay positions in the combined output. Default: both, interleaved as they arrived. */
    stream: z.enum(['stdout', 'stderr', 'all']).optional(),
    /** Absolute byte offset to read from (a previous `nextOffset`); negative counts back from the end (a tail). Default 0. */
    offset: z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).optional(),
    maxBytes: z.number().int().positive().max(MAX_JOB_READ_BYTES).optional(),
    /** Long-poll: when nothing is there yet, wait this long for new output or the end of the job. */
    waitMs: z.number().int().nonnegative().max(MAX_JOB_WAIT_MS).optional(),
  })
  .strict();
export type JobOutputParams = z.infer<typeof JobOutputParams>;

/** `unknown`: a durable job whose host cannot be reached now (it most likely runs on); never for a plain job. */
export type JobState = 'running' | 'unknown' | 'exited' | 'failed' | 'lost';

export interface JobOutputResult {
  jobId: string;
  /** The bytes read: UTF-8 text, or base64 when `encoding` says so. */
  data: string;
  encoding?: 'utf8' | 'base64';
  /** Where `data` starts (the requested offset, moved past bytes no longer kept). */
  offset: number;
  /** Pass this as `offset` next time. */
  nextOffset: number;
  /** Bytes between the requested offset and `offset` that were dropped from the buffer (oldest first). */
  dropped: number;
  /** Bytes the job has printed so far (both streams). */
  totalBytes: number;
  /** The job has ended and everything up to its end has been read. */
  done: boolean;
  state: JobState;
  exitCode?: number | null;
  signal?: string | null;
  error?: { code: ErrorCode; message: string };
}

export const JobListParams = z.object({ host: HostName.optional() }).strict().optional().nullable();

export interface JobInfo {
  jobId: string;
  host: string;
  command: string;
  cwd?: string;
  /** The client that started it (`daemon.hello` name). */
  client: string;
  /** Detached on its host, followed from there: survives dropped links and scoutd restarts. */
  durable?: boolean;
  state: JobState;
  startedAt: string;
  endedAt?: string;
  durationMs: number;
  /** Bytes printed (both streams), including any dropped from the buffer. */
  bytes: number;
  stdoutBytes: number;
  stderrBytes: number;
  /** Bytes no longer in the buffer (the oldest). */
  droppedBytes: number;
  /** Bytes of output held in the daemon's memory now (at most SCOUT_JOB_BUFFER). */
  keptBytes: number;
  exitCode: number | null;
  /** The signal that ended the command, as ssh.exec reports it (`SIGTERM`). */
  signal: string | null;
  /** Why a `failed` or `lost` job ended (COMMAND_TIMEOUT, CONNECTION_LOST, SHUTTING_DOWN…). */
  error?: { code: ErrorCode; message: string };
}
export interface JobListResult {
  jobs: JobInfo[];
}

export const JobSignalParams = z
  .object({
    jobId: JobId,
    signal: z
      .string()
      .max(16)
      .transform((s) => s.toUpperCase().replace(/^SIG/, ''))
      .pipe(z.enum(JOB_SIGNALS)),
  })
  .strict();
export type JobSignalParams = z.infer<typeof JobSignalParams>;
export interface JobSignalResult {
  jobId: string;
  /** The signal sent, by its RFC 4254 name (`TERM`; `SIGTERM` and `term` are accepted as input). */
  signal: string;
  /** False when the job had already ended (nothing to signal). */
  sent: boolean;
  state: JobState;
}

export const JobWaitParams = z
  .object({
    jobId: JobId,
    /** Return after this long even if the job still runs (its state then says `running`). Default 30 s. */
    timeoutMs: z.number().int().nonnegative().max(MAX_JOB_WAIT_MS).optional(),
  })
  .strict();

export const JobForgetParams = z.object({ jobId: JobId }).strict();
export interface JobForgetResult {
  jobId: string;
  forgotten: boolean;
}
