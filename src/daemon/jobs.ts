// Background jobs: commands owned by scoutd rather than by a call, so they outlive the client that started
// them. Each job holds its pooled connection in use (the idle reaper and LRU eviction leave it alone) and one
// channel slot for its whole life; its output goes to a bounded ring (job-output.ts) read by cursor.
// A client disconnect never stops a job (unlike ssh.exec): only jobs.signal, the job's timeout, a lost
// connection or daemon shutdown end it.
// A durable job (durable-jobs.ts) runs detached on its host instead: it holds a channel only to follow its
// output, survives lost connections and daemon restarts (journaled in job-journal.ts), and its output ring is
// refilled from the host.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { HostRegistry } from '../hosts/registry.js';
import type { Pool } from '../pool/pool.js';
import { ScoutError, isScoutError, shuttingDown } from '../protocol/errors.js';
import type { JobInfo, JobState } from '../protocol/methods/jobs.js';
import type { SshConnection } from '../ssh/connection.js';
import { KILL_GRACE_MS, MAX_TIMER_MS, TERM_GRACE_MS, type ExecControl, type ExecOutcome, type OutputStream } from '../ssh/exec.js';
import type { StartedCommand } from './remote/exec.js';
import { JobOutput, type OutputRead } from './job-output.js';
import { DurableTracker, type DurableRef } from './durable-jobs.js';
import type { DurableEnd, DurableRecord, JobJournal } from './job-journal.js';

/** Extra time, beyond exec's TERM → KILL ladder, that shutdown waits for a stopped job's channel to close. */
const SHUTDOWN_SLACK_MS = 1_000;
/** A durable job's files that could not be removed at its TTL are tried again this often. */
const TTL_RETRY_MS = 5 * 60_000;
/** Longest command text kept in logs and listings (a heredoc can be megabytes). */
const COMMAND_SHOWN_CHARS = 500;

export interface JobLimits {
  /** Bytes of output kept per job (the ring's capacity). */
  bufferBytes: number;
  /** Finished jobs are forgotten this long after they end. */
  ttlMs: number;
  /** Jobs kept at once (running and finished); the oldest finished one makes room when full. */
  maxJobs: number;
  /** Running jobs per host: each holds a channel slot, so this must stay below MaxSessions. */
  maxJobsPerHost: number;
  /** Default bound on a job's run time. */
  defaultTimeoutMs: number;
}

/** What a job is, as listed (the command itself is started by the caller's `launch`). */
export interface JobStartRequest {
  host: string;
  command: string;
  cwd?: string;
  timeoutMs?: number;
  client: string;
}

export class Job {
  endedAt: Date | undefined;
  state: JobState = 'running';
  exitCode: number | null = null;
  signal: string | null = null;
  error: ScoutError | undefined;
  readonly output: JobOutput;
  /** Aborting stops the command (TERM, then KILL, then close): used on shutdown. */
  readonly abort = new AbortController();
  control: ExecControl | undefined;
  conn: SshConnection | undefined;
  ttlTimer: NodeJS.Timeout | undefined;
  /** Set for a durable job: where its files are on the host, and what keeps the ring in step with them. */
  durable: DurableRef | undefined;
  tracker: DurableTracker | undefined;
  private readonly waiters = new Set<() => void>();
  private resolveEnded!: () => void;
  /** Resolves when the job has ended (any state but running). */
  readonly ended = new Promise<void>((r) => (this.resolveEnded = r));

  constructor(
    readonly id: string,
    readonly req: JobStartRequest,
    bufferBytes: number,
    readonly startedAt = new Date(),
  ) {
    this.output = new JobOutput(bufferBytes);
  }

  /** Not ended: running, or (a durable job whose host cannot be reached now) unknown. */
  get running(): boolean {
    return this.state === 'running' || this.state === 'unknown';
  }

  push(stream: OutputStream, chunk: Buffer): void {
    this.output.push(stream, chunk);
    this.wake();
  }

  end(state: Exclude<JobState, 'running'>, outcome: { exitCode?: number | null; signal?: string | null; error?: ScoutError }): void {
    if (!this.running) return;
    this.state = state;
    this.exitCode = outcome.exitCode ?? null;
    this.signal = outcome.signal ?? null;
    this.error = outcome.error;
    this.endedAt = new Date();
    this.control = undefined;
    this.resolveEnded();
    this.wake();
  }

  /** Resolves on the next output or the end of the job, after `ms`, or when `signal` aborts. */
  nextChange(ms: number, signal?: AbortSignal): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }

  private wake(): void {
    if (this.waiters.size === 0) return;
    for (const w of [...this.waiters]) w();
  }

  info(now = Date.now()): JobInfo {
    return {
      jobId: this.id,
      host: this.req.host,
      command: this.req.command.slice(0, COMMAND_SHOWN_CHARS),
      ...(this.req.cwd !== undefined ? { cwd: this.req.cwd } : {}),
      client: this.req.client,
      ...(this.durable ? { durable: true } : {}),
      state: this.state,
      startedAt: this.startedAt.toISOString(),
      ...(this.endedAt ? { endedAt: this.endedAt.toISOString() } : {}),
      durationMs: (this.endedAt?.getTime() ?? now) - this.startedAt.getTime(),
      bytes: this.output.total,
      stdoutBytes: this.output.streamBytes.stdout,
      stderrBytes: this.output.streamBytes.stderr,
      droppedBytes: this.output.firstKept,
      keptBytes: this.output.keptBytes,
      exitCode: this.exitCode,
      signal: this.signal,
      ...(this.error ? { error: { code: this.error.code, message: this.error.message } } : {}),
    };
  }
}

export class JobTable {
  private readonly jobs = new Map<string, Job>();
  private closing = false;

  constructor(
    private readonly deps: { pool: Pool; registry: HostRegistry; log: Logger; onEnd?: (job: JobInfo) => void; journal?: JobJournal },
    private readonly limits: JobLimits,
  ) {}

  /**
   * Start a job; resolves with it once its command runs (the exec channel is open). `launch` starts the
   * command (remote/exec.ts's startCommand: admission, policy, retry) with the job's stop signal and output ring.
   */
  async start(req: JobStartRequest, launch: (job: Job, timeoutMs: number) => Promise<StartedCommand>): Promise<Job> {
    const { job, started } = await this.launch(req, (j) => launch(j, req.timeoutMs ?? this.limits.defaultTimeoutMs));
    job.control = started.control;
    job.conn = started.conn;
    // Never the command or cwd: they may carry secrets; the audit log is where commands are kept.
    this.deps.log.info({ job: job.id, host: req.host, client: req.client, commandBytes: Buffer.byteLength(req.command) }, 'job started');
    started.outcome.then(
      (o) => this.finished(job, o),
      (err: unknown) => this.failed(job, err),
    );
    return job;
  }

  /**
   * Start a durable job: `launch` starts it detached on its host (remote/durable.ts) and says where its files
   * are. Journaled before anyone hears of it, then followed (durable-jobs.ts).
   */
  async startDurable(req: JobStartRequest, launch: (id: string) => Promise<{ dir: string; pid: number }>): Promise<Job> {
    const deadline = Date.now() + (req.timeoutMs ?? this.limits.defaultTimeoutMs);
    const { job, started: where } = await this.launch(req, async (j) => {
      this.deps.journal?.launching(recordOf(j, { dir: '', pid: 0, deadline }));
      try {
        return await launch(j.id);
      } catch (err) {
        this.deps.journal?.forgotten(j.id);
        throw err;
      }
    });
    const ref: DurableRef = { ...where, deadline, refill: false };
    this.deps.journal?.started(recordOf(job, ref));
    this.deps.log.info({ job: job.id, host: req.host, client: req.client, commandBytes: Buffer.byteLength(req.command), durable: true }, 'job started');
    this.track(job, ref).start();
    return job;
  }

  /** Admit a job (limits), give it an id and a place in the table, and run `launch`; a failed launch leaves no trace. */
  private async launch<T>(req: JobStartRequest, launch: (job: Job) => Promise<T>): Promise<{ job: Job; started: T }> {
    if (this.closing) throw shuttingDown('no job was started', { host: req.host });
    this.deps.registry.get(req.host);
    this.makeRoom(req.host);
    const job = new Job(newJobId(this.jobs), req, this.limits.bufferBytes);
    this.jobs.set(job.id, job);
    try {
      return { job, started: await launch(job) };
    } catch (err) {
      this.jobs.delete(job.id);
      throw err;
    }
  }

  /**
   * Take back the durable jobs a previous scoutd journaled: running ones are `unknown` until their host answers
   * (then running, or ended with their exit status); ended ones are listed as they ended and read from the host.
   */
  restore(): void {
    const journal = this.deps.journal;
    if (!journal) return;
    const { records, skipped } = journal.load();
    if (skipped) this.deps.log.warn({ file: journal.file, skipped }, 'skipped torn lines of the job journal');
    for (const r of records) this.restoreOne(r);
    if (records.length) this.deps.log.info({ jobs: records.length, running: records.filter((r) => !r.end).length }, 'restored durable jobs');
  }

  private restoreOne(r: DurableRecord): void {
    const job = new Job(r.id, { host: r.host, command: r.command, ...(r.cwd !== undefined ? { cwd: r.cwd } : {}), client: r.client }, this.limits.bufferBytes, new Date(r.startedAt));
    this.jobs.set(job.id, job);
    const tracker = this.track(job, { dir: r.dir, pid: r.pid, deadline: r.deadline, refill: true });
    if (!r.end) {
      job.state = 'unknown';
      tracker.start();
      return;
    }
    job.end(r.end.state, { exitCode: r.end.exitCode, signal: r.end.signal, ...(r.end.error ? { error: new ScoutError(r.end.error.code, r.end.error.message, { jobId: r.id }) } : {}) });
    job.endedAt = new Date(r.end.endedAt);
    // Listed with its size; its bytes come from the host when someone reads them.
    job.output.restartAt(r.end.bytes);
    this.armTtl(job, job.endedAt.getTime() + this.limits.ttlMs - Date.now());
  }

  private track(job: Job, ref: DurableRef): DurableTracker {
    job.durable = ref;
    job.tracker = new DurableTracker(job, ref, {
      pool: this.deps.pool,
      log: this.deps.log,
      onEnd: (j) => this.durableEnded(j),
      onLocated: (j) => this.deps.journal?.started(recordOf(j, ref)),
    });
    return job.tracker;
  }

  private durableEnded(job: Job): void {
    const end: DurableEnd = {
      state: job.state as DurableEnd['state'],
      exitCode: job.exitCode,
      signal: job.signal,
      endedAt: (job.endedAt ?? new Date()).toISOString(),
      bytes: job.output.total,
      ...(job.error ? { error: { code: job.error.code, message: job.error.message } } : {}),
    };
    this.deps.journal?.ended(job.id, end);
    this.afterEnd(job);
  }

  /** The host's connection retired (reload changed its route): durable jobs follow on a new one. */
  moveConnections(host: string): void {
    for (const j of this.jobs.values()) if (j.req.host === host) j.tracker?.moveConnection();
  }

  /** The job, or undefined when there is none by that id. */
  find(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  get(id: string): Job {
    const job = this.find(id);
    if (!job) throw new ScoutError('NOT_FOUND', `no job ${id} (finished jobs are forgotten after their TTL; see jobs.list)`, { jobId: id });
    return job;
  }

  list(host?: string): Job[] {
    return [...this.jobs.values()].filter((j) => host === undefined || j.req.host === host);
  }

  /** Read from a cursor; with `waitMs`, wait (bounded) for output or the job's end when there is nothing yet. */
  async read(
    job: Job,
    q: { offset: number; maxBytes: number; stream?: OutputStream; waitMs: number },
    signal: AbortSignal,
    format: (r: OutputRead, final: boolean) => { empty: boolean },
  ): Promise<void> {
    if (job.durable?.refill && job.tracker) {
      try {
        await job.tracker.refill();
      } catch (err) {
        // A running job's reader waits for the loop to reach the host; an ended one's has nothing else to read.
        if (!job.running) throw err;
      }
      // Until the ring holds the host's bytes its offsets mean nothing: say so rather than send a cursor back to 0.
      if (job.durable.refill)
        throw new ScoutError('CONNECTION_LOST', `job ${job.id}'s host ${job.req.host} cannot be reached yet: its output cannot be read (try again)`, { jobId: job.id, host: job.req.host });
    }
    // Older than the ring keeps: a durable job's host still has every byte, so none is dropped.
    const first = job.output.firstKept;
    if (job.tracker && q.offset >= 0 && q.offset < first) {
      const bytes = await job.tracker.readRange(q.offset, Math.min(q.maxBytes, first - q.offset));
      // Nothing there (the file was cut short by hand): the ring's answer says what was dropped.
      if (bytes.length > 0) {
        format({ pieces: [{ start: q.offset, bytes }], offset: q.offset, nextOffset: q.offset + bytes.length, dropped: 0 }, false);
        return;
      }
    }
    const deadline = Date.now() + q.waitMs;
    for (;;) {
      const running = job.running;
      const r = job.output.read(q.offset, q.maxBytes, q.stream);
      const { empty } = format(r, !running);
      const left = deadline - Date.now();
      if (!empty || !running || left <= 0) return;
      await job.nextChange(left, signal);
      if (signal.aborted) throw signal.reason;
    }
  }

  /** Send a signal to a running job's remote process group; false when it has already ended. */
  async signal(job: Job, name: string): Promise<boolean> {
    if (!job.running) return false;
    if (job.tracker) return job.tracker.signal(name);
    if (!job.control) return false;
    this.deps.log.info({ job: job.id, host: job.req.host, signal: name }, 'signalling job');
    job.control.signal(name);
    return true;
  }

  /** Wait (bounded) for the job to end. */
  async wait(job: Job, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (!job.running) return;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    await Promise.race([
      job.ended,
      new Promise<void>((r) => (timer = setTimeout(r, timeoutMs))),
      new Promise<void>((r) => {
        onAbort = () => r();
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
    if (signal.aborted && job.running) throw signal.reason;
  }

  /** Forget a finished job (its output goes with it, a durable job's files too). A running job must be stopped first. */
  async forget(job: Job): Promise<void> {
    if (job.running)
      throw new ScoutError('BUSY', `job ${job.id} is ${job.state === 'unknown' ? 'perhaps still running (its host cannot be reached)' : 'still running'}: stop it first (jobs.signal)`, {
        jobId: job.id,
      });
    await this.removeDurable(job);
    this.remove(job);
  }

  /** A durable job's files on its host go first; the journal forgets it once they are gone. */
  private async removeDurable(job: Job): Promise<void> {
    if (!job.tracker) return;
    await job.tracker.remove();
    job.tracker.stop();
    this.deps.journal?.forgotten(job.id);
  }

  /** Counts for status. */
  summary(): { running: number; finished: number } {
    let running = 0;
    for (const j of this.jobs.values()) if (j.running) running++;
    return { running, finished: this.jobs.size - running };
  }

  /** Daemon shutdown: refuse new jobs, stop the running ones (TERM, then KILL) and log how each ended. */
  async stopAll(): Promise<void> {
    this.closing = true;
    // Durable jobs run on without scoutd: only following them stops.
    for (const j of this.jobs.values()) j.tracker?.stop();
    const running = [...this.jobs.values()].filter((j) => j.running && !j.durable);
    if (running.length) this.deps.log.info({ jobs: running.map((j) => j.id) }, 'stopping running jobs');
    for (const j of running) j.abort.abort(shuttingDown('the job was stopped', { jobId: j.id }));
    const bound = new Promise<void>((r) => setTimeout(r, TERM_GRACE_MS + KILL_GRACE_MS + SHUTDOWN_SLACK_MS).unref());
    await Promise.race([Promise.all(running.map((j) => j.ended)), bound]);
    for (const j of running) {
      if (j.running) {
        j.end('failed', { error: shuttingDown('the job had not ended', { jobId: j.id }) });
        this.logEnd(j);
      }
    }
    for (const j of this.jobs.values()) clearTimeout(j.ttlTimer);
  }

  private finished(job: Job, o: ExecOutcome): void {
    // A channel that closed with neither an exit status nor a signal on a connection that went away: lost.
    if (o.exitCode === null && o.signal === null && job.conn?.lost.aborted) {
      const reason = job.conn.lost.reason;
      job.end('lost', { error: isScoutError(reason) ? reason : new ScoutError('CONNECTION_LOST', `connection to ${job.req.host} was lost`, { host: job.req.host }) });
    } else {
      job.end('exited', { exitCode: o.exitCode, signal: o.signal });
    }
    this.afterEnd(job);
  }

  private failed(job: Job, err: unknown): void {
    const e = isScoutError(err) ? err : new ScoutError('INTERNAL_ERROR', `job failed: ${(err as Error)?.message ?? String(err)}`);
    job.end(e.code === 'CONNECTION_LOST' ? 'lost' : 'failed', { error: e });
    this.afterEnd(job);
  }

  private afterEnd(job: Job): void {
    this.logEnd(job);
    this.deps.onEnd?.(job.info());
    this.armTtl(job, this.limits.ttlMs);
  }

  /** Forget an ended job after `ms`; a durable one whose host cannot be reached then is tried again later. */
  private armTtl(job: Job, ms: number): void {
    if (this.closing) return;
    clearTimeout(job.ttlTimer);
    job.ttlTimer = setTimeout(
      () => {
        if (this.jobs.get(job.id) !== job) return;
        this.removeDurable(job).then(
          () => this.remove(job),
          (err: unknown) => {
            this.deps.log.warn({ job: job.id, host: job.req.host, err: (err as Error).message }, "cannot remove an expired durable job's files yet");
            this.armTtl(job, Math.min(this.limits.ttlMs, TTL_RETRY_MS));
          },
        );
      },
      Math.max(0, Math.min(ms, MAX_TIMER_MS)),
    );
    job.ttlTimer.unref();
  }

  private logEnd(job: Job): void {
    const i = job.info();
    const line = { job: i.jobId, host: i.host, client: i.client, state: i.state, exitCode: i.exitCode, signal: i.signal, error: i.error?.code, bytes: i.bytes, durationMs: i.durationMs };
    if (job.state === 'exited') this.deps.log.info(line, 'job ended');
    else this.deps.log.warn({ ...line, reason: i.error?.message }, 'job ended');
  }

  private remove(job: Job): void {
    clearTimeout(job.ttlTimer);
    this.jobs.delete(job.id);
  }

  /** Enforce the per-host and total limits, forgetting the oldest finished job when the table is full. */
  private makeRoom(host: string): void {
    let onHost = 0;
    for (const j of this.jobs.values()) if (j.running && j.req.host === host) onHost++;
    if (onHost >= this.limits.maxJobsPerHost) {
      throw new ScoutError('LIMIT_REACHED', `${onHost} jobs already run on ${host} (limit SCOUT_MAX_JOBS_PER_HOST=${this.limits.maxJobsPerHost}): wait for one to end or stop one`, {
        host,
        limit: this.limits.maxJobsPerHost,
      });
    }
    if (this.jobs.size < this.limits.maxJobs) return;
    const oldestFinished = [...this.jobs.values()].filter((j) => !j.running).sort((a, b) => a.endedAt!.getTime() - b.endedAt!.getTime())[0];
    if (!oldestFinished) {
      throw new ScoutError('LIMIT_REACHED', `${this.jobs.size} jobs are running (limit SCOUT_MAX_JOBS=${this.limits.maxJobs}): wait for one to end or stop one`, { limit: this.limits.maxJobs });
    }
    this.remove(oldestFinished);
    // Its files on the host go too (best effort: the table is full now, and the journal must not bring it back).
    if (oldestFinished.tracker) {
      this.removeDurable(oldestFinished).catch((err: unknown) => {
        this.deps.journal?.forgotten(oldestFinished.id);
        this.deps.log.warn({ job: oldestFinished.id, host: oldestFinished.req.host, err: (err as Error).message }, 'forgot a durable job to make room; its files on the host are left');
      });
    }
  }
}

/** A durable job as the journal keeps it. */
function recordOf(job: Job, where: Pick<DurableRef, 'dir' | 'pid' | 'deadline'>): DurableRecord {
  const { host, command, cwd, client } = job.req;
  return { id: job.id, host, dir: where.dir, pid: where.pid, command, ...(cwd !== undefined ? { cwd } : {}), client, startedAt: job.startedAt.toISOString(), deadline: where.deadline };
}

/** Short random ids: unguessable across daemon restarts, so an old id never names a different job. */
function newJobId(taken: Map<string, Job>): string {
  for (;;) {
    const id = `j${randomBytes(5).toString('hex')}`;
    if (!taken.has(id)) return id;
  }
}
