// scoutctl cat / ls / stat / tree / find / write HOST:PATH: remote files through scoutd's fs.* methods.
// Output is exact (bytes for cat, one path per line for find); --json prints the method's result as is.
import { ScoutError, isScoutError } from '../../protocol/errors.js';
import type { FsStatResult, TreeNode } from '../../protocol/methods/index.js';
import type { ScoutClient } from '../../client/client.js';
import { UsageError, flag } from '../args.js';
import { connect } from '../connect.js';
import { reportError, type CommandContext } from '../main.js';
import { json } from '../output.js';
import { requireRemote, type RemoteSpec } from '../transfer.js';

type EntryType = FsStatResult['type'];

function intFlag(ctx: CommandContext, name: string, min = 0): number | undefined {
  const raw = flag(ctx.args, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} takes an integer ≥ ${min}, got '${raw}'`);
  return n;
}

/** One call: connect, run, print; a Scout error becomes a message and exit code 1. */
async function withClient(ctx: CommandContext, fn: (client: ScoutClient) => Promise<number>): Promise<number> {
  let client: ScoutClient | undefined;
  try {
    client = await connect(ctx);
    return await fn(client);
  } catch (err) {
    return reportError(err, ctx.io, ctx.json);
  } finally {
    client?.close();
  }
}

function target(ctx: CommandContext, what: string): RemoteSpec {
  const words = ctx.args.positional;
  if (words.length !== 1) throw new UsageError(`${what} needs one HOST:PATH`);
  return requireRemote(words[0], 'the path');
}

const TYPE_CHAR: Record<EntryType, string> = { dir: 'd', file: '-', symlink: 'l', other: '?' };

/** `drwxr-xr-x`, with setuid/setgid/sticky shown as ls shows them. */
export function modeString(type: EntryType, mode: number): string {
  const rwx = (bits: number, special: boolean, ch: string) => `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${special ? (bits & 1 ? ch : ch.toUpperCase()) : bits & 1 ? 'x' : '-'}`;
  return `${TYPE_CHAR[type]}${rwx(mode >> 6, (mode & 0o4000) !== 0, 's')}${rwx(mode >> 3, (mode & 0o2000) !== 0, 's')}${rwx(mode, (mode & 0o1000) !== 0, 't')}`;
}

function when(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ');
}

export async function cat(ctx: CommandContext): Promise<number> {
  const t = target(ctx, 'cat');
  const maxBytes = intFlag(ctx, 'max-bytes', 1);
  const offset = intFlag(ctx, 'offset');
  return withClient(ctx, async (client) => {
    const r = await client.call('fs.read', { ...t, ...(maxBytes ? { maxBytes } : {}), ...(offset ? { offset } : {}) });
    if (ctx.json) {
      ctx.io.out(json(r) + '\n');
      return 0;
    }
    process.stdout.write(r.encoding === 'base64' ? Buffer.from(r.content, 'base64') : r.content);
    if (r.truncated) ctx.io.err(`scoutctl: ${t.host}:${t.path} truncated at ${r.bytes} of ${r.size} bytes (--max-bytes, SCOUT_MAX_FILE_SIZE, or scoutctl get for the whole file)\n`);
    return 0;
  });
}

export async function ls(ctx: CommandContext): Promise<number> {
  const t = target(ctx, 'ls');
  const all = ctx.args.flags.has('all');
  return withClient(ctx, async (client) => {
    const r = await client.call('fs.list', { ...t, ...(all ? { all } : {}) });
    if (ctx.json) {
      ctx.io.out(json(r) + '\n');
      return 0;
    }
    const width = Math.max(1, ...r.entries.map((e) => String(e.size).length));
    const rows = r.entries.map((e) => {
      const name = e.type === 'dir' ? `${e.name}/` : e.linkTarget !== undefined ? `${e.name} -> ${e.linkTarget}` : e.name;
      return `${modeString(e.type, e.mode)}  ${String(e.size).padStart(width)}  ${when(e.mtime)}  ${name}\n`;
    });
    ctx.io.out(rows.join(''));
    if (r.truncated) ctx.io.err(`scoutctl: listing cut at ${r.entries.length} entries\n`);
    return 0;
  });
}

export async function stat(ctx: CommandContext): Promise<number> {
  const t = target(ctx, 'stat');
  return withClient(ctx, async (client) => {
    const r = await client.call('fs.stat', t);
    if (ctx.json) {
      ctx.io.out(json(r) + '\n');
      return 0;
    }
    const lines = [
      `path:  ${t.host}:${r.path}`,
      `type:  ${r.type}${r.linkTarget !== undefined ? ` -> ${r.linkTarget}` : ''}`,
      `size:  ${r.size}`,
      `mode:  ${r.mode.toString(8).padStart(4, '0')} (${modeString(r.type, r.mode)})`,
      `mtime: ${r.mtime}`,
    ];
    ctx.io.out(lines.join('\n') + '\n');
    return 0;
  });
}

export async function tree(ctx: CommandContext): Promise<number> {
  const t = target(ctx, 'tree');
  const depth = intFlag(ctx, 'depth', 1);
  const maxEntries = intFlag(ctx, 'max-entries', 1);
  const all = ctx.args.flags.has('all');
  return withClient(ctx, async (client) => {
    const r = await client.call('fs.tree', { ...t, ...(depth ? { depth } : {}), ...(maxEntries ? { maxEntries } : {}), ...(all ? { all } : {}) });
    if (ctx.json) {
      ctx.io.out(json(r) + '\n');
      return 0;
    }
    const lines = [`${t.host}:${r.path}`];
    const walk = (nodes: TreeNode[], prefix: string) => {
      nodes.forEach((n, i) => {
        const last = i === nodes.length - 1;
        const note = n.error ? `  [${n.error}]` : '';
        lines.push(`${prefix}${last ? '└── ' : '├── '}${n.name}${n.type === 'dir' ? '/' : ''}${note}`);
        if (n.children?.length) walk(n.children, prefix + (last ? '    ' : '│   '));
      });
    };
    walk(r.root.children ?? [], '');
    lines.push('', `${r.entries} entr${r.entries === 1 ? 'y' : 'ies'}${r.truncated ? ' (cut at the entry cap: --max-entries)' : ''}`);
    ctx.io.out(lines.join('\n') + '\n');
    return 0;
  });
}

const TYPES: Record<string, 'file' | 'dir' | 'symlink'> = { f: 'file', file: 'file', d: 'dir', dir: 'dir', l: 'symlink', symlink: 'symlink' };

export async function find(ctx: CommandContext): Promise<number> {
  const [where, pattern, ...extra] = ctx.args.positional;
  if (!where || !pattern || extra.length) throw new UsageError("find needs HOST:PATH and a PATTERN (quote it: '*.log')");
  const t = requireRemote(where, 'the path');
  const rawType = flag(ctx.args, 'type');
  const type = rawType === undefined ? undefined : TYPES[rawType];
  if (rawType !== undefined && !type) throw new UsageError(`--type takes f, d or l, got '${rawType}'`);
  const depth = intFlag(ctx, 'depth', 1);
  const maxResults = intFlag(ctx, 'max-results', 1);
  return withClient(ctx, async (client) => {
    const r = await client.call('fs.find', { ...t, pattern, ...(type ? { type } : {}), ...(depth ? { depth } : {}), ...(maxResults ? { maxResults } : {}) });
    if (ctx.json) {
      ctx.io.out(json(r) + '\n');
      return 0;
    }
    ctx.io.out(r.paths.map((p) => `${p}\n`).join(''));
    if (r.truncated) ctx.io.err(`scoutctl: stopped at ${r.paths.length} results (--max-results)\n`);
    if (r.skipped?.length) ctx.io.err(`scoutctl: could not read ${r.skipped.length} director${r.skipped.length === 1 ? 'y' : 'ies'}: ${r.skipped.slice(0, 5).join(', ')}\n`);
    return 0;
  });
}

/** Everything on stdin, as bytes. */
async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function write(ctx: CommandContext): Promise<number> {
  const t = target(ctx, 'write');
  const rawMode = flag(ctx.args, 'mode');
  const mode = rawMode === undefined ? undefined : /^[0-7]{3,4}$/.test(rawMode) ? parseInt(rawMode, 8) : NaN;
  if (Number.isNaN(mode)) throw new UsageError(`--mode takes octal permission bits like 644, got '${rawMode}'`);
  const createDirs = ctx.args.flags.has('create-dirs');
  const data = await readStdin();
  // Text travels as text; anything else as base64, so no byte is changed on the way.
  const text = new TextDecoder('utf-8', { fatal: false }).decode(data);
  const asText = Buffer.from(text, 'utf8').equals(data);
  return withClient(ctx, async (client) => {
    const r = await client
      .call('fs.write', {
        ...t,
        content: asText ? text : data.toString('base64'),
        ...(asText ? {} : { encoding: 'base64' }),
        ...(mode !== undefined ? { mode } : {}),
        ...(createDirs ? { createDirs } : {}),
      })
      .catch((err: unknown) => {
        // The daemon speaks of its param; here the way to ask for it is -p.
        if (isScoutError(err, 'REMOTE_NOT_FOUND') && !createDirs) throw new ScoutError(err.code, err.message.replace('pass createDirs', 'scoutctl write -p'), err.details);
        throw err;
      });
    if (ctx.json) ctx.io.out(json(r) + '\n');
    else ctx.io.err(`wrote ${r.bytes} bytes to ${t.host}:${r.path}\n`);
    return 0;
  });
}
