// Transfers (transfer.get / put / copy): the daemon moves the bytes itself (same user, same machine),
// so file contents never cross the control socket; the caller sees progress notifications and a summary.
import path from 'node:path';
import { ScoutError } from '../../protocol/errors.js';
import type { TransferCopyParams, TransferGetParams, TransferPutParams, TransferResult } from '../../protocol/methods/index.js';
import type { Pool } from '../../pool/pool.js';
import type { SshConnection } from '../../ssh/connection.js';
import { LocalFs, RemoteFs, sweepStaleTemps, transfer, type FileSystem } from '../../ssh/transfer.js';
import type { CallContext, Services } from '../context.js';

/** At most one `transfer.progress` per this interval (plus the final one): ~10 updates a second is smooth for a bar and cheap on the socket. */
export const PROGRESS_INTERVAL_MS = 100;

/**
 * Temp files left on a host whose connection died mid-transfer are removed when it can be reached again:
 * first retry after this delay, doubling up to the cap, giving up after the deadline (logged).
 */
export const LEFTOVER_RETRY_FIRST_MS = 500;
export const LEFTOVER_RETRY_MAX_MS = 30_000;
export const LEFTOVER_GIVE_UP_MS = 6 * 3600_000;

/** Remote temp files awaiting removal, retried in the background until their host answers again. */
/** How often one directory is swept for stale temps. */
const SWEEP_INTERVAL_MS = 3600 * 1000;
/** Directories remembered as swept (then forgotten all at once: a sweep more is harmless). */
const SWEPT_REMEMBERED = 10_000;

export class RemoteLeftovers {
  /** When each directory ("host\0dir") was last swept for stale temps. */
  private readonly swept = new Map<string, number>();

  constructor(
    private readonly pool: Pool,
    private readonly log: Services['log'],
  ) {}

  /**
   * After a copy into `dir` succeeded: remove the temps a daemon that died mid-copy left there (a kill -9
   * left 163 MB behind for good). In the background, at most once per directory per SWEEP_INTERVAL_MS.
   */
  sweep(fs: FileSystem, dir: string): void {
    const key = `${fs.where}\0${dir}`;
    const now = Date.now();
    if (now - (this.swept.get(key) ?? 0) < SWEEP_INTERVAL_MS) return;
    if (this.swept.size >= SWEPT_REMEMBERED) this.swept.clear();
    this.swept.set(key, now);
    sweepStaleTemps(fs, dir, now).then(
      (removed) => removed.length && this.log.info({ host: fs.where, removed }, 'removed temp files left by an earlier scoutd'),
      () => {
        /* housekeeping: the copy itself succeeded */
      },
    );
  }

  add(host: string, p: string): void {
    this.log.info({ host, path: p }, 'temp file left behind by a failed transfer; removing it when the host is back');
    this.retry(host, p, LEFTOVER_RETRY_FIRST_MS, Date.now() + LEFTOVER_GIVE_UP_MS);
  }

  private retry(host: string, p: string, delayMs: number, deadline: number): void {
    const timer = setTimeout(() => {
      this.pool
        .use(host, async (conn) => new RemoteFs(await conn.sftp(), host, conn.lost).remove(p))
        .then(
          () => this.log.info({ host, path: p }, 'removed temp file left by a failed transfer'),
          (err: Error) => {
            if (Date.now() > deadline) this.log.warn({ host, path: p, err: err.message }, 'giving up removing a temp file left by a failed transfer');
            else this.retry(host, p, Math.min(delayMs * 2, LEFTOVER_RETRY_MAX_MS), deadline);
          },
        );
    }, delayMs);
    // Never keeps the daemon alive on its own.
    timer.unref();
  }
}

/** Throttled progress notifications: monotonic, at most one per interval, and always the last one. */
function progressNotifier(ctx: CallContext): { update: (bytes: number, total: number, file: string) => void; flush: () => void } {
  let last = 0;
  let pending: { bytes: number; totalBytes: number; file: string } | undefined;
  let sent = -1;
  const send = () => {
    if (!pending || pending.bytes === sent) return;
    sent = pending.bytes;
    last = Date.now();
    ctx.notify('transfer.progress', { id: ctx.rpcId, ...pending });
  };
  return {
    update: (bytes, totalBytes, file) => {
      pending = { bytes, totalBytes, file };
      if (Date.now() - last >= PROGRESS_INTERVAL_MS) send();
    },
    flush: send,
  };
}

function requireAbsolute(p: string): void {
  if (!path.isAbsolute(p)) {
    throw new ScoutError('LOCAL_PATH', `local path '${p}' is relative: scoutd's working directory is not yours, so give an absolute path`, { path: p, reason: 'relative' });
  }
}

/** Policy, progress, atomic placement and leftover cleanup for every transfer; handlers/transfer.ts adapts it. */
export function transfers(svc: Services) {
  const leftovers = new RemoteLeftovers(svc.pool, svc.log.child({ component: 'transfer' }));

  // With conn.exec, large files from the host stream through `cat` (RemoteFs.streamFile).
  const remote = async (conn: SshConnection, ctx: CallContext): Promise<RemoteFs> =>
    new RemoteFs(await conn.sftp(ctx.signal), conn.host, conn.lost, ctx.signal, (command, opts) => conn.exec(command, opts));

  const run = async (ctx: CallContext, src: FileSystem, srcPath: string, dst: FileSystem, dstPath: string, recursive: boolean): Promise<TransferResult> => {
    const started = performance.now();
    const progress = progressNotifier(ctx);
    try {
      const out = await transfer({
        src,
        srcPath,
        dst,
        dstPath,
        recursive,
        signal: ctx.signal,
        onProgress: progress.update,
        onStreamFallback: (file, reason) => ctx.log.info({ file, reason }, 'streaming the file failed; read it over SFTP instead'),
        onLeftover: (p) => (dst instanceof RemoteFs ? leftovers.add(dst.where, p) : ctx.log.warn({ path: p }, 'could not remove a local temp file')),
      });
      progress.flush();
      leftovers.sweep(dst, dst instanceof RemoteFs ? path.posix.dirname(out.path) : path.dirname(out.path));
      if (out.skipped.length) ctx.log.info({ skipped: out.skipped.slice(0, 20), count: out.skipped.length }, 'special files not transferred');
      return { bytes: out.bytes, files: out.files, durationMs: Math.round(performance.now() - started), path: out.path, ...(out.skipped.length ? { skipped: out.skipped } : {}) };
    } catch (err) {
      // A cancelled call ends with the session's CANCELLED reason, not the I/O error it caused.
      if (ctx.signal.aborted && ctx.signal.reason instanceof ScoutError) throw ctx.signal.reason;
      throw err;
    }
  };

  return {
    get: async (p: TransferGetParams, ctx: CallContext): Promise<TransferResult> => {
      svc.registry.get(p.host);
      requireAbsolute(p.localPath);
      await svc.policy.checkPath(p.host, p.remotePath, svc.resolveRemote);
      await svc.approvals.check(ctx, p.approval, { host: p.host, kinds: ['transfer'], what: `${p.remotePath} -> ${p.localPath} (here)` });
      return svc.pool.use(p.host, async (conn) => run(ctx, await remote(conn, ctx), p.remotePath, new LocalFs(), p.localPath, p.recursive ?? false));
    },
    put: async (p: TransferPutParams, ctx: CallContext): Promise<TransferResult> => {
      svc.registry.get(p.host);
      requireAbsolute(p.localPath);
      svc.policy.checkWrite(p.host, 'uploads are');
      await svc.policy.checkPath(p.host, p.remotePath, svc.resolveRemote);
      await svc.approvals.check(ctx, p.approval, { host: p.host, kinds: ['write', 'transfer'], what: `${p.localPath} (here) -> ${p.remotePath}` });
      return svc.pool.use(p.host, async (conn) => run(ctx, new LocalFs(), p.localPath, await remote(conn, ctx), p.remotePath, p.recursive ?? false));
    },
    copy: async (p: TransferCopyParams, ctx: CallContext): Promise<TransferResult> => {
      svc.registry.get(p.from.host);
      svc.registry.get(p.to.host);
      svc.policy.checkWrite(p.to.host, 'copies to it are');
      await svc.policy.checkPath(p.from.host, p.from.path, svc.resolveRemote);
      await svc.policy.checkPath(p.to.host, p.to.path, svc.resolveRemote);
      const what = `${p.from.host}:${p.from.path} -> ${p.to.host}:${p.to.path}`;
      await svc.approvals.check(ctx, p.approval, { host: p.from.host, kinds: ['transfer'], what });
      await svc.approvals.check(ctx, p.approval, { host: p.to.host, kinds: ['write', 'transfer'], what });
      return svc.pool.use(p.from.host, (from) => svc.pool.use(p.to.host, async (to) => run(ctx, await remote(from, ctx), p.from.path, await remote(to, ctx), p.to.path, p.recursive ?? false)));
    },
  };
}
