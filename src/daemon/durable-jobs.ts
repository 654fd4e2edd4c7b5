// The daemon half of a durable job: keeps a Job's output ring and state in step with the job's files on its
// host (remote/durable.ts), over whatever connection the pool has, across dropped links and daemon restarts.
//
// One loop per job: collect (the bytes from the ring's end up to now, and the state), then, while the job
// runs, follow (tail -f from there) until the job ends or the link drops, then collect again. The ring's
// offsets are byte offsets in the job's output file, so a reader's cursor means the same bytes before and after
// a restart. A link that drops or a host that cannot be reached makes the job `unknown` (never `lost`: it
// most likely still runs) and the loop tries again with backoff until it can tell.
import { PassThrough } from 'node:stream';
import { constants } from 'node:os';
import type { Logger } from 'pino';
import type { Pool } from '../pool/pool.js';
import { ScoutError, isScoutError } from '../protocol/errors.js';
import type { SshConnection } from '../ssh/connection.js';
import { KILL_GRACE_MS, MAX_TIMER_MS, TERM_GRACE_MS } from '../ssh/exec.js';
import { GONE, NOT_RUNNING, durableLines, parseCollect, parseLaunch, statusOutcome, type RemoteState } from './remote/durable.js';
import type { Job } from './jobs.js';
import type { Admitted } from './remote/exec.js';

/** A collect, a signal or a remove is a few ms of shell; this bounds one on a stalled link. */
const SCRIPT_TIMEOUT_MS = 30_000;
/** What a launch, signal, locate or remove prints: a few lines. */
const SCRIPT_OUTPUT_BYTES = 64 * 1024;
/** Retries after a failed collect or follow: 0.25 s doubling to 30 s (a host down for hours costs a try a half-minute). */
const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 30_000;

/** Where a durable job's files are and what scoutd knows of its life. */
export interface DurableRef {
  dir: string;
  pid: number;
  /** Epoch ms when its timeout stops it. */
  deadline: number;
  /** Set once the timeout has signalled it: its end is then COMMAND_TIMEOUT. */
  timedOut?: boolean;
  /** The ring does not hold its output yet (a restored job): read the last ring's worth from the host first. */
  refill: boolean;
}

export interface TrackerDeps {
  pool: Pool<SshConnection>;
  log: Logger;
  /** Called once when the job has ended (its state is set): journal, audit, TTL. */
  onEnd: (job: Job) => void;
  /** Called when a job journaled only as launching was found on its host (journal it as started). */
  onLocated: (job: Job) => void;
}

type Ended = { exitCode: number | null; signal: string | null };

export class DurableTracker {
  private stopped = false;
  private following: AbortController | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  /** Set while the follower is stopped to move to a new connection (reload changed the host's route). */
  private moving = false;
  /** One collect at a time (the loop's and a reader's refill share it). */
  private collecting: Promise<RemoteState | undefined> | undefined;

  constructor(
    private readonly job: Job,
    private readonly ref: DurableRef,
    private readonly deps: TrackerDeps,
  ) {}

  /** Start the loop (at once), and the timeout. */
  start(): void {
    this.armDeadline();
    void this.loop();
  }

  /** Stop following (scoutd is stopping, or the job was forgotten): the job itself runs on. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.deadlineTimer);
    this.following?.abort(new ScoutError('SHUTTING_DOWN', 'scoutd stopped following the job'));
  }

  /**
   * Follow again on a new connection: reload retired the host's connection (its route changed), and a
   * follower never ends by itself, so the old connection would otherwise stay open for the job's life.
   */
  moveConnection(): void {
    if (!this.following) return;
    this.moving = true;
    this.following.abort(new ScoutError('CANCELLED', 'following moves to a new connection'));
  }

  /** Bring the ring up to date from the host now (a restored job that has ended, read for the first time). */
  async refill(): Promise<void> {
    if (!this.ref.refill) return;
    await this.collect();
  }

  /** Send a signal to the job's process group on its host; false when it had already ended. */
  async signal(name: string): Promise<boolean> {
    // A job journaled as launching and not found yet: its process group is not known.
    if (!this.ref.dir) throw new ScoutError('CONNECTION_LOST', `job ${this.job.id} has not been found on ${this.job.req.host} yet: try again`, { jobId: this.job.id });
    const out = await this.script(durableLines.signal(this.ref.dir, name));
    if (out.exitCode === GONE) throw this.gone();
    if (out.exitCode === NOT_RUNNING) return false;
    if (out.exitCode !== 0)
      throw new ScoutError('REMOTE_IO', `could not signal job ${this.job.id} on ${this.job.req.host}: ${out.stderr.toString().trim() || `exit ${out.exitCode}`}`, { jobId: this.job.id });
    this.deps.log.info({ job: this.job.id, host: this.job.req.host, signal: name }, 'signalled durable job');
    return true;
  }

  /** Bytes [offset, offset + length) of the job's output, read from its host (older than the ring keeps). */
  async readRange(offset: number, length: number): Promise<Buffer> {
    const out = await this.script(durableLines.read(this.ref.dir, offset, length), length);
    if (out.exitCode === GONE) throw this.gone();
    return out.stdout.subarray(0, length);
  }

  /** Delete the job's files on its host (a directory already gone is fine). */
  async remove(): Promise<void> {
    if (!this.ref.dir) return;
    const out = await this.script(durableLines.remove(this.ref.dir));
    if (out.exitCode !== 0 && out.exitCode !== GONE)
      throw new ScoutError('REMOTE_IO', `could not remove job ${this.job.id}'s files on ${this.job.req.host}: exit ${out.exitCode}`, { jobId: this.job.id });
  }

  private async loop(): Promise<void> {
    while (!this.stopped && this.job.running) {
      try {
        if (!this.ref.dir && !(await this.locate())) return;
        const state = await this.collect();
        if (state?.kind !== 'running') return;
        this.setState('running');
        this.failures = 0;
        await this.follow();
      } catch (err) {
        if (this.stopped || !this.job.running) return;
        if (this.moving) {
          this.moving = false;
          continue;
        }
        if (isScoutError(err) && err.details?.gone) return this.end('lost', { exitCode: null, signal: null }, err);
        this.setState('unknown');
        const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** this.failures++);
        this.deps.log.warn({ job: this.job.id, host: this.job.req.host, err: (err as Error).message, retryInMs: delay }, 'cannot reach a durable job; its state is unknown until the host answers');
        await new Promise<void>((r) => {
          this.retryTimer = setTimeout(r, delay);
        });
      }
    }
  }

  /**
   * A job journaled as launching, never as started (scoutd was killed in between): find its directory by id.
   * False when the launch never made it to the host: the job is then lost, having never run.
   */
  private async locate(): Promise<boolean> {
    const out = await this.script(durableLines.locate(this.job.id));
    if (out.exitCode === GONE) {
      this.end(
        'lost',
        { exitCode: null, signal: null },
        new ScoutError('CONNECTION_LOST', `job ${this.job.id} never started on ${this.job.req.host}: scoutd stopped while launching it`, { jobId: this.job.id }),
      );
      return false;
    }
    const where = parseLaunch(out.stdout.toString());
    Object.assign(this.ref, where);
    this.deps.onLocated(this.job);
    return true;
  }

  /** Read from the ring's end (or, to refill, the last ring's worth) to the job's current end; end it if it has. */
  private collect(): Promise<RemoteState | undefined> {
    this.collecting ??= this.collectOnce().finally(() => {
      this.collecting = undefined;
    });
    return this.collecting;
  }

  private async collectOnce(): Promise<RemoteState | undefined> {
    const refill = this.ref.refill;
    const output = this.job.output;
    let stderr = '';
    const out = await this.deps.pool.use(
      this.job.req.host,
      (conn) => {
        // Retried only when the channel never opened: nothing of this attempt reached the ring.
        stderr = '';
        let start: number | undefined;
        const held: Buffer[] = [];
        return conn.exec(durableLines.collect(this.ref.dir, refill ? -output.capacity : output.total), {
          timeoutMs: SCRIPT_TIMEOUT_MS,
          maxOutputBytes: 0,
          onOutput: (stream, chunk) => {
            if (stream === 'stderr') {
              stderr += chunk.toString();
              const m = /^from (\d+)$/m.exec(stderr);
              if (start === undefined && m) {
                start = Number(m[1]);
                // A restored job's ring starts where the host's bytes do: offsets stay the file's.
                if (refill) output.restartAt(start);
                for (const b of held.splice(0)) this.job.push('stdout', b);
              }
            } else if (start === undefined) held.push(chunk);
            else this.job.push('stdout', chunk);
          },
        });
      },
      'unstarted',
    );
    if (out.exitCode === GONE) throw this.gone();
    const { state } = parseCollect(stderr);
    this.ref.refill = false;
    if (!this.job.running) return state;
    if (state.kind === 'ended') this.end(this.ref.timedOut ? 'failed' : 'exited', statusOutcome(state.status, constants.signals));
    else if (state.kind === 'vanished') {
      this.end(
        'lost',
        { exitCode: null, signal: null },
        new ScoutError('CONNECTION_LOST', `job ${this.job.id} on ${this.job.req.host} ended without an exit status (was the host restarted?)`, { jobId: this.job.id }),
      );
    }
    return state;
  }

  /** tail -f the job's output into the ring until the job ends (then resolve) or the link drops (then throw). */
  private async follow(): Promise<void> {
    const stop = new AbortController();
    this.following = stop;
    // Never ended: the follower stops everything it started when its stdin closes (see remote/durable.ts).
    const stdin = new PassThrough();
    try {
      const out = await this.deps.pool.use(
        this.job.req.host,
        (conn) =>
          conn.exec(durableLines.follow(this.ref.dir, this.job.output.total), {
            // A follow ends with the job, its link, or scoutd, never by time.
            timeoutMs: MAX_TIMER_MS,
            maxOutputBytes: 0,
            signal: stop.signal,
            stdinStream: stdin,
            onOutput: (stream, chunk) => {
              if (stream === 'stdout') this.job.push('stdout', chunk);
            },
          }),
        'unstarted',
      );
      if (out.exitCode === GONE) throw this.gone();
    } finally {
      stdin.destroy();
      this.following = undefined;
    }
  }

  private armDeadline(): void {
    const left = this.ref.deadline - Date.now();
    const fire = () => {
      if (!this.job.running || this.stopped) return;
      this.ref.timedOut = true;
      this.deps.log.warn({ job: this.job.id, host: this.job.req.host }, 'durable job timed out: stopping it');
      const kill = () => void this.signal('KILL').catch(() => {});
      this.signal('TERM').then(
        () => {
          this.deadlineTimer = setTimeout(kill, TERM_GRACE_MS + KILL_GRACE_MS);
        },
        () => {
          // Unreachable now: try again shortly (the loop reattaches meanwhile).
          this.deadlineTimer = setTimeout(fire, RETRY_MAX_MS);
        },
      );
    };
    this.deadlineTimer = setTimeout(fire, Math.max(0, Math.min(left, MAX_TIMER_MS)));
    this.deadlineTimer.unref();
  }

  private setState(state: 'running' | 'unknown'): void {
    if (this.job.running && this.job.state !== state) {
      this.job.state = state;
      this.deps.log.info({ job: this.job.id, host: this.job.req.host, state }, 'durable job state');
    }
  }

  private end(state: 'exited' | 'failed' | 'lost', ended: Ended, error?: ScoutError): void {
    clearTimeout(this.deadlineTimer);
    const timeout = state === 'failed' && this.ref.timedOut ? new ScoutError('COMMAND_TIMEOUT', `job ${this.job.id} timed out and was stopped`, { jobId: this.job.id }) : undefined;
    this.job.end(state, { ...ended, ...((error ?? timeout) ? { error: error ?? timeout } : {}) });
    this.deps.onEnd(this.job);
  }

  private gone(): ScoutError {
    return new ScoutError('NOT_FOUND', `job ${this.job.id}'s files on ${this.job.req.host} are gone (${this.ref.dir})`, { jobId: this.job.id, gone: true });
  }

  /** One short script on the job's host (a channel of its own; retried only when it never opened). */
  private script(line: string, maxOutputBytes = SCRIPT_OUTPUT_BYTES) {
    return this.deps.pool.use(this.job.req.host, (conn) => conn.exec(line, { timeoutMs: SCRIPT_TIMEOUT_MS, maxOutputBytes }), 'unstarted');
  }
}

/**
 * Start an admitted command as a durable job on its host; resolves with where its files are once it runs. `env`
 * travels as SSH env requests and is inherited by the command; `stdin` is kept in the job's directory.
 */
export async function launchDurable(pool: Pool<SshConnection>, cmd: Admitted, id: string, opts: { stdin?: Buffer; env?: Record<string, string> }): Promise<{ dir: string; pid: number }> {
  const out = await pool.use(
    cmd.host,
    (conn) =>
      conn.exec(durableLines.launch(id, cmd.line, opts.stdin !== undefined), {
        timeoutMs: SCRIPT_TIMEOUT_MS,
        maxOutputBytes: SCRIPT_OUTPUT_BYTES,
        ...(opts.stdin ? { stdin: opts.stdin } : {}),
        ...(opts.env ? { env: opts.env } : {}),
      }),
    'unstarted',
  );
  if (out.exitCode !== 0) throw new ScoutError('REMOTE_IO', `could not start the job on ${cmd.host}: ${out.stderr.toString().trim() || `exit ${out.exitCode ?? out.signal}`}`, { host: cmd.host });
  return parseLaunch(out.stdout.toString());
}
