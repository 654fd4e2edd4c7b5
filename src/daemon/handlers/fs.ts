// fs.*: remote files on the connection's one SFTP session (opened on first use, reused by every call).
import path from 'node:path';
import { ScoutError, invalidParams } from '../../protocol/errors.js';
import {
  DEFAULT_FIND_DEPTH,
  DEFAULT_FIND_RESULTS,
  DEFAULT_LIST_ENTRIES,
  DEFAULT_TREE_DEPTH,
  DEFAULT_TREE_ENTRIES,
  FIND_MAX_VISITED,
  MAX_FS_IO_BYTES,
  type FsFindResult,
  type FsListResult,
  type FsStatResult,
  type FsTreeResult,
  type FsWriteResult,
} from '../../protocol/methods/index.js';
import type { RemoteFiles } from '../../ssh/files.js';
import type { CallContext, Handlers, Services } from '../context.js';
import { RemoteLeftovers } from '../remote/transfer.js';
import { readRemote, withFiles } from '../remote/files.js';

export function fsHandlers(svc: Services): Handlers<'fs.stat' | 'fs.read' | 'fs.list' | 'fs.tree' | 'fs.find' | 'fs.write'> {
  const leftovers = new RemoteLeftovers(svc.pool, svc.log.child({ component: 'fs' }));

  const files = <T>(host: string, ctx: CallContext, fn: (f: RemoteFiles) => Promise<T>, policyPath: string, readOnly = true, approve?: () => Promise<void>): Promise<T> =>
    withFiles(svc, host, ctx, fn, policyPath, readOnly, approve);

  return {
    'fs.stat': (p, ctx) =>
      files(
        p.host,
        ctx,
        async (f): Promise<FsStatResult> => {
          const { name: _name, ...info } = await f.info(p.path);
          return { path: p.path, ...info };
        },
        p.path,
      ),

    'fs.read': (p, ctx) => files(p.host, ctx, (f) => readRemote(f, svc, p), p.path),

    'fs.list': (p, ctx) =>
      files(
        p.host,
        ctx,
        async (f): Promise<FsListResult> => {
          const r = await f.list(p.path, p.all ?? false, p.maxEntries ?? DEFAULT_LIST_ENTRIES);
          return { path: p.path, entries: r.entries, truncated: r.truncated };
        },
        p.path,
      ),

    'fs.tree': (p, ctx) =>
      files(
        p.host,
        ctx,
        async (f): Promise<FsTreeResult> => {
          const r = await f.tree(p.path, p.depth ?? DEFAULT_TREE_DEPTH, p.maxEntries ?? DEFAULT_TREE_ENTRIES, p.all ?? false);
          return { path: p.path, ...r };
        },
        p.path,
      ),

    'fs.find': (p, ctx) =>
      files(
        p.host,
        ctx,
        async (f): Promise<FsFindResult> => {
          const r = await f.find(p.path, p.pattern, p.type, p.depth ?? DEFAULT_FIND_DEPTH, p.maxResults ?? DEFAULT_FIND_RESULTS, FIND_MAX_VISITED);
          return { paths: r.paths, truncated: r.truncated, ...(r.skipped.length ? { skipped: r.skipped.slice(0, 100) } : {}) };
        },
        p.path,
      ),

    'fs.write': (p, ctx) => {
      const data = Buffer.from(p.content, p.encoding === 'base64' ? 'base64' : 'utf8');
      if (data.length > MAX_FS_IO_BYTES) {
        throw new ScoutError('TOO_LARGE', `content for ${p.host}:${p.path} is ${data.length} bytes; fs.write takes at most ${MAX_FS_IO_BYTES} (use transfer.put for larger files)`, {
          host: p.host,
          path: p.path,
          bytes: data.length,
          limit: MAX_FS_IO_BYTES,
        });
      }
      if (p.encoding === 'base64' && !isBase64(p.content)) {
        throw invalidParams('fs.write', 'content', 'is not valid base64');
      }
      svc.registry.get(p.host);
      svc.policy.checkWrite(p.host, 'writes are');
      return files(
        p.host,
        ctx,
        async (f): Promise<FsWriteResult> => {
          const r = await f.writeFile(p.path, data, { mode: p.mode, createDirs: p.createDirs, onLeftover: (tmp) => leftovers.add(p.host, tmp) });
          leftovers.sweep(f, path.posix.dirname(r.path));
          return r;
        },
        p.path,
        false,
        () => svc.approvals.check(ctx, p.approval, { host: p.host, kinds: ['write'], what: p.path }),
      );
    },
  };
}

/** Node's base64 decoder skips junk silently; a write must not store something other than what was meant. */
function isBase64(s: string): boolean {
  return /^[A-Za-z0-9+/]*={0,2}$/.test(s.replace(/\s+/g, '')) && s.replace(/\s+/g, '').length % 4 === 0;
}
