import { invalidParams } from '../../protocol/errors.js';
import { DEFAULT_JOB_READ_BYTES, type JobForgetResult, type JobInfo, type JobListResult, type JobOutputResult, type JobSignalResult, type JobStartResult } from '../../protocol/methods/jobs.js';
import { completeUtf8Length, tryUtf8 } from '../../protocol/text.js';
import type { Job } from '../jobs.js';
import type { OutputRead } from '../job-output.js';
import type { Handlers, Services } from '../context.js';
import { admitExec, startCommand } from '../remote/exec.js';
import { launchDurable } from '../durable-jobs.js';

/** `jobs.wait` returns after this long by default, the job still running. */
const DEFAULT_JOB_WAIT_MS = 30_000;

export function jobsHandlers(svc: Services): Handlers<'jobs.start' | 'jobs.output' | 'jobs.list' | 'jobs.signal' | 'jobs.wait' | 'jobs.forget'> {
  const jobs = svc.jobs;
  return {
    'jobs.start': async (p, ctx): Promise<JobStartResult> => {
      const cmd = await admitExec(svc, p.host, p.command, p.cwd, svc.approvals.asker(ctx, p.approval), ['job']);
      const req = { host: p.host, command: p.command, cwd: cmd.cwd, timeoutMs: p.timeoutMs, client: ctx.clientName };
      const stdin = p.stdin !== undefined ? Buffer.from(p.stdin, p.stdinEncoding === 'base64' ? 'base64' : 'utf8') : undefined;
      if (p.durable) {
        const job = await jobs.startDurable(req, (id) => launchDurable(svc.pool, cmd, id, { ...(stdin ? { stdin } : {}), ...(p.env ? { env: p.env } : {}) }));
        return { jobId: job.id };
      }
      const job = await jobs.start(req, (j, timeoutMs) =>
        startCommand(svc, cmd, {
          timeoutMs,
          // Deliberately not ctx.signal: the job belongs to the daemon and outlives this call and its client.
          signal: j.abort.signal,
          onOutput: (stream, chunk) => j.push(stream, chunk),
          ...(p.env ? { env: p.env } : {}),
          ...(stdin ? { stdin } : {}),
        }),
      );
      return { jobId: job.id };
    },
    'jobs.output': async (p, ctx): Promise<JobOutputResult> => {
      const job = jobs.get(p.jobId);
      if (job.durable && p.stream && p.stream !== 'all') throw invalidParams('jobs.output', 'stream', `cannot pick ${p.stream}: a durable job's stdout and stderr are one stream (as with 2>&1)`);
      let result!: JobOutputResult;
      await jobs.read(
        job,
        { offset: p.offset ?? 0, maxBytes: p.maxBytes ?? DEFAULT_JOB_READ_BYTES, stream: p.stream === 'all' ? undefined : p.stream, waitMs: p.waitMs ?? 0 },
        ctx.signal,
        (r, final) => {
          result = outputResult(job, r, final);
          return { empty: result.data.length === 0 };
        },
      );
      return result;
    },
    'jobs.list': (p, ctx): JobListResult => ({
      jobs: jobs
        .list(p?.host ?? undefined)
        .filter((j) => !ctx.grant || ctx.grant.reaches(j.req.host))
        .map((j) => j.info()),
    }),
    'jobs.signal': async (p): Promise<JobSignalResult> => {
      const job = jobs.get(p.jobId);
      const sent = await jobs.signal(job, p.signal);
      return { jobId: job.id, signal: p.signal, sent, state: job.state };
    },
    'jobs.wait': async (p, ctx): Promise<JobInfo> => {
      const job = jobs.get(p.jobId);
      await jobs.wait(job, p.timeoutMs ?? DEFAULT_JOB_WAIT_MS, ctx.signal);
      return job.info();
    },
    'jobs.forget': async (p): Promise<JobForgetResult> => {
      await jobs.forget(jobs.get(p.jobId));
      return { jobId: p.jobId, forgotten: true };
    },
  };
}

/**
 * Wire form of a read: UTF-8 text when the bytes are valid UTF-8, else base64. A character cut at the end of
 * the read is left for the next read (the cursor stops before it) while the job runs, so text never splits.
 */
function outputResult(job: Job, r: OutputRead, final: boolean): JobOutputResult {
  const buf = r.pieces.length === 1 ? r.pieces[0].bytes : Buffer.concat(r.pieces.map((p) => p.bytes));
  let nextOffset = r.nextOffset;
  let data = '';
  let encoding: 'utf8' | 'base64' | undefined;
  if (buf.length > 0) {
    const whole = completeUtf8Length(buf);
    const text = whole > 0 ? tryUtf8(whole === buf.length ? buf : buf.subarray(0, whole)) : undefined;
    if (text !== undefined) {
      data = text;
      if (whole < buf.length) nextOffset = offsetAfter(r.pieces, whole);
    } else if (whole === 0 && !final && buf.length < 4) {
      // Only the first bytes of one character so far: wait for the rest.
      nextOffset = r.pieces[0].start;
    } else {
      data = buf.toString('base64');
      encoding = 'base64';
    }
  }
  const done = final && nextOffset >= job.output.total;
  return {
    jobId: job.id,
    data,
    ...(encoding ? { encoding } : {}),
    offset: r.offset,
    nextOffset,
    dropped: r.dropped,
    totalBytes: job.output.total,
    done,
    state: job.state,
    ...(final ? { exitCode: job.exitCode, signal: job.signal } : {}),
    ...(job.error ? { error: { code: job.error.code, message: job.error.message } } : {}),
  };
}

/** Absolute offset just after the first `n` bytes of `pieces` (which may be apart when a stream is filtered). */
function offsetAfter(pieces: OutputRead['pieces'], n: number): number {
  let left = n;
  for (const p of pieces) {
    if (left <= p.bytes.length) return p.start + left;
    left -= p.bytes.length;
  }
  const last = pieces[pieces.length - 1];
  return last.start + last.bytes.length;
}
