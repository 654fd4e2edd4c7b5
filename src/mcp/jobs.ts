// The `scout_jobs` tool and `query` with `background: true`: long commands run as daemon-owned jobs, so an
// agent starts a build or a log tail, gets a job id at once, and reads only the new output each time it
// comes back (a byte cursor), in small pieces that do not flood its context.
import { z } from 'zod';
import { ScoutError } from '../protocol/errors.js';
import type { JobInfo, JobOutputResult, JobState } from '../protocol/methods/index.js';
import { errorShape } from './shapes.js';
import { errorOutcome, type Rpc, type Target, type ToolOutcome } from './tool.js';
import { sizeText } from './format.js';

/** Output per call unless `max_bytes` says otherwise: a screenful or two of log, not a whole build. */
export const MCP_JOB_READ_BYTES = 16 * 1024;
/** Upper bound on `wait_seconds`: an MCP tool call should come back well within a client's request timeout. */
export const MCP_MAX_WAIT_S = 60;

export const JOBS_TOOL_DESCRIPTION = `Background jobs started with scout(target="host:/dir", query="cmd", background=true): read their output, list them, stop them.
- Read: scout_jobs(job_id="j…") returns up to max_bytes (default ${MCP_JOB_READ_BYTES / 1024} KB) of output from offset, then a line with next_offset.
  Call again with offset=<next_offset> to get only what is new since; nothing is ever returned twice.
- Poll without flooding: pass wait_seconds (up to ${MCP_MAX_WAIT_S}) so one call waits for new output or the end of the job instead of
  polling in a tight loop; keep max_bytes small; to skip to the latest lines use offset=-4000 (the last 4000 bytes).
- The job is finished when the reply says "[job … exited with code N]" (or was killed, failed or lost).
- action="list" lists jobs (id, host, state, exit code, output size); action="stop" sends signal (default TERM) to the job's
  process group; action="wait" waits up to wait_seconds for the job to end and reports its state without output.
Jobs keep running when this session ends; finished jobs are forgotten after a while (SCOUT_JOB_TTL).`;

export const jobsInput = {
  action: z.enum(['output', 'list', 'stop', 'wait']).default('output').describe('output (default), list, stop or wait'),
  job_id: z.string().optional().describe('the job id returned by scout(..., background=true)'),
  offset: z.number().int().default(0).describe('byte offset to read from: next_offset of the previous call; negative = that many bytes from the end'),
  max_bytes: z
    .number()
    .int()
    .positive()
    .max(1024 * 1024)
    .default(MCP_JOB_READ_BYTES)
    .describe('most bytes of output to return'),
  wait_seconds: z.number().min(0).max(MCP_MAX_WAIT_S).default(0).describe(`wait up to this long for new output (or, with action=wait, for the end); max ${MCP_MAX_WAIT_S}`),
  signal: z.string().optional().describe('with action=stop: TERM (default), INT, HUP or KILL'),
  host: z.string().optional().describe('with action=list: only this host'),
};

/** What `scout_jobs` answers, by action (output → job_output, list → jobs, stop → job_stop, wait → job_wait). */
export const jobsOutput = z.looseObject({
  mode: z.enum(['job_output', 'jobs', 'job_stop', 'job_wait', 'error']),
  jobId: z.string().optional(),
  state: z.enum(['running', 'unknown', 'exited', 'failed', 'lost'] satisfies JobState[]).optional(),
  data: z.string().optional().describe('job_output: the new output (base64 when encoding says so)'),
  nextOffset: z.number().optional().describe('job_output: pass it as offset to read only what is new'),
  totalBytes: z.number().optional(),
  done: z.boolean().optional().describe('job_output: the job ended and all its output was read'),
  exitCode: z.number().nullable().optional(),
  jobs: z.array(z.looseObject({ jobId: z.string(), host: z.string(), state: z.string() })).optional(),
  error: errorShape.optional(),
});

export interface JobsArgs {
  action?: 'output' | 'list' | 'stop' | 'wait';
  job_id?: string;
  offset?: number;
  max_bytes?: number;
  wait_seconds?: number;
  signal?: string;
  host?: string;
}

/** `query` with `background: true`: start the job and answer at once with how to follow it. */
export async function startBackground(rpc: Rpc, t: Target, command: string): Promise<ToolOutcome> {
  // Durable: it outlives scout-mcp, scoutd restarts and dropped links, and is read back by id.
  const { jobId } = await rpc.call('jobs.start', { host: t.host, command, cwd: t.path, durable: true });
  const text =
    `Started background job ${jobId} on ${t.host} (cwd ${t.path}): ${command}\n` +
    `Read its output with scout_jobs(job_id="${jobId}", wait_seconds=30), then again with offset=<next_offset> for what is new.`;
  return { text, structured: { mode: 'background', jobId, host: t.host, cwd: t.path, command } };
}

/** Run the scout_jobs tool. Never throws: failures come back as an error outcome. */
export async function runJobs(rpc: Rpc, a: JobsArgs): Promise<ToolOutcome> {
  try {
    const action = a.action ?? 'output';
    if (action === 'list') {
      const r = await rpc.call('jobs.list', a.host ? { host: a.host } : {});
      return { text: listText(r.jobs), structured: { mode: 'jobs', jobs: r.jobs } };
    }
    if (!a.job_id) throw new ScoutError('INVALID_PARAMS', `action=${action} needs job_id (see action="list")`);
    const jobId = a.job_id;
    const waitMs = Math.round((a.wait_seconds ?? 0) * 1000);
    if (action === 'stop') {
      const r = await rpc.call('jobs.signal', { jobId, signal: a.signal ?? 'TERM' });
      const text = r.sent ? `Sent ${r.signal} to job ${jobId}; read its last output with scout_jobs(job_id="${jobId}", offset=-2000, wait_seconds=5).` : `Job ${jobId} had already ended (${r.state}).`;
      return { text, structured: { mode: 'job_stop', ...r } };
    }
    if (action === 'wait') {
      const info = await rpc.call('jobs.wait', { jobId, timeoutMs: waitMs });
      return { text: `${stateLine(info)} — ${sizeText(info.bytes)} of output`, structured: { mode: 'job_wait', ...info } };
    }
    const r = await rpc.call('jobs.output', { jobId, offset: a.offset ?? 0, maxBytes: a.max_bytes ?? MCP_JOB_READ_BYTES, waitMs });
    return { text: outputText(r), structured: { mode: 'job_output', ...r } };
  } catch (err) {
    return errorOutcome(err);
  }
}

function stateLine(j: { jobId: string; state: string; exitCode?: number | null; signal?: string | null; error?: { code: string; message: string } }): string {
  if (j.state === 'running') return `[job ${j.jobId} is still running]`;
  if (j.state === 'exited') return j.signal ? `[job ${j.jobId} was killed by ${j.signal}]` : `[job ${j.jobId} exited with code ${j.exitCode}]`;
  return `[job ${j.jobId} ${j.state}: ${j.error?.message ?? 'no reason given'} (${j.error?.code ?? 'ERROR'})]`;
}

/** The new output, framed by what an agent needs to continue: dropped bytes, the cursor, and whether it is over. */
export function outputText(r: JobOutputResult): string {
  const parts: string[] = [];
  if (r.dropped > 0) parts.push(`[${r.dropped} bytes of older output were dropped before offset ${r.offset}]`);
  if (r.encoding === 'base64') parts.push(`[${Buffer.from(r.data, 'base64').length} bytes of binary output, not shown]`);
  else if (r.data) parts.push(r.data.replace(/\n$/, ''));
  else parts.push('(no new output)');
  if (r.done) parts.push(`${stateLine(r)} — all output read (${sizeText(r.totalBytes)})`);
  else parts.push(`${stateLine(r)} next_offset: ${r.nextOffset} of ${r.totalBytes} bytes so far — call scout_jobs(job_id="${r.jobId}", offset=${r.nextOffset}, wait_seconds=30) for more`);
  return parts.join('\n');
}

function listText(jobs: JobInfo[]): string {
  if (jobs.length === 0) return 'No background jobs.';
  return jobs
    .map(
      (j) =>
        `${j.jobId}  ${j.host}  ${j.state}${j.state === 'running' ? '' : j.signal ? ` (${j.signal})` : j.exitCode !== null ? ` (exit ${j.exitCode})` : j.error ? ` (${j.error.code})` : ''}  ${sizeText(j.bytes)}  started ${j.startedAt}  ${j.command.length > 80 ? `${j.command.slice(0, 77)}...` : j.command}`,
    )
    .join('\n');
}
