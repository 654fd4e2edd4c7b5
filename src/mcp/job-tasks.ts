// MCP tasks backed by durable jobs: `scout_exec` made a task runs as a durable job in scoutd (the daemon's
// journal and the host's files hold it), and the task id names the job, so `tasks/get`, `tasks/result` and
// `tasks/cancel` work from any scout-mcp process, after this one, scoutd or the link restarted. Nothing of the
// task lives in the shim but the memory of a cancel it was asked for.
import type { CallToolResult, Task } from '@modelcontextprotocol/sdk/types.js';
import type { JobInfo } from '../protocol/methods/index.js';
import { isScoutError } from '../protocol/errors.js';
import { execText } from './format.js';
import type { Rpc } from './tool.js';

const PREFIX = 'job-';
/** A durable job is long work: a client polling once a second is plenty. */
const JOB_POLL_MS = 1_000;
/** Output in a task's result: the last this many bytes (the rest is read with scout_jobs). */
const RESULT_BYTES = 64 * 1024;

const jobTaskId = (jobId: string) => `${PREFIX}${jobId}`;
/** The job a task id names, or undefined for a task of this shim's own. */
export const jobIdOf = (taskId: string) => (taskId.startsWith(PREFIX) ? taskId.slice(PREFIX.length) : undefined);

/** The job as the daemon knows it now, or undefined when it has no such job (forgotten, or never). */
export async function jobInfo(rpc: Rpc, jobId: string): Promise<JobInfo | undefined> {
  try {
    return await rpc.call('jobs.wait', { jobId, timeoutMs: 0 });
  } catch (err) {
    if (isScoutError(err, 'NOT_FOUND') || isScoutError(err, 'INVALID_PARAMS')) return undefined;
    throw err;
  }
}

/** The task a job is: working while it runs (or cannot be reached), then completed, failed or cancelled. */
export function jobTask(j: JobInfo, ttl: number, cancelled: boolean): Task {
  const status: Task['status'] = cancelled ? 'cancelled' : j.state === 'running' || j.state === 'unknown' ? 'working' : j.state === 'exited' ? 'completed' : 'failed';
  const statusMessage =
    j.state === 'unknown'
      ? `${j.host} cannot be reached now; the job most likely runs on`
      : j.error
        ? `${j.error.message} (${j.error.code})`
        : j.state === 'exited'
          ? j.signal
            ? `killed by ${j.signal}`
            : `exit code ${j.exitCode}`
          : undefined;
  return {
    taskId: jobTaskId(j.jobId),
    status,
    ttl,
    createdAt: j.startedAt,
    lastUpdatedAt: j.endedAt ?? new Date().toISOString(),
    pollInterval: JOB_POLL_MS,
    ...(statusMessage ? { statusMessage } : {}),
  };
}

/** The answer a `scout_exec` call would have given, from the job's end state and the tail of its output. */
export async function jobTaskResult(rpc: Rpc, j: JobInfo): Promise<CallToolResult> {
  if (j.state === 'failed' || j.state === 'lost') {
    return { content: [{ type: 'text', text: `Error: job ${j.jobId} on ${j.host} ${j.state}: ${j.error?.message ?? 'no reason given'} (${j.error?.code ?? 'ERROR'})` }], isError: true };
  }
  const r = await rpc.call('jobs.output', { jobId: j.jobId, offset: -RESULT_BYTES, maxBytes: RESULT_BYTES });
  const omitted = r.offset;
  const result = {
    exitCode: j.exitCode,
    signal: j.signal,
    stdout: r.data,
    stderr: '',
    ...(r.encoding === 'base64' ? { encoding: 'base64' as const } : {}),
    truncated: omitted > 0,
    ...(omitted > 0 ? { omittedBytes: omitted } : {}),
    durationMs: j.durationMs,
  };
  const text =
    (omitted > 0 ? `[the first ${omitted} bytes are not shown: scout_jobs(job_id="${j.jobId}", offset=0) reads them]\n` : '') +
    execText({ ...result, truncated: false }) +
    `\n[durable job ${j.jobId}; stdout and stderr are one stream]`;
  return { content: [{ type: 'text', text }], structuredContent: { host: j.host, cwd: j.cwd ?? '', command: j.command, ...result } };
}
