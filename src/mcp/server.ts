// scout-mcp: an MCP server on stdio that holds no SSH state. Every tool call and resource read becomes one or
// a few RPC calls to scoutd through ScoutClient, so every agent session shares the daemon's warm, verified
// pool. The daemon is found like every client finds it and started when none answers (client/autostart.ts).
import type { CallArgs } from '../client/client.js';
import type { Grant } from '../protocol/methods/daemon.js';
import type { MethodName, ResultOf } from '../protocol/table.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ScoutClient } from '../client/client.js';
import { ScoutError, isScoutError } from '../protocol/errors.js';
import { packageVersion } from '../protocol/version.js';
import { withApprovals } from './approvals.js';
import { registerResources } from './resources.js';
import { type TaskRun, ToolTasks, taskHandler } from './tasks.js';
import { JOBS_TOOL_DESCRIPTION, jobsInput, jobsOutput, runJobs, type JobsArgs } from './jobs.js';
import { type ToolSet, registerGranularTools, toolSet } from './tools.js';
import { progressOf } from './progress.js';
import { TOOL_DESCRIPTION, cancellable, linkContent, runScout, scoutInput, scoutOutput, strictInput, type Rpc, type ScoutArgs } from './tool.js';

/**
 * The shim's line to the daemon: connects (starting a daemon if none answers) before each call, so a
 * daemon that restarted or crashed since the last call is simply reached again. A call in flight when the
 * daemon goes away fails with the client's DAEMON_UNAVAILABLE error ("closed the connection … retry").
 */
export class DaemonLink implements Rpc {
  readonly client: ScoutClient;

  /** `clientName` names it in the daemon's log and audit log; a `grant` narrows what it may do (scout-mcp --http). */
  constructor(opts: { socket?: string; env?: NodeJS.ProcessEnv; clientName?: string; grant?: Grant } = {}) {
    this.client = new ScoutClient({ socket: opts.socket, env: opts.env, clientName: opts.clientName ?? 'scout-mcp', autoStart: true, grant: opts.grant });
  }

  async call<M extends MethodName>(method: M, ...args: CallArgs<M>): Promise<ResultOf<M>> {
    await this.client.connect().catch(advise);
    return this.client.call(method, ...args);
  }

  close(): void {
    this.client.close();
  }
}

/** A refused socket, told to the agent and its user: nothing was sent, and where the path is set for this server. */
function advise(err: unknown): never {
  if (!isScoutError(err, 'SOCKET_UNTRUSTED')) throw err;
  throw new ScoutError(
    err.code,
    `${err.message}. scout-mcp sent nothing to it: if the user did not make it, another local user may have, to read their commands; set SCOUT_SOCKET in this MCP server's environment to a socket in a directory only the user can write`,
    err.details,
  );
}

/** The MCP capability for tasks: tools/call may be made a task; tasks can be listed and cancelled. */
const TASKS = { list: {}, cancel: {}, requests: { tools: { call: {} } } };

/** The MCP server: `scout` and `scout_jobs` (compatible with the Python Scout MCP) and/or the granular tools. */
export function createServer(link: Rpc, tools: ToolSet = 'all', tasks: ToolTasks = new ToolTasks(), offered: (name: string) => boolean = () => true): McpServer {
  const server = new McpServer(
    { name: 'scout', version: packageVersion() },
    {
      instructions: 'Scout reaches the hosts of ~/.ssh/config through a warm SSH connection pool. Start with scout(target="hosts"), then use "host:/path" targets.',
      capabilities: { tasks: TASKS },
      taskStore: tasks,
    },
  );
  // Every daemon call of this server: a call the policy holds for approval asks this client's person.
  const rpc = withApprovals(link, server);
  if (tools !== 'granular' && offered('scout')) {
    // Cancelling the MCP request (or its task) cancels its daemon calls: the remote command is stopped; a
    // progress token gets notifications/progress while a query, broadcast or transfer runs.
    const scout: TaskRun = async (args, call) => {
      const out = await runScout(cancellable(rpc, call.signal), args as ScoutArgs, { progress: call.progress });
      await call.progress?.flush();
      return { content: [{ type: 'text' as const, text: out.text }, ...linkContent(out.links)], structuredContent: out.structured, ...(out.isError ? { isError: true } : {}) };
    };
    server.experimental.tasks.registerToolTask(
      'scout',
      {
        title: 'Scout: remote hosts over SSH',
        description: TOOL_DESCRIPTION,
        inputSchema: strictInput(scoutInput),
        outputSchema: scoutOutput,
        // It runs commands and transfers files (query, beam), so it is not read-only, and it reaches other machines.
        annotations: { title: 'Scout', readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
        // A query, broadcast or beam may be made a task (tasks/get, tasks/result, tasks/cancel).
        execution: { taskSupport: 'optional' },
      },
      taskHandler(tasks, scout, progressOf),
    );
  }
  if (tools !== 'granular' && offered('scout_jobs')) {
    server.registerTool(
      'scout_jobs',
      {
        title: 'Scout: background jobs',
        description: JOBS_TOOL_DESCRIPTION,
        inputSchema: strictInput(jobsInput),
        outputSchema: jobsOutput,
        // Reading is harmless, but action="stop" signals a remote process.
        annotations: { title: 'Scout jobs', readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
      },
      async (args, extra) => {
        const out = await runJobs(cancellable(rpc, extra.signal), args as JobsArgs);
        return { content: [{ type: 'text' as const, text: out.text }], structuredContent: out.structured, ...(out.isError ? { isError: true } : {}) };
      },
    );
  }
  if (tools !== 'scout') registerGranularTools(server, rpc, tasks, offered);
  registerResources(server, rpc);
  return server;
}

/** Serve MCP on stdin/stdout until stdin closes; then exit at once (the daemon and its connections stay warm). */
export async function runStdio(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // A setting the server cannot honour stops it with the reason, before any client sees a tool list.
  const tools = toolSet(env);
  const link = new DaemonLink({ env });
  const tasks = new ToolTasks(link);
  const server = createServer(link, tools, tasks);
  const transport = new StdioServerTransport(process.stdin, process.stdout);
  const exit = () => {
    tasks.close();
    link.close();
    process.exit(0);
  };
  // The client closing our stdin is the end of the session (MCP stdio transport spec); nothing to drain.
  process.stdin.once('end', exit);
  process.stdin.once('close', exit);
  transport.onclose = exit;
  await server.connect(transport);
}
