// fs.*: remote files on the connection's one SFTP session (opened on first use, reused by every call).
import path from 'node:path';
import { ScoutError, isScoutError } from '../../protocol/errors.js';
import {
  DEFAULT_FIND_DEPTH, DEFAULT_FIND_RESULTS, DEFAULT_LIST_ENTRIES, DEFAULT_TREE_DEPTH, DEFAULT_TREE_ENTRIES, FIND_MAX_VISITED, MAX_FS_IO_BYTES,
  FsFindParams, FsListParams, FsReadParams, FsStatParams, FsTreeParams, FsWriteParams,
  type FsFindResult, type FsListResult, type FsReadResult, type FsStatResult, type FsTreeResult, type FsWriteResult,
} from '../../protocol/methods/index.js';
import { completeUtf8Length, tryUtf8 } from '../../protocol/text.js';
import { RemoteFiles } from '../../ssh/files.js';
import { type CallContext, type Handlers, type Services } from '../context.js';
import { RemoteLeftovers } from './transfer.js';

/** Bytes → wire text: UTF-8 when the bytes are valid UTF-8 without NUL (text), else base64 (no byte lost). */
export function fileContent(data: Buffer, truncated: boolean): { content: string; encoding: 'utf8' | 'base64'; bytes: number } {
  // A cap can cut a multi-byte character in two: drop the partial character rather than call the file binary.
  const text = truncated ? data.subarray(0, completeUtf8Length(data)) : data;
  const s = text.includes(0) ? undefined : tryUtf8(text);
  if (s !== undefined) return { content: s, encoding: 'utf8', bytes: text.length };
  return { content: data.toString('base64'), encoding: 'base64', bytes: data.length };
}

/** fs.read on one host: shared by fs.read and fleet.read. */
export async function readRemote(f: RemoteFiles, svc: Services, p: { path: string; maxBytes?: number; offset?: number }): Promise<FsReadResult> {
  const offset = p.offset ?? 0;
  const r = await f.read(p.path, Math.min(p.maxBytes ?? svc.settings.maxFileSize, MAX_FS_IO_BYTES), offset);
  const c = fileContent(r.data, r.truncated);
  return { path: p.path, content: c.content, encoding: c.encoding, size: r.size, bytes: c.bytes, offset, truncated: r.truncated };
}

/**
 * Run `fn` on the host's SFTP session. A connection that died while idle is noticed only when its SFTP
 * channel fails to open: then nothing happened on the server and one retry on a fresh connection is safe.
 */
export async function withFiles<T>(svc: Services, host: string, ctx: CallContext, fn: (f: RemoteFiles) => Promise<T>, policyPath: string, readOnly = true): Promise<T> {
  svc.registry.get(host);
  // Per-host policy: roots are judged on the remote's own resolution of the path (.., symlinks).
  await svc.policy.checkPath(host, policyPath, svc.resolveRemote);
  // Reads also run once more after CONNECTION_LOST (on a fresh connection): repeating them changes nothing.
  const run = () => svc.pool.use(host, async (conn) => fn(new RemoteFiles(await conn.sftp(ctx.signal), conn.host, conn.lost, ctx.signal)), readOnly ? 'idempotent' : 'never');
  try {
    try {
      return await run();
    } catch (err) {
      if (!isScoutError(err, 'CHANNEL_FAILED') || ctx.signal.aborted) throw err;
      ctx.log.debug({ host }, 'SFTP channel did not open; retrying once on a fresh connection');
      await svc.pool.drop(host, 'SFTP channel failed to open');
      return await run();
    }
  } catch (err) {
    // A cancelled call ends with the session's reason (CANCELLED, SHUTTING_DOWN), not the I/O error it caused.
    if (ctx.signal.aborted && ctx.signal.reason instanceof ScoutError) throw ctx.signal.reason;
    throw err;
  }
}

export function fsHandlers(svc: Services): Handlers<'fs.stat' | 'fs.read' | 'fs.list' | 'fs.tree' | 'fs.find' | 'fs.write'> {
  const leftovers = new RemoteLeftovers(svc.pool, svc.log.child({ component: 'fs' }));

  const files = <T>(host: string, ctx: CallContext, fn: (f: RemoteFiles) => Promise<T>, policyPath: string, readOnly = true): Promise<T> =>
    withFiles(svc, host, ctx, fn, policyPath, readOnly);

  return {
    'fs.stat': (p, ctx) =>
      files(p.host, ctx, async (f): Promise<FsStatResult> => {
        const { name: _name, ...info } = await f.info(p.path);
        return { path: p.path, ...info };
      }, p.path),

    'fs.read': (p, ctx) => files(p.host, ctx, (f) => readRemote(f, svc, p), p.path),

    'fs.list': (p, ctx) =>
      files(p.host, ctx, async (f): Promise<FsListResult> => {
        const r = await f.list(p.path, p.all ?? false, p.maxEntries ?? DEFAULT_LIST_ENTRIES);
        return { path: p.path, entries: r.entries, truncated: r.truncated };
      }, p.path),

    'fs.tree': (p, ctx) =>
      files(p.host, ctx, async (f): Promise<FsTreeResult> => {
        const r = await f.tree(p.path, p.depth ?? DEFAULT_TREE_DEPTH, p.maxEntries ?? DEFAULT_TREE_ENTRIES, p.all ?? false);
        return { path: p.path, ...r };
      }, p.path),

    'fs.find': (p, ctx) =>
      files(p.host, ctx, async (f): Promise<FsFindResult> => {
        const r = await f.find(p.path, p.pattern, p.type, p.depth ?? DEFAULT_FIND_DEPTH, p.maxResults ?? DEFAULT_FIND_RESULTS, FIND_MAX_VISITED);
        return { paths: r.paths, truncated: r.truncated, ...(r.skipped.length ? { skipped: r.skipped.slice(0, 100) } : {}) };
      }, p.path),

    'fs.write': (p, ctx) => {
      const data = Buffer.from(p.content, p.encoding === 'base64' ? 'base64' : 'utf8');
      if (data.length > MAX_FS_IO_BYTES) {
        throw new ScoutError('TOO_LARGE', `content for ${p.host}:${p.path} is ${data.length} bytes; fs.write takes at most ${MAX_FS_IO_BYTES} (use transfer.put for larger files)`, { host: p.host, path: p.path, bytes: data.length, limit: MAX_FS_IO_BYTES });
      }
      if (p.encoding === 'base64' && !isBase64(p.content)) {
        throw new ScoutError('INVALID_PARAMS', "invalid params for fs.write: 'content' is not valid base64", { method: 'fs.write' }, -32602);
      }
      svc.registry.get(p.host);
      svc.policy.checkWrite(p.host, 'writes are');
      return files(p.host, ctx, async (f): Promise<FsWriteResult> => {
        const r = await f.writeFile(p.path, data, { mode: p.mode, createDirs: p.createDirs, onLeftover: (tmp) => leftovers.add(p.host, tmp) });
        leftovers.sweep(f, path.posix.dirname(r.path));
        return r;
      }, p.path, false);
    },
  };
}

/** Node's base64 decoder skips junk silently; a write must not store something other than what was meant. */
function isBase64(s: string): boolean {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(s.replace(/\s+/g, '')) && s.replace(/\s+/g, '').length % 4 === 0;
}

