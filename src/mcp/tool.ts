// The `scout` tool: Scout MCP's one tool, same parameters and meanings, every mode one or a few daemon calls.
// Dispatch order follows Scout MCP (beam conflicts → remote-to-remote beam → targets → target: hosts, beam,
// find, diff, diff_content, query, tree, read/list); `tree` is not in its chain but it is its own mode here.
import { execProgress, hostsProgress, type ProgressSink, transferProgress } from './progress.js';
import { type OutputLink, StreamCapture, linkFor } from './output-pages.js';
import { tryUtf8 } from '../protocol/text.js';
import { remotePath } from '../protocol/paths.js';
import { suggest } from '../protocol/suggest.js';
import type { CallArgs } from '../client/client.js';
import type { MethodName, ResultOf } from '../protocol/table.js';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ScoutError, isScoutError } from '../protocol/errors.js';
import type { ExecResult, FleetExecResult, TransferProgress } from '../protocol/methods/index.js';
import { unifiedDiff } from './diff.js';
import { errorShape } from './shapes.js';
import { startBackground } from './jobs.js';
import { broadcastText, errorText, execText, fileText, hostsText, listingText, transferText, treeText, type Section } from './format.js';
import type { FsReadResult } from '../protocol/methods/index.js';

/** How the shim reaches the daemon: one RPC per call (connection, reconnection and auto-start live behind it). */
/** Kept outputs as MCP `resource_link` content. */
export function linkContent(links: OutputLink[] = []) {
  return links.map((l) => ({ type: 'resource_link' as const, mimeType: 'application/octet-stream', ...l }));
}

/** The shim's line to the daemon: `ScoutClient.call`'s typed contract, nothing more. */
export interface Rpc {
  call<M extends MethodName>(method: M, ...args: CallArgs<M>): Promise<ResultOf<M>>;
}

/** Depth of `tree` (Scout MCP's fixed `tree -L 3`). */
export const TREE_DEPTH = 3;
/** Default and bounds of `depth` for `find` (Scout MCP: 5, validated 1–10). */
export const FIND_DEFAULT_DEPTH = 5;
const FIND_MAX_DEPTH = 10;

export const TOOL_DESCRIPTION = `Work on remote hosts from ~/.ssh/config through Scout's warm, shared SSH pool.
- target="hosts": list hosts with online status.
- target="host:/path": read a file, or list a directory (decided by what the path is).
- + query="cmd": run a shell command in that directory (pipes work); + background=true: start it as a background job and return its id at once (for builds, tests, tails: read it with scout_jobs); + tree=true: directory tree; + find="*.log" (depth, default 5): find by name.
- + diff="host2:/path": unified diff against another file; + diff_content="text": diff against expected text.
- targets=["h1:/p", "h2:/p"] (+ query): the same read or command on many hosts at once; one failure never fails the rest.
- beam="/local/path" with target: upload if the local path exists, else download to it; beam_source + beam_target: copy host to host.`;

/** Input schema (zod raw shape): Scout MCP's parameter names. */
export const scoutInput = {
  target: z.string().default('').describe('"hosts", or "host:/path" (a file or directory on that host)'),
  query: z.string().optional().describe('shell command run with the target directory as cwd (with targets: on every target)'),
  background: z.boolean().default(false).describe('with query: run it as a background job and return its job id at once; read the output with the scout_jobs tool'),
  tree: z.boolean().default(false).describe(`show a directory tree of the target (depth ${TREE_DEPTH})`),
  find: z.string().optional().describe('glob on entry names to find below the target directory, e.g. "*.conf"'),
  depth: z
    .number()
    .int()
    .min(1, { error: (iss) => `depth must be 1-${FIND_MAX_DEPTH}, got ${iss.input}` })
    .max(FIND_MAX_DEPTH, { error: (iss) => `depth must be 1-${FIND_MAX_DEPTH}, got ${iss.input}` })
    .default(FIND_DEFAULT_DEPTH)
    .describe(`how deep find descends (1-${FIND_MAX_DEPTH}, default ${FIND_DEFAULT_DEPTH})`),
  diff: z.string().optional().describe('another "host:/path" file to compare the target file with'),
  diff_content: z.string().optional().describe('expected text to compare the target file with'),
  targets: z.array(z.string()).optional().describe('several "host:/path" targets: read each, or run query on each'),
  beam: z.string().optional().describe('local path: upload it to target if it exists, else download target to it'),
  beam_source: z.string().optional().describe('"host:/path" to copy from (with beam_target)'),
  beam_target: z.string().optional().describe('"host:/path" to copy to (with beam_source)'),
};

/** What `scout` answers, by mode: the fields every mode shares a meaning for are typed, the rest pass through. */
export const SCOUT_MODES = [
  'hosts',
  'read',
  'list',
  'query',
  'background',
  'tree',
  'find',
  'diff',
  'diff_content',
  'upload',
  'download',
  'copy',
  'broadcast_read',
  'broadcast_query',
  'error',
] as const;

export const scoutOutput = z.looseObject({
  mode: z.enum(SCOUT_MODES).describe('which kind of answer this is (the parameters decide: hosts, read, list, query, …)'),
  host: z.string().optional(),
  path: z.string().optional(),
  cwd: z.string().optional(),
  command: z.string().optional(),
  content: z.string().optional().describe('read: the file text (empty for a binary file, see contentOmitted)'),
  exitCode: z.number().nullable().optional(),
  stdout: z.string().optional(),
  stderr: z.string().optional(),
  truncated: z.boolean().optional(),
  omittedBytes: z.number().optional().describe('query: bytes left out of stdout/stderr; the resource_link pages hold them'),
  jobId: z.string().optional().describe('background: read it with scout_jobs'),
  identical: z.boolean().optional(),
  diff: z.string().optional(),
  bytes: z.number().optional(),
  hosts: z.array(z.looseObject({ name: z.string() })).optional(),
  results: z
    .array(z.looseObject({ target: z.string(), ok: z.boolean() }))
    .optional()
    .describe('broadcast: one per target, in the order given'),
  summary: z.object({ ok: z.number(), failed: z.number(), total: z.number() }).optional(),
  error: errorShape.optional(),
});

/**
 * A tool's input schema that refuses an argument it does not have, naming the closest one: `qurey` was
 * silently dropped and the call listed a directory instead of running the command.
 */
export function strictInput<S extends z.ZodRawShape>(shape: S) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code !== 'unrecognized_keys') return undefined;
      return iss.keys.map((k) => `unknown argument '${k}'${suggest(k, known) ? ` (did you mean '${suggest(k, known)}'?)` : ''}`).join('; ') + `; the arguments are ${known.join(', ')}`;
    },
  });
}

export type ScoutArgs = {
  target?: string;
  query?: string;
  background?: boolean;
  tree?: boolean;
  find?: string;
  depth?: number;
  diff?: string;
  diff_content?: string;
  targets?: string[];
  beam?: string;
  beam_source?: string;
  beam_target?: string;
};

export interface ToolOutcome {
  text: string;
  structured: Record<string, unknown>;
  isError?: boolean;
  /** Kept outputs the result points to (`resource_link` content). */
  links?: OutputLink[];
}

export interface Target {
  host: string;
  path: string;
}

function invalid(message: string): ScoutError {
  return new ScoutError('INVALID_PARAMS', message);
}

/** `host:/path`, split on the first colon. `~` and `~/x` mean the remote home (SFTP and cd take them relative). */
export function parseTarget(t: string): Target {
  const colon = t.indexOf(':');
  if (colon < 0) throw invalid(`Invalid target '${t}'. Expected 'host:/path' or 'hosts'`);
  const host = t.slice(0, colon).trim();
  const raw = t.slice(colon + 1).trim();
  if (!host) throw invalid(`Invalid target '${t}': the host is empty. Expected 'host:/path'`);
  if (!raw) throw invalid('Path cannot be empty');
  return { host, path: remotePath(raw) };
}

const label = (t: Target) => `${t.host}:${t.path}`;

/** What a tool call brings besides its arguments: where progress goes when the client asked for it. */
export interface ToolContext {
  progress?: ProgressSink;
}

/**
 * `rpc` with every call bound to `signal`: when the MCP request is cancelled (or its client goes away) each
 * call in flight sends `$/cancel`, and the daemon stops the remote process group, transfer or fleet call.
 */
export function cancellable(rpc: Rpc, signal: AbortSignal): Rpc {
  return {
    call: <M extends MethodName>(method: M, ...[params, opts]: CallArgs<M>) => rpc.call(method, ...([params, { ...opts, signal }] as CallArgs<M>)),
  };
}

/** Run the tool. Never throws: failures come back as an error outcome with the daemon's code and message. */
export async function runScout(rpc: Rpc, args: ScoutArgs, ctx: ToolContext = {}): Promise<ToolOutcome> {
  try {
    return await dispatch(rpc, args, ctx);
  } catch (err) {
    return errorOutcome(err);
  }
}

export function errorOutcome(err: unknown): ToolOutcome {
  const e = isScoutError(err)
    ? { code: err.code, message: err.message, ...(Object.keys(err.details).length ? { data: err.details } : {}) }
    : { code: 'INTERNAL_ERROR', message: (err as Error)?.message ?? String(err) };
  return { text: errorText(e), structured: { mode: 'error', error: e }, isError: true };
}

async function dispatch(rpc: Rpc, a: ScoutArgs, ctx: ToolContext): Promise<ToolOutcome> {
  const target = (a.target ?? '').trim();
  if (a.beam !== undefined && (a.beam_source !== undefined || a.beam_target !== undefined)) {
    throw invalid('beam and beam_source/beam_target are exclusive: use beam with target, or beam_source with beam_target');
  }
  if ((a.beam_source === undefined) !== (a.beam_target === undefined)) throw invalid('beam_source and beam_target must be given together');
  if (a.beam_source !== undefined && a.beam_target !== undefined) return copyRemote(rpc, parseTarget(a.beam_source), parseTarget(a.beam_target));
  if (a.targets !== undefined) return broadcast(rpc, a.targets, a.query, ctx);
  if (target.toLowerCase() === 'hosts') return hosts(rpc);
  if (!target) throw invalid("target is required: 'hosts' or 'host:/path'");
  const t = parseTarget(target);
  if (a.beam !== undefined) return beam(rpc, t, a.beam, ctx);
  if (a.find !== undefined) return find(rpc, t, a.find, a.depth ?? FIND_DEFAULT_DEPTH);
  if (a.diff !== undefined) return diffFiles(rpc, t, parseTarget(a.diff));
  if (a.diff_content !== undefined) return diffContent(rpc, t, a.diff_content);
  if (a.query !== undefined && a.background) {
    if (!a.query.trim()) throw invalid('query must not be empty');
    // A job reports a failed `cd` only later: a file target runs in its directory from the start.
    return startBackground(rpc, (await typeOf(rpc, t)) === 'file' ? { host: t.host, path: path.posix.dirname(t.path) } : t, a.query);
  }
  if (a.query !== undefined) return query(rpc, t, a.query, ctx);
  if (a.tree) return tree(rpc, t);
  return readOrList(rpc, t);
}

async function hosts(rpc: Rpc): Promise<ToolOutcome> {
  const list = await rpc.call('hosts.list', { probe: true });
  return { text: hostsText(list), structured: { mode: 'hosts', hosts: list } };
}

/** A file's contents or a directory's listing, decided by what the remote path is. */
export async function readOrList(rpc: Rpc, t: Target): Promise<ToolOutcome> {
  const st = await rpc.call('fs.stat', t);
  if (st.type !== 'dir') {
    try {
      const r = await rpc.call('fs.read', t);
      // A binary file is not shown: neither as text nor as up to 1.4 MB of base64 in the structured copy.
      const structured = { mode: 'read', host: t.host, ...r, ...(r.encoding === 'base64' ? { content: '', contentOmitted: 'binary: download it with beam' } : {}) };
      return { text: fileText(r), structured };
    } catch (err) {
      // A symlink to a directory: lstat said "symlink", the read says "directory".
      if (!(isScoutError(err, 'REMOTE_IO') && err.details.reason === 'is-directory')) throw err;
    }
  }
  const r = await rpc.call('fs.list', t);
  return { text: listingText(label(t), r.entries), structured: { mode: 'list', host: t.host, ...r } };
}

async function query(rpc: Rpc, t: Target, command: string, ctx: ToolContext): Promise<ToolOutcome> {
  if (!command.trim()) throw invalid('query must not be empty');
  const q = await runIn(rpc, t, command, ctx);
  return { text: q.text, structured: { mode: 'query', host: q.host, cwd: q.cwd, command, ...q.result }, ...(q.links.length ? { links: q.links } : {}) };
}

/**
 * A command run in the target directory and shown to the agent. A file target: `cd` failed and the command
 * never ran (`cd -- f || exit; cmd`), so it runs in the file's directory, which is what the agent meant. Checked
 * only on failure: a query that works pays nothing for it.
 */
export async function runIn(rpc: Rpc, t: Target, command: string, ctx: ToolContext, budget: ExecBudget = {}) {
  let run = await runQuery(rpc, t, command, ctx, budget);
  let inDirOf: string | undefined;
  if (run.r.exitCode !== 0 && run.out.stdout.total === 0 && (await typeOf(rpc, t)) === 'file') {
    inDirOf = t.path;
    t = { host: t.host, path: path.posix.dirname(t.path) };
    run = await runQuery(rpc, t, command, ctx, budget);
  }
  const shown = shownExec(run);
  return { ...shown, host: t.host, cwd: t.path, text: (inDirOf ? `[${inDirOf} is a file: ran in its directory, ${t.path}]\n` : '') + shown.text };
}

/**
 * A captured run as the agent gets it: the result exact when the text holds every byte, else head and tail
 * with `omittedBytes` and a resource_link per large stream to its whole bytes.
 */
export function shownExec({ r, out }: CapturedExec): { result: ExecResult & { omittedBytes?: number }; text: string; links: OutputLink[] } {
  const links = (['stdout', 'stderr'] as const).flatMap((s) => linkFor(s, out[s]) ?? []);
  const shown = { stdout: out.stdout.text(), stderr: out.stderr.text() };
  const omitted = shown.stdout.omitted + shown.stderr.omitted;
  // Small output: exact, as the daemon would have answered (UTF-8 text, or base64 for bytes that are not).
  const result =
    omitted === 0 ? { ...r, ...execResult(out.stdout.bytes(), out.stderr.bytes()) } : { ...r, stdout: shown.stdout.text, stderr: shown.stderr.text, truncated: true, omittedBytes: omitted };
  const text = execText({ ...r, stdout: shown.stdout.text, stderr: shown.stderr.text, truncated: false }) + (links.length ? `\n[the whole output: ${links.map((l) => l.uri).join(', ')}]` : '');
  return { result, text, links };
}

/** The remote path's type, or undefined when it cannot be told (the original failure then stands). */
async function typeOf(rpc: Rpc, t: Target): Promise<string | undefined> {
  return rpc.call('fs.stat', t).then(
    (st) => st.type,
    () => undefined,
  );
}

export interface CapturedExec {
  r: ExecResult;
  out: Record<'stdout' | 'stderr', StreamCapture>;
}

/** What a query may set besides host, cwd and command: its timeout and how many bytes of each stream the text shows. */
export interface ExecBudget {
  timeoutMs?: number;
  textBytes?: number;
  /** Through sudo, as the host's policy allows (the password never passes through MCP). */
  sudo?: boolean;
}

/** One run of a command, every byte streamed to us (the daemon keeps none) into head/tail captures. */
export async function runQuery(rpc: Rpc, t: Target, command: string, ctx: ToolContext, budget: ExecBudget = {}): Promise<CapturedExec> {
  const watch = ctx.progress ? execProgress(ctx.progress) : undefined;
  const out = { stdout: new StreamCapture(budget.textBytes), stderr: new StreamCapture(budget.textBytes) };
  try {
    const r = await rpc.call(
      'ssh.exec',
      { host: t.host, command, cwd: t.path, stream: 'only', ...(budget.timeoutMs ? { timeoutMs: budget.timeoutMs } : {}), ...(budget.sudo ? { sudo: true } : {}) },
      {
        onNotification: (m, o) => {
          if (m !== 'exec.output') return;
          out[o.stream].push(Buffer.from(o.data, o.encoding === 'base64' ? 'base64' : 'utf8'));
          watch?.onOutput(o);
        },
      },
    );
    return { r, out };
  } catch (err) {
    // A long command is what background jobs are for: say so where the agent reads the failure.
    if (isScoutError(err, 'COMMAND_TIMEOUT')) {
      throw new ScoutError(err.code, `${err.message}. For a command that takes longer, run it with background=true and read its output with the scout_jobs tool`, err.details);
    }
    throw err;
  } finally {
    watch?.stop();
  }
}

/** Bytes as the daemon's ExecResult carries them: UTF-8 text when both streams are, else base64. */
function execResult(stdout: Buffer, stderr: Buffer): Pick<ExecResult, 'stdout' | 'stderr' | 'encoding'> {
  const a = tryUtf8(stdout);
  const b = tryUtf8(stderr);
  if (a !== undefined && b !== undefined) return { stdout: a, stderr: b };
  return { stdout: stdout.toString('base64'), stderr: stderr.toString('base64'), encoding: 'base64' };
}

async function tree(rpc: Rpc, t: Target): Promise<ToolOutcome> {
  const r = await rpc.call('fs.tree', { ...t, depth: TREE_DEPTH });
  return { text: treeText({ ...r, path: label(t) }, TREE_DEPTH), structured: { mode: 'tree', host: t.host, ...r } };
}

async function find(rpc: Rpc, t: Target, pattern: string, depth: number): Promise<ToolOutcome> {
  if (!Number.isInteger(depth) || depth < 1 || depth > FIND_MAX_DEPTH) throw invalid(`depth must be 1-${FIND_MAX_DEPTH}, got ${depth}`);
  if (!pattern) throw invalid('find needs a glob pattern, e.g. "*.log"');
  const r = await rpc.call('fs.find', { ...t, pattern, depth });
  const text =
    r.paths.length === 0
      ? `No files matching '${pattern}' found in ${t.path}`
      : `${r.paths.join('\n')}\n\n${r.paths.length} match${r.paths.length === 1 ? '' : 'es'} for '${pattern}' in ${label(t)} (depth ${depth})${r.truncated ? ' [truncated: result cap reached]' : ''}`;
  return { text, structured: { mode: 'find', host: t.host, path: t.path, pattern, depth, ...r } };
}

async function readText(rpc: Rpc, t: Target): Promise<{ text: string; r: FsReadResult }> {
  const r = await rpc.call('fs.read', t);
  if (r.encoding === 'base64') throw new ScoutError('REMOTE_IO', `${label(t)} is a binary file: a text diff cannot show it`, { reason: 'binary', host: t.host, path: t.path });
  return { text: r.content, r };
}

function truncationNote(...rs: Array<{ t: Target; r: FsReadResult }>): string {
  const cut = rs.filter((x) => x.r.truncated);
  return cut.map((x) => `\n[${label(x.t)} truncated at ${x.r.bytes} of ${x.r.size} bytes: only that much was compared]`).join('');
}

export async function diffFiles(rpc: Rpc, a: Target, b: Target): Promise<ToolOutcome> {
  const [x, y] = await Promise.all([readText(rpc, a), readText(rpc, b)]);
  const d = unifiedDiff(x.text, y.text, label(a), label(b));
  const note = truncationNote({ t: a, r: x.r }, { t: b, r: y.r });
  const text = d ? d.trimEnd() + note : `Files are identical:\n  ${label(a)}\n  ${label(b)}${note}`;
  return { text, structured: { mode: 'diff', from: label(a), to: label(b), identical: !d, diff: d } };
}

export async function diffContent(rpc: Rpc, t: Target, expected: string): Promise<ToolOutcome> {
  const x = await readText(rpc, t);
  const d = unifiedDiff(expected, x.text, 'expected', label(t));
  const note = truncationNote({ t, r: x.r });
  const text = d ? d.trimEnd() + note : `File matches expected content: ${label(t)}${note}`;
  return { text, structured: { mode: 'diff_content', path: label(t), identical: !d, diff: d } };
}

async function beam(rpc: Rpc, t: Target, local: string, ctx: ToolContext): Promise<ToolOutcome> {
  const progress = ctx.progress ? { onNotification: (m: string, p: unknown) => m === 'transfer.progress' && transferProgress(ctx.progress!)(p as TransferProgress) } : {};
  // The daemon runs as this user on this machine and resolves local paths itself: give it an absolute one.
  const localPath = path.resolve(local);
  // recursive: a file transfers as a file and a directory as a tree, so one beam works for both.
  if (fs.existsSync(localPath)) {
    const r = await rpc.call('transfer.put', { host: t.host, localPath, remotePath: t.path, recursive: true }, progress);
    const to = r.path ? `${t.host}:${r.path}` : label(t);
    return { text: transferText('Uploaded', localPath, to, r), structured: { mode: 'upload', host: t.host, localPath, remotePath: t.path, ...r } };
  }
  const r = await rpc.call('transfer.get', { host: t.host, remotePath: t.path, localPath, recursive: true }, progress);
  return { text: transferText('Downloaded', label(t), r.path ?? localPath, r), structured: { mode: 'download', host: t.host, localPath, remotePath: t.path, ...r } };
}

async function copyRemote(rpc: Rpc, from: Target, to: Target): Promise<ToolOutcome> {
  const r = await rpc.call('transfer.copy', { from, to, recursive: true });
  const dst = r.path ? `${to.host}:${r.path}` : label(to);
  return { text: `${transferText('Copied', label(from), dst, r)} (remote to remote, streamed through this machine)`, structured: { mode: 'copy', from: label(from), to: label(to), ...r } };
}

type Row = Section & { result: Record<string, unknown> };

function execRow(t: Target, r: ExecResult): Row {
  const ok = r.exitCode === 0;
  const body = ok ? execText(r) : `${execText(r)}\nCommand exited with ${r.exitCode === null ? `signal ${r.signal}` : `code ${r.exitCode}`}`;
  return { title: label(t), ok, body, result: { target: label(t), ok, mode: 'query', host: t.host, cwd: t.path, ...r } };
}

function errorRow(t: Target, err: unknown): Row {
  const out = errorOutcome(err);
  return { title: label(t), ok: false, body: out.text, result: { target: label(t), ok: false, ...out.structured } };
}

/**
 * The command on every target: one fleet.exec per distinct directory (the daemon bounds how many hosts run
 * at once and reports each host's failure on its own), results put back in the order given.
 */
async function broadcastQuery(rpc: Rpc, targets: Target[], command: string, done?: HostDone): Promise<Row[]> {
  if (!command.trim()) throw invalid('query must not be empty');
  const groups: Array<{ path: string; items: Array<{ t: Target; i: number }> }> = [];
  targets.forEach((t, i) => {
    // fleet.exec reports per host, so a host named twice for one path goes to a group of its own.
    let g = groups.find((x) => x.path === t.path && !x.items.some((y) => y.t.host === t.host));
    if (!g) groups.push((g = { path: t.path, items: [] }));
    g.items.push({ t, i });
  });
  const rows: Row[] = new Array(targets.length);
  await Promise.all(
    groups.map(async (g) => {
      let res: FleetExecResult;
      try {
        res = await rpc.call('fleet.exec', { hosts: g.items.map((x) => x.t.host), command, cwd: g.path }, done ? { onNotification: (m, p) => m === 'fleet.progress' && done(p.host, p.ok) } : {});
      } catch (err) {
        for (const x of g.items) {
          rows[x.i] = errorRow(x.t, err);
          done?.(x.t.host, false);
        }
        return;
      }
      g.items.forEach((x, k) => {
        const r = res.results[k];
        if (r?.result) rows[x.i] = execRow(x.t, r.result);
        else rows[x.i] = errorRow(x.t, new ScoutError(r?.error?.code ?? 'INTERNAL_ERROR', r?.error?.message ?? 'no result for this host'));
      });
    }),
  );
  return rows;
}

/** Many targets: each read (or listed) concurrently over the one daemon connection; failures stay per target. */
async function broadcastRead(rpc: Rpc, targets: Target[], done?: HostDone): Promise<Row[]> {
  return Promise.all(
    targets.map(async (t): Promise<Row> => {
      let row: Row;
      try {
        const out = await readOrList(rpc, t);
        row = { title: label(t), ok: true, body: out.text, result: { target: label(t), ok: true, ...out.structured } };
      } catch (err) {
        row = errorRow(t, err);
      }
      done?.(t.host, row.ok);
      return row;
    }),
  );
}

/** Told as each target is done (progress: hosts done of total). */
type HostDone = (host: string, ok: boolean) => void;

/** The same read or command on many targets, each in its own section, then `N/M hosts succeeded`. */
async function broadcast(rpc: Rpc, targets: string[], command: string | undefined, ctx: ToolContext): Promise<ToolOutcome> {
  if (targets.length === 0) throw invalid('targets is empty: give one or more "host:/path"');
  const parsed = targets.map((t) => {
    if (t.trim().toLowerCase() === 'hosts') throw invalid("broadcast targets must be 'host:/path', not 'hosts'");
    return parseTarget(t);
  });
  const done = ctx.progress ? hostsProgress(ctx.progress, parsed.length) : undefined;
  const rows = command === undefined ? await broadcastRead(rpc, parsed, done) : await broadcastQuery(rpc, parsed, command, done);
  const succeeded = rows.filter((r) => r.ok).length;
  return {
    text: broadcastText(rows),
    structured: {
      mode: command === undefined ? 'broadcast_read' : 'broadcast_query',
      results: rows.map((r) => r.result),
      summary: { ok: succeeded, failed: rows.length - succeeded, total: rows.length },
    },
  };
}
