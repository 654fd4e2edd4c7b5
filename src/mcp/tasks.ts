// MCP Tasks (the SDK's experimental task support) for the tools that do long work: `scout` (query, broadcast,
// beam), `scout_exec` and `scout_transfer`. A task is the same tool call, run detached from its request:
// `tasks/get` says working until it ends, `tasks/result` waits for its answer, and `tasks/cancel` aborts it,
// which cancels its daemon calls exactly as cancelling a request does (the remote process group is stopped).
//
// A client that does not ask for a task gets the call as before. The SDK answers such a call on a
// task-capable tool by creating a task and polling it (every pollInterval, 5 s by default); here the task is
// run to its end inside createTask instead, so the call costs what it always did, with its own cancel and
// progress, and the poll finds it completed.
//
// Tasks live in this scout-mcp process: they end with it (its daemon connection closes, and the daemon stops
// their remote commands). Except a command made a task (`scout_exec`): it runs as a durable job in scoutd
// (job-tasks.ts) and its task id names the job, so it outlives this process, scoutd and dropped links.
import { randomBytes } from 'node:crypto';
import type { CreateTaskOptions, TaskStore, ToolTaskHandler } from '@modelcontextprotocol/sdk/experimental/tasks/interfaces.js';
import type { CallToolResult, Request, RequestId, Result, Task } from '@modelcontextprotocol/sdk/types.js';
import type { ZodRawShapeCompat, AnySchema } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { ScoutError } from '../protocol/errors.js';
import type { ProgressChannel } from './progress.js';
import { jobIdOf, jobInfo, jobTask, jobTaskResult } from './job-tasks.js';
import { errorOutcome, type Rpc } from './tool.js';

/** How often a client should poll `tasks/get`, and how often `tasks/result` looks again. */
export const TASK_POLL_MS = 250;
/** How long an ended task's result is kept when the client names no ttl, and the most it may name. */
export const TASK_TTL_MS = 30 * 60 * 1000;
const TASK_MAX_TTL_MS = 24 * 60 * 60 * 1000;
/** How long the result of a cancelled job task waits for the job to end (TERM, then KILL, takes ~2 s at most). */
const CANCEL_WAIT_MS = 10_000;
/** Tasks listed per `tasks/list` page. */
const LIST_PAGE = 100;

interface Entry {
  task: Task;
  /** Aborts the call (tasks/cancel). */
  abort: AbortController;
  /** The call's answer once it has ended (a cancelled call's too: it says what was stopped). */
  done: Promise<Result>;
  settle: (r: Result) => void;
  expiry?: NodeJS.Timeout;
}

const terminal = (s: Task['status']) => s === 'completed' || s === 'failed' || s === 'cancelled';

/** The TaskStore the SDK's tasks/* handlers use: this shim's running and recently ended tool calls. */
export class ToolTasks implements TaskStore {
  private readonly tasks = new Map<string, Entry>();
  /** Answers of calls made without a task, held until the SDK's poll picks them up (at once). */
  private readonly direct = new Map<string, Result>();
  /** Job tasks this shim was asked to cancel: their job then ends by the signal, and the task says cancelled. */
  private readonly cancelledJobs = new Set<string>();

  /** `daemon`: where job tasks (job-tasks.ts) are looked up; without it there are none. */
  constructor(private readonly daemon?: Rpc) {}

  /** A task call that became a durable job: its own entry goes, the job's task stands for it. */
  async adoptJob(taskId: string, jobId: string): Promise<Task> {
    const e = this.tasks.get(taskId);
    this.tasks.delete(taskId);
    const info = await this.jobInfo(jobId);
    if (!info) throw new ScoutError('NOT_FOUND', `job ${jobId} ended and was forgotten at once`);
    return jobTask(info, e?.task.ttl ?? TASK_TTL_MS, false);
  }

  private async jobInfo(jobId: string) {
    if (!this.daemon) return undefined;
    return jobInfo(this.daemon, jobId);
  }

  async createTask(params: CreateTaskOptions, _id: RequestId, request: Request): Promise<Task> {
    const now = new Date().toISOString();
    const ttl = Math.min(params.ttl ?? TASK_TTL_MS, TASK_MAX_TTL_MS);
    const task: Task = { taskId: `task-${randomBytes(12).toString('hex')}`, status: 'working', ttl, createdAt: now, lastUpdatedAt: now, pollInterval: TASK_POLL_MS };
    // A call without `task` in its params is run in place (see the top of this file): no entry.
    if (!(request.params as { task?: unknown } | undefined)?.task) return { ...task, taskId: `direct-${task.taskId}` };
    let settle!: (r: Result) => void;
    const done = new Promise<Result>((resolve) => {
      settle = resolve;
    });
    this.tasks.set(task.taskId, { task, abort: new AbortController(), done, settle });
    return { ...task };
  }

  /** True for a call that asked to be a task. */
  isTask(taskId: string): boolean {
    return this.tasks.has(taskId);
  }

  /** The signal a task's call runs under. */
  signal(taskId: string): AbortSignal {
    return this.entry(taskId).abort.signal;
  }

  /** Hold the answer of a call run in place, for the SDK's poll. */
  answerDirect(taskId: string, result: Result): void {
    this.direct.set(taskId, result);
  }

  async getTask(taskId: string): Promise<Task | null> {
    if (this.direct.has(taskId)) return { taskId, status: 'completed', ttl: 0, createdAt: '', lastUpdatedAt: '' };
    const jobId = jobIdOf(taskId);
    if (jobId !== undefined) {
      const info = await this.jobInfo(jobId);
      return info ? jobTask(info, TASK_TTL_MS, this.cancelledJobs.has(jobId)) : null;
    }
    const e = this.tasks.get(taskId);
    return e ? { ...e.task } : null;
  }

  async storeTaskResult(taskId: string, status: 'completed' | 'failed', result: Result): Promise<void> {
    const e = this.entry(taskId);
    e.settle(result);
    // A cancelled task stays cancelled: the answer that arrives after the cancel is kept as its result.
    if (!terminal(e.task.status)) this.update(e, status);
  }

  async getTaskResult(taskId: string): Promise<Result> {
    const jobId = jobIdOf(taskId);
    if (jobId !== undefined && this.daemon) {
      let info = await this.jobInfo(jobId);
      if (!info) throw new ScoutError('NOT_FOUND', `no task ${taskId}: its job was forgotten (SCOUT_JOB_TTL after it ended)`);
      // Cancelled (terminal for MCP) while its process group is still taking the TERM: the answer waits for its end.
      if (info.state === 'running' || info.state === 'unknown') info = await this.daemon.call('jobs.wait', { jobId, timeoutMs: CANCEL_WAIT_MS });
      return jobTaskResult(this.daemon, info);
    }
    const held = this.direct.get(taskId);
    if (held) {
      this.direct.delete(taskId);
      return held;
    }
    return this.entry(taskId).done;
  }

  async updateTaskStatus(taskId: string, status: Task['status'], statusMessage?: string): Promise<void> {
    const jobId = jobIdOf(taskId);
    if (jobId !== undefined && this.daemon) {
      // The job's process group gets TERM (the same ladder as any cancel); its end is then the task's.
      if (status === 'cancelled') {
        this.cancelledJobs.add(jobId);
        await this.daemon.call('jobs.signal', { jobId, signal: 'TERM' });
      }
      return;
    }
    const e = this.entry(taskId);
    if (terminal(e.task.status)) return;
    if (status === 'cancelled') e.abort.abort(new ScoutError('CANCELLED', 'the task was cancelled (tasks/cancel)'));
    this.update(e, status, statusMessage);
  }

  async listTasks(cursor?: string): Promise<{ tasks: Task[]; nextCursor?: string }> {
    const all = [...this.tasks.values()].map((e) => ({ ...e.task }));
    // Durable jobs started through MCP are tasks too, whichever scout-mcp started them.
    if (this.daemon) {
      for (const j of (await this.daemon.call('jobs.list', {})).jobs) {
        if (j.durable && j.client.startsWith('scout-mcp')) all.push(jobTask(j, TASK_TTL_MS, this.cancelledJobs.has(j.jobId)));
      }
    }
    const from = cursor ? all.findIndex((t) => t.taskId === cursor) + 1 : 0;
    if (cursor && from === 0) throw new ScoutError('INVALID_PARAMS', `unknown cursor '${cursor}'`);
    const page = all.slice(from, from + LIST_PAGE);
    return { tasks: page, ...(from + LIST_PAGE < all.length ? { nextCursor: page[page.length - 1].taskId } : {}) };
  }

  /** Abort every task (the shim is closing). */
  close(): void {
    for (const e of this.tasks.values()) {
      clearTimeout(e.expiry);
      e.abort.abort(new ScoutError('CANCELLED', 'scout-mcp is closing'));
    }
    this.tasks.clear();
  }

  private entry(taskId: string): Entry {
    const e = this.tasks.get(taskId);
    if (!e) throw new ScoutError('NOT_FOUND', `no task ${taskId}: it ended more than its ttl ago, or it belongs to another scout-mcp`);
    return e;
  }

  private update(e: Entry, status: Task['status'], statusMessage?: string): void {
    e.task = { ...e.task, status, lastUpdatedAt: new Date().toISOString(), ...(statusMessage ? { statusMessage } : {}) };
    if (terminal(status)) {
      // Kept for its ttl after it ended, then forgotten.
      e.expiry = setTimeout(() => this.tasks.delete(e.task.taskId), e.task.ttl ?? TASK_TTL_MS);
      e.expiry.unref();
    }
  }
}

type RequestExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** How a task-capable tool runs one call: under `signal`, reporting to `progress` when the client asked. */
export type TaskRun = (args: Record<string, unknown>, call: { signal: AbortSignal; progress?: ProgressChannel }) => Promise<CallToolResult>;

/** For a call made as a task: start it as a durable job and give its id, or undefined to run it here. */
export type DurableStart = (args: Record<string, unknown>) => Promise<string | undefined>;

/**
 * The SDK's task handler for a tool: a call made as a task starts and answers with the task at once; a call
 * made without one runs in place. `progressOf` turns the request's progress token into a sink: progress of a
 * task keeps the token of the call that created it.
 */
export function taskHandler<A extends ZodRawShapeCompat | AnySchema>(
  tasks: ToolTasks,
  run: TaskRun,
  progressOf: (extra: RequestExtra) => ProgressChannel | undefined,
  durable?: DurableStart,
): ToolTaskHandler<A> {
  const handler: ToolTaskHandler<AnySchema> = {
    createTask: async (args, extra) => {
      const task = await extra.taskStore.createTask({ ttl: extra.taskRequestedTtl ?? undefined, pollInterval: TASK_POLL_MS });
      const progress = progressOf(extra);
      if (!tasks.isTask(task.taskId)) {
        tasks.answerDirect(task.taskId, await run(args as Record<string, unknown>, { signal: extra.signal, progress }));
        return { task: { ...task, status: 'completed' } };
      }
      const id = task.taskId;
      if (durable) {
        let jobId: string | undefined;
        try {
          jobId = await durable(args as Record<string, unknown>);
        } catch (err) {
          // Refused before it ran (policy, approval, an unreachable host): a failed task that says why.
          await extra.taskStore.storeTaskResult(id, 'failed', { content: [{ type: 'text', text: errorOutcome(err).text }], isError: true });
          return { task: (await tasks.getTask(id)) ?? { ...task, status: 'failed' } };
        }
        if (jobId !== undefined) return { task: await tasks.adoptJob(id, jobId) };
      }
      void run(args as Record<string, unknown>, { signal: tasks.signal(id), progress })
        .then(
          (r) => extra.taskStore.storeTaskResult(id, r.isError ? 'failed' : 'completed', r),
          (err: unknown) => extra.taskStore.storeTaskResult(id, 'failed', { content: [{ type: 'text', text: `Error: ${(err as Error)?.message ?? String(err)}` }], isError: true }),
        )
        .catch(() => {}); // the task was forgotten meanwhile (the shim is closing): nobody is left to tell
      return { task };
    },
    getTask: async (_args, extra) => extra.taskStore.getTask(extra.taskId),
    getTaskResult: async (_args, extra) => (await extra.taskStore.getTaskResult(extra.taskId)) as CallToolResult,
  };
  return handler as unknown as ToolTaskHandler<A>;
}
