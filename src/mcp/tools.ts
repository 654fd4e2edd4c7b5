// Granular tools beside `scout` and `scout_jobs` (which stay exactly as the Python Scout MCP has them): one
// tool per kind of work, each with a title, honest annotations and an outputSchema its structuredContent
// validates against. A client that gates on annotations can let the read-only ones run without asking.
// SCOUT_MCP_TOOLS chooses what is listed: `all` (default), `scout` (the compatible pair only) or `granular`.
import path from 'node:path';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { ScoutError } from '../protocol/errors.js';
import { MAX_FS_IO_BYTES } from '../protocol/methods/index.js';
import { fileText, hostsText, listingText, transferText, treeText } from './format.js';
import { type ProgressUpdate, progressOf, transferProgress } from './progress.js';
import { type Rpc, type Target, cancellable, diffContent, diffFiles, errorOutcome, linkContent, parseTarget, runIn, strictInput } from './tool.js';
import type { OutputLink } from './output-pages.js';
import { type TaskRun, type ToolTasks, taskHandler } from './tasks.js';

export type ToolSet = 'all' | 'scout' | 'granular';

/** SCOUT_MCP_TOOLS, refused loudly when it is not one of the sets. */
export function toolSet(env: NodeJS.ProcessEnv): ToolSet {
  const v = (env.SCOUT_MCP_TOOLS ?? 'all').trim().toLowerCase();
  if (v === 'all' || v === 'scout' || v === 'granular') return v;
  throw new Error(`SCOUT_MCP_TOOLS must be all, scout or granular, got '${env.SCOUT_MCP_TOOLS}'`);
}

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true } as const;
const ACTS = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true } as const;
/** Changes state without destroying any: opening or closing a forward. */
const ADDS = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true } as const;

const target = z.string().min(1).describe('"host:/path" (a host from ~/.ssh/config; ~/x is under the remote home)');
const entryType = z.enum(['file', 'dir', 'symlink', 'other']);
const entry = z.looseObject({ name: z.string(), type: entryType, size: z.number(), mode: z.number(), mtime: z.string(), linkTarget: z.string().optional() });
const transferOut = { direction: z.enum(['upload', 'download', 'copy']), bytes: z.number(), files: z.number(), durationMs: z.number(), path: z.string(), skipped: z.array(z.string()).optional() };

type Out = { text: string; structured: Record<string, unknown>; links?: OutputLink[] };
type Ctx = { rpc: Rpc; progress?: (p: ProgressUpdate) => void };

interface GranularTool {
  name: string;
  title: string;
  description: string;
  annotations: typeof READ_ONLY | typeof ACTS | typeof ADDS;
  input: z.ZodRawShape;
  output: z.ZodRawShape;
  run: (args: Record<string, unknown>, ctx: Ctx) => Promise<Out>;
  /** Long work: the call may be made an MCP task. */
  task?: true;
  /** Made a task, it runs as a durable job instead (job-tasks.ts): start it, or say undefined to run it here. */
  durable?: (args: Record<string, unknown>, rpc: Rpc) => Promise<string | undefined>;
}

const t = (raw: unknown): Target => parseTarget(String(raw));

const TOOLS: GranularTool[] = [
  {
    name: 'scout_hosts',
    title: 'List SSH hosts',
    description: 'Hosts configured in ~/.ssh/config, each probed: online or not, and how it is reached.',
    annotations: READ_ONLY,
    input: {},
    output: { hosts: z.array(z.looseObject({ name: z.string(), hostname: z.string(), user: z.string(), port: z.number(), connected: z.boolean(), online: z.boolean().optional() })) },
    run: async (_a, { rpc }) => {
      const hosts = await rpc.call('hosts.list', { probe: true });
      return { text: hostsText(hosts), structured: { hosts } };
    },
  },
  {
    name: 'scout_read',
    title: 'Read a remote file',
    description: 'The text of a file on a host (cut at max_bytes, default SCOUT_MAX_FILE_SIZE; a binary file is described, not dumped).',
    annotations: READ_ONLY,
    input: {
      target,
      max_bytes: z.number().int().min(1).max(MAX_FS_IO_BYTES).optional().describe('read at most this many bytes from the start (the answer says when the file is longer)'),
    },
    output: {
      host: z.string(),
      path: z.string(),
      content: z.string(),
      encoding: z.enum(['utf8', 'base64']),
      size: z.number(),
      bytes: z.number(),
      truncated: z.boolean(),
      contentOmitted: z.string().optional(),
    },
    run: async (a, { rpc }) => {
      const tg = t(a.target);
      const r = await rpc.call('fs.read', { ...tg, ...(typeof a.max_bytes === 'number' ? { maxBytes: a.max_bytes } : {}) });
      const binary = r.encoding === 'base64' ? { content: '', contentOmitted: 'binary: download it with scout_transfer' } : {};
      return { text: fileText(r), structured: { host: tg.host, path: r.path, content: r.content, encoding: r.encoding, size: r.size, bytes: r.bytes, truncated: r.truncated, ...binary } };
    },
  },
  {
    name: 'scout_list',
    title: 'List a remote directory',
    description: 'Entries of a directory on a host: type, mode, size, mtime, name; directories first.',
    annotations: READ_ONLY,
    input: { target, all: z.boolean().optional().describe('include dot entries') },
    output: { host: z.string(), path: z.string(), entries: z.array(entry), truncated: z.boolean() },
    run: async (a, { rpc }) => {
      const tg = t(a.target);
      const r = await rpc.call('fs.list', { ...tg, ...(a.all === true ? { all: true } : {}) });
      return { text: listingText(`${tg.host}:${tg.path}`, r.entries), structured: { host: tg.host, path: r.path, entries: r.entries, truncated: r.truncated } };
    },
  },
  {
    name: 'scout_stat',
    title: 'Stat a remote path',
    description: 'Type, size, permission bits and mtime of a path on a host (a symlink itself, with its target).',
    annotations: READ_ONLY,
    input: { target },
    output: { host: z.string(), path: z.string(), type: entryType, size: z.number(), mode: z.number(), mtime: z.string(), linkTarget: z.string().optional() },
    run: async (a, { rpc }) => {
      const tg = t(a.target);
      const r = await rpc.call('fs.stat', tg);
      return {
        text: `${r.type} ${r.path}: ${r.size} bytes, mode ${r.mode.toString(8).padStart(4, '0')}, modified ${r.mtime}${r.linkTarget ? ` -> ${r.linkTarget}` : ''}`,
        structured: { host: tg.host, ...r },
      };
    },
  },
  {
    name: 'scout_find',
    title: 'Find remote files by name',
    description: 'Paths below a directory on a host whose name matches a glob (like find -name), breadth first.',
    annotations: READ_ONLY,
    input: { target, pattern: z.string().min(1).describe('glob on entry names, e.g. "*.log"'), depth: z.number().int().min(1).max(10).optional().describe('levels to descend (1-10, default 5)') },
    output: { host: z.string(), path: z.string(), pattern: z.string(), paths: z.array(z.string()), truncated: z.boolean() },
    run: async (a, { rpc }) => {
      const tg = t(a.target);
      const pattern = String(a.pattern);
      const r = await rpc.call('fs.find', { ...tg, pattern, depth: typeof a.depth === 'number' ? a.depth : 5 });
      return {
        text: r.paths.length ? r.paths.join('\n') : `No files matching '${pattern}' found in ${tg.path}`,
        structured: { host: tg.host, path: tg.path, pattern, paths: r.paths, truncated: r.truncated },
      };
    },
  },
  {
    name: 'scout_tree',
    title: 'Show a remote directory tree',
    description: 'A directory on a host as a tree, bounded in depth and entries.',
    annotations: READ_ONLY,
    input: { target, depth: z.number().int().min(1).max(10).optional().describe('levels below the directory (1-10, default 3)') },
    output: { host: z.string(), path: z.string(), root: z.looseObject({ name: z.string(), type: entryType }), entries: z.number(), truncated: z.boolean() },
    run: async (a, { rpc }) => {
      const tg = t(a.target);
      const depth = typeof a.depth === 'number' ? a.depth : 3;
      const r = await rpc.call('fs.tree', { ...tg, depth });
      return { text: treeText({ ...r, path: `${tg.host}:${tg.path}` }, depth), structured: { host: tg.host, ...r } };
    },
  },
  {
    name: 'scout_diff',
    title: 'Compare remote files',
    description: 'Unified diff of a file on a host against another remote file (other) or against expected text (expected).',
    annotations: READ_ONLY,
    input: {
      target,
      other: z.string().min(1).optional().describe('another "host:/path" file to compare with'),
      expected: z.string().optional().describe('the text the file should hold'),
    },
    output: { from: z.string(), to: z.string(), identical: z.boolean(), diff: z.string() },
    run: async (a, { rpc }) => {
      if ((a.other === undefined) === (a.expected === undefined)) throw new ScoutError('INVALID_PARAMS', 'give exactly one of other ("host:/path") and expected (text)');
      const tg = t(a.target);
      if (a.other !== undefined) {
        const out = await diffFiles(rpc, tg, t(a.other));
        const { from, to, identical, diff } = out.structured as { from: string; to: string; identical: boolean; diff: string };
        return { text: out.text, structured: { from, to, identical, diff } };
      }
      const out = await diffContent(rpc, tg, String(a.expected));
      const { path: to, identical, diff } = out.structured as { path: string; identical: boolean; diff: string };
      return { text: out.text, structured: { from: 'expected', to, identical, diff } };
    },
  },
  {
    name: 'scout_exec',
    title: 'Run a command on a host',
    description: 'Run a shell command on a host (cwd: the target path) and return its exit code and output. It can change anything the remote user can; cancelling the call stops it.',
    annotations: ACTS,
    task: true,
    input: {
      target,
      command: z.string().min(1).describe('shell command line, run by the remote shell'),
      timeout_seconds: z.number().positive().max(86_400).optional().describe('stop it after this long (default: SCOUT_COMMAND_TIMEOUT)'),
      max_output_bytes: z
        .number()
        .int()
        .min(256)
        .max(1024 * 1024)
        .optional()
        .describe('most bytes of each stream shown in the answer (default 64 KiB whole, else 16 KiB head and tail); the rest stays readable through the resource_link'),
      sudo: z.boolean().optional().describe("run it as root through sudo, where the host's Scout policy allows it (the password comes from the user's configured source, never from you)"),
    },
    output: {
      host: z.string(),
      cwd: z.string(),
      command: z.string(),
      exitCode: z.number().nullable(),
      signal: z.string().nullable(),
      stdout: z.string(),
      stderr: z.string(),
      encoding: z.enum(['utf8', 'base64']).optional(),
      truncated: z.boolean(),
      omittedBytes: z.number().optional(),
      durationMs: z.number(),
      via: z.enum(['warm-shell', 'exec-channel']).optional(),
    },
    run: async (a, { rpc, progress }) => {
      const command = String(a.command);
      const budget = {
        ...(typeof a.timeout_seconds === 'number' ? { timeoutMs: Math.round(a.timeout_seconds * 1000) } : {}),
        ...(typeof a.max_output_bytes === 'number' ? { textBytes: a.max_output_bytes } : {}),
        ...(a.sudo === true ? { sudo: true } : {}),
      };
      const q = await runIn(rpc, t(a.target), command, { progress }, budget);
      return { text: q.text, structured: { host: q.host, cwd: q.cwd, command, ...q.result }, links: q.links };
    },
    // A task outlives this call, this process and scoutd: a durable job. sudo asks for a password as it
    // starts, which a detached job cannot answer: it runs here.
    durable: async (a, rpc) => {
      if (a.sudo === true) return undefined;
      const { host, path: cwd } = t(a.target);
      const timeout = typeof a.timeout_seconds === 'number' ? { timeoutMs: Math.round(a.timeout_seconds * 1000) } : {};
      return (await rpc.call('jobs.start', { host, command: String(a.command), cwd, durable: true, ...timeout })).jobId;
    },
  },
  {
    name: 'scout_write',
    title: 'Write a remote file',
    description: 'Replace (or create) a file on a host with the given text, atomically (temp file, then rename).',
    annotations: ACTS,
    input: { target, content: z.string().describe('the whole new content (UTF-8 text)'), create_dirs: z.boolean().optional().describe('create missing parent directories') },
    output: { host: z.string(), path: z.string(), bytes: z.number() },
    run: async (a, { rpc }) => {
      const tg = t(a.target);
      const r = await rpc.call('fs.write', { ...tg, content: String(a.content), ...(a.create_dirs === true ? { createDirs: true } : {}) });
      return { text: `wrote ${r.bytes} bytes to ${tg.host}:${r.path}`, structured: { host: tg.host, ...r } };
    },
  },
  {
    name: 'scout_transfer',
    title: 'Copy files to, from or between hosts',
    description:
      'Copy a file or directory tree: a local path to "host:/path" (upload), "host:/path" to a local path (download) or between two hosts. Atomic per file; cancelling leaves no partial file under the final name.',
    annotations: ACTS,
    task: true,
    input: { source: z.string().min(1).describe('a local path or "host:/path"'), destination: z.string().min(1).describe('a local path or "host:/path"') },
    output: transferOut,
    run: async (a, { rpc, progress }) => {
      const remote = (s: string) => /^[^/.~][^:/]*:/.test(s);
      const src = String(a.source);
      const dst = String(a.destination);
      const opts = progress ? { onNotification: (m: string, p: unknown) => m === 'transfer.progress' && transferProgress(progress)(p as Parameters<ReturnType<typeof transferProgress>>[0]) } : {};
      if (remote(src) && remote(dst)) {
        const r = await rpc.call('transfer.copy', { from: t(src), to: t(dst), recursive: true }, opts);
        return { text: transferText('Copied', src, dst, r), structured: { direction: 'copy', ...r } };
      }
      if (remote(dst)) {
        const to = t(dst);
        const r = await rpc.call('transfer.put', { host: to.host, localPath: path.resolve(src), remotePath: to.path, recursive: true }, opts);
        return { text: transferText('Uploaded', src, dst, r), structured: { direction: 'upload', ...r } };
      }
      if (remote(src)) {
        const from = t(src);
        const r = await rpc.call('transfer.get', { host: from.host, remotePath: from.path, localPath: path.resolve(dst), recursive: true }, opts);
        return { text: transferText('Downloaded', src, dst, r), structured: { direction: 'download', ...r } };
      }
      throw new ScoutError('INVALID_PARAMS', `one of source and destination must be "host:/path" (got '${src}' and '${dst}')`);
    },
  },
  {
    name: 'scout_forward',
    title: 'Port forwards through a host',
    description:
      'Port forwards owned by scoutd, which outlive this session: action="open" with host, kind (local: listen here, the host connects to target; remote: the host listens, this machine connects to target; dynamic: a SOCKS5 proxy here) and ports; action="list"; action="close" with id. Listeners bind 127.0.0.1 unless bind_address says otherwise.',
    annotations: ADDS,
    input: {
      action: z.enum(['open', 'list', 'close']).describe('open, list or close'),
      host: z.string().min(1).optional().describe('open: the host from ~/.ssh/config'),
      kind: z.enum(['local', 'remote', 'dynamic']).optional().describe('open: local (-L), remote (-R) or dynamic (-D, SOCKS5)'),
      bind_address: z.string().min(1).optional().describe('open: where to listen (default 127.0.0.1)'),
      bind_port: z.number().int().min(0).max(65_535).optional().describe('open: the port to listen on; 0 picks a free one'),
      target_host: z.string().min(1).optional().describe('open, local and remote: where connections go'),
      target_port: z.number().int().min(1).max(65_535).optional().describe('open, local and remote: the port they go to'),
      id: z.string().optional().describe('close: the forward id (from open or list)'),
    },
    output: { forwards: z.array(z.looseObject({ id: z.string(), host: z.string(), kind: z.string(), bind: z.string(), state: z.string() })), closed: z.boolean().optional() },
    run: async (a, { rpc }) => {
      const line = (f: { id: string; kind: string; host: string; bind: string; target?: string; state: string }) =>
        `${f.id} ${f.kind} ${f.bind} via ${f.host}${f.target ? ` -> ${f.target}` : ''} (${f.state})`;
      if (a.action === 'list') {
        const { forwards } = await rpc.call('forward.list', {});
        return { text: forwards.length ? forwards.map(line).join('\n') : 'No forwards.', structured: { forwards } };
      }
      if (a.action === 'close') {
        if (typeof a.id !== 'string') throw new ScoutError('INVALID_PARAMS', 'action="close" needs id (see action="list")');
        const r = await rpc.call('forward.close', { id: a.id });
        return { text: r.closed ? `Closed ${a.id}.` : `No forward ${a.id}.`, structured: { forwards: (await rpc.call('forward.list', {})).forwards, closed: r.closed } };
      }
      if (typeof a.host !== 'string' || typeof a.kind !== 'string' || typeof a.bind_port !== 'number') throw new ScoutError('INVALID_PARAMS', 'action="open" needs host, kind and bind_port');
      const f = await rpc.call('forward.open', {
        host: a.host,
        kind: a.kind as 'local' | 'remote' | 'dynamic',
        bindPort: a.bind_port,
        ...(typeof a.bind_address === 'string' ? { bindAddress: a.bind_address } : {}),
        ...(typeof a.target_host === 'string' ? { targetHost: a.target_host } : {}),
        ...(typeof a.target_port === 'number' ? { targetPort: a.target_port } : {}),
      });
      return { text: `Opened ${line(f)}; it stays open until closed (action="close", id="${f.id}").`, structured: { forwards: [f] } };
    },
  },
];

/** Register the granular tools on `server`; the long ones (exec, transfer) may be made tasks. */
export function registerGranularTools(server: McpServer, rpc: Rpc, tasks: ToolTasks, offered: (name: string) => boolean = () => true): void {
  for (const tool of TOOLS.filter((x) => offered(x.name))) {
    const run: TaskRun = async (args, call) => {
      try {
        const out = await tool.run(args, { rpc: cancellable(rpc, call.signal), progress: call.progress });
        await call.progress?.flush();
        return { content: [{ type: 'text' as const, text: out.text }, ...linkContent(out.links)], structuredContent: out.structured };
      } catch (err) {
        // An error result carries no structuredContent: the outputSchema describes success.
        const e = errorOutcome(err);
        return { content: [{ type: 'text' as const, text: e.text }], isError: true };
      }
    };
    const config = { title: tool.title, description: tool.description, inputSchema: strictInput(tool.input), outputSchema: tool.output, annotations: { title: tool.title, ...tool.annotations } };
    const durable = tool.durable && ((args: Record<string, unknown>) => tool.durable!(args, rpc));
    if (tool.task) server.experimental.tasks.registerToolTask(tool.name, { ...config, execution: { taskSupport: 'optional' } }, taskHandler(tasks, run, progressOf, durable));
    else server.registerTool(tool.name, config, (args: Record<string, unknown>, extra) => run(args, { signal: extra.signal, progress: progressOf(extra) }));
  }
}

/** The names, for tests and docs. */
export const GRANULAR_TOOLS = TOOLS.map((x) => ({ name: x.name, readOnly: x.annotations.readOnlyHint, destructive: x.annotations.destructiveHint }));
