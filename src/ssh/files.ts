// Remote files over the connection's one SFTP session: exact metadata (never `ls` parsing), reads bounded by
// a byte cap whatever the file's size, directory walks bounded by entry caps, and writes that replace a file
// atomically (temp file beside the target, then posix-rename). Knows nothing of JSON or of the pool.
import path from 'node:path';
import type { Stats } from 'ssh2';
import { ScoutError } from '../protocol/errors.js';
import { DIALECTS, compileGlob } from '../protocol/glob.js';
import type { FsEntry, TreeNode } from '../protocol/methods/fs.js';
import { readBuffers } from './buffer-pool.js';
import { CHUNK_BYTES, REQUESTS_IN_FLIGHT, RemoteFs, tempName, typeOf, unlessMissing, type EntryType } from './transfer.js';

/** SFTP status EOF (draft-ietf-secsh-filexfer-02 §7): the normal end of a directory listing. */
const SFTP_EOF = 1;
/** Mode of a file fs.write creates (no mode given, no file to copy it from): what `touch` gives under umask 022. */
export const DEFAULT_FILE_MODE = 0o644;
/** Mode of directories fs.write creates with createDirs (`mkdir -p` under umask 022). */
export const DEFAULT_DIR_MODE = 0o755;
/** Directories read at once while walking a tree: enough to hide round trips, few enough to stay polite. */
export const WALK_CONCURRENCY = 8;
/**
 * Entries read from any one directory during a walk: a directory of millions of files must not fill the
 * daemon before the entry cap is even looked at. A directory cut here makes the walk `truncated`.
 */
export const WALK_MAX_DIR_ENTRIES = 100_000;

/** An entry as the protocol reports it (fs.stat, fs.list, fs.tree): one shape, defined in protocol/. */
export type FileInfo = FsEntry;

export type { TreeNode };

export interface ReadOutcome {
  data: Buffer;
  /** The file's size as the server reported it (0 for files like /proc ones whose size says nothing). */
  size: number;
  truncated: boolean;
  /** Gives `data`'s buffer back to the pool (buffer-pool.ts): call once nothing reads `data` any more. */
  release: () => void;
}

type DirEntry = { filename: string; attrs: Stats };

function iso(seconds: number | undefined): string {
  return new Date((seconds ?? 0) * 1000).toISOString();
}

/** Directories first, then by name (code-unit order: the same on every machine, unlike a locale's). */
function byDirThenName(a: { name: string; type: EntryType }, b: { name: string; type: EntryType }): number {
  if ((a.type === 'dir') !== (b.type === 'dir')) return a.type === 'dir' ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export class RemoteFiles extends RemoteFs {
  /** The same session without the caller's cancellation: for closing handles and removing temp files. */
  override uncancellable(): RemoteFiles {
    return new RemoteFiles(this.sftp, this.where, this.lost);
  }

  private rawStat(p: string, follow: boolean): Promise<Stats> {
    return this.op<Stats>(p, (cb) => (follow ? this.sftp.stat(p, cb) : this.sftp.lstat(p, cb)));
  }

  private statOrUndefined(p: string, follow: boolean): Promise<Stats | undefined> {
    return unlessMissing(this.rawStat(p, follow));
  }

  /** lstat, with the link's target for a symlink. */
  async info(p: string): Promise<FileInfo> {
    const s = await this.rawStat(p, false);
    const out: FileInfo = { name: path.posix.basename(p) || p, type: typeOf(s), size: s.size, mode: s.mode & 0o7777, mtime: iso(s.mtime) };
    if (out.type === 'symlink') out.linkTarget = await this.readlink(p);
    return out;
  }

  /**
   * Read at most `maxBytes` from `offset`. Memory is the cap, never the file: a 100 MB file read with a 1 MiB
   * cap allocates 1 MiB. Directories, FIFOs and sockets are refused before anything is opened (opening a FIFO
   * would block the server's single-threaded SFTP process, and with it every call sharing the session).
   */
  async read(p: string, maxBytes: number, offset: number): Promise<ReadOutcome> {
    const st = await this.rawStat(p, true);
    if (st.isDirectory()) throw this.fail(p, 'is-directory', 'is a directory (list it instead)');
    if (st.isFIFO() || st.isSocket()) throw this.fail(p, 'not-a-file', 'is a FIFO or socket, not a file that can be read');
    const handle = await this.op<Buffer>(p, (cb) => this.sftp.open(p, 'r', cb));
    try {
      // A regular file with a size: read exactly the window it covers, several requests in flight.
      if (st.isFile() && st.size > 0) {
        const want = Math.min(maxBytes, Math.max(0, st.size - offset));
        // A read that fails never gives its buffer back: requests still in flight may yet be answered into it.
        const { buf, release } = readBuffers.take(want);
        const got = await this.readRange(p, handle, buf, offset);
        return { data: got === want ? buf : buf.subarray(0, got), size: st.size, truncated: offset + got < st.size, release };
      }
      // A size that says nothing (/proc files, devices): read in order until the end or the cap.
      const chunks: Buffer[] = [];
      let total = 0;
      while (total < maxBytes) {
        const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, maxBytes - total));
        const n = await this.readAt(p, handle, chunk, chunk.length, offset + total);
        if (n === 0) break;
        chunks.push(chunk.subarray(0, n));
        total += n;
      }
      let truncated = false;
      if (total === maxBytes) truncated = (await this.readAt(p, handle, Buffer.allocUnsafe(1), 1, offset + total)) > 0;
      return { data: Buffer.concat(chunks, total), size: st.size, truncated, release: () => {} };
    } finally {
      await this.closeHandle(p, handle);
    }
  }

  private readAt(p: string, handle: Buffer, buf: Buffer, length: number, position: number): Promise<number> {
    return this.op<number>(p, (cb) => this.sftp.read(handle, buf, 0, length, position, (err, n) => cb(err, n)));
  }

  /** Fill `buf` from `offset` with up to REQUESTS_IN_FLIGHT chunk reads; returns the bytes before the first EOF. */
  private async readRange(p: string, handle: Buffer, buf: Buffer, offset: number): Promise<number> {
    let next = 0;
    let eofAt = buf.length;
    const work = async () => {
      while (next < eofAt) {
        const pos = next;
        const len = Math.min(CHUNK_BYTES, buf.length - pos);
        next += len;
        let got = 0;
        while (got < len) {
          const n = await this.readAt(p, handle, buf.subarray(pos + got), len - got, offset + pos + got);
          if (n === 0) break; // the file shrank since stat
          got += n;
        }
        if (got < len) eofAt = Math.min(eofAt, pos + got);
      }
    };
    const workers = Math.max(1, Math.min(REQUESTS_IN_FLIGHT, Math.ceil(buf.length / CHUNK_BYTES)));
    await Promise.all(Array.from({ length: workers }, work));
    return eofAt;
  }

  private async closeHandle(p: string, handle: Buffer): Promise<void> {
    await this.uncancellable()
      .op<void>(p, (cb) => this.sftp.close(handle, cb))
      .catch(() => {});
  }

  /**
   * A directory's entries (without . and ..), lstat attributes included (OpenSSH's READDIR carries them, so
   * there is no stat per entry). Stops after `limit` entries: memory follows the cap, not the directory.
   */
  async readdirEntries(p: string, limit: number): Promise<{ entries: DirEntry[]; truncated: boolean }> {
    let handle: Buffer;
    try {
      handle = await this.op<Buffer>(p, (cb) => this.sftp.opendir(p, cb));
    } catch (err) {
      // OpenSSH maps ENOTDIR to "no such file": say what is really there.
      if (err instanceof ScoutError && err.code === 'REMOTE_NOT_FOUND') {
        const st = await this.statOrUndefined(p, true);
        if (st && !st.isDirectory()) throw this.fail(p, 'not-a-directory', 'is not a directory');
      }
      throw err;
    }
    const entries: DirEntry[] = [];
    let truncated = false;
    try {
      for (;;) {
        const batch = await this.op<DirEntry[] | null>(p, (cb) =>
          this.sftp.readdir(handle, (err, list) => ((err as { code?: number } | undefined)?.code === SFTP_EOF ? cb(null, null) : cb(err, list as DirEntry[]))),
        );
        if (!batch) break;
        for (const e of batch) {
          if (e.filename === '.' || e.filename === '..') continue;
          if (entries.length >= limit) {
            truncated = true;
            break;
          }
          entries.push(e);
        }
        if (truncated) break;
      }
    } finally {
      await this.closeHandle(p, handle);
    }
    return { entries, truncated };
  }

  /** `ls -la`, exactly: sorted, directories first; dot entries only with `all`. */
  async list(p: string, all: boolean, limit: number): Promise<{ entries: FileInfo[]; truncated: boolean }> {
    const { entries, truncated } = await this.readdirEntries(p, limit);
    const shown = all ? entries : entries.filter((e) => !e.filename.startsWith('.'));
    const infos = await Promise.all(
      shown.map(async (e): Promise<FileInfo> => {
        const info: FileInfo = {
          name: e.filename,
          type: typeOf(e.attrs),
          size: e.attrs.size,
          mode: e.attrs.mode & 0o7777,
          mtime: iso(e.attrs.mtime),
          ...(e.filename.includes('\ufffd') ? { undecodable: true as const } : {}),
        };
        if (info.type === 'symlink') info.linkTarget = await this.readlink(path.posix.join(p, e.filename)).catch(() => undefined);
        if (info.linkTarget === undefined) delete info.linkTarget;
        return info;
      }),
    );
    return { entries: infos.sort(byDirThenName), truncated };
  }

  /**
   * Walk breadth first from `root` (following it if it is a symlink, never links below it), down to `depth`
   * levels, calling `visit` for each entry in order (directories first, then by name). `visit` returns false
   * to stop. Unreadable directories are reported through `onError` and skipped, as find does.
   */
  private async walk(
    root: string,
    depth: number,
    opts: {
      all: boolean;
      visit: (full: string, e: DirEntry, level: number, parent: unknown) => unknown | false;
      onError?: (full: string, err: ScoutError, parent: unknown) => void;
      onCut?: () => void;
    },
    rootToken: unknown,
  ): Promise<boolean> {
    let level: Array<{ full: string; token: unknown }> = [{ full: root, token: rootToken }];
    for (let d = 1; d <= depth && level.length > 0; d++) {
      const next: Array<{ full: string; token: unknown }> = [];
      for (let i = 0; i < level.length; i += WALK_CONCURRENCY) {
        const batch = level.slice(i, i + WALK_CONCURRENCY);
        const lists = await Promise.all(
          batch.map((dir) =>
            this.readdirEntries(dir.full, WALK_MAX_DIR_ENTRIES).then(
              (r) => {
                if (r.truncated) opts.onCut?.();
                return r.entries;
              },
              (err: unknown) => err,
            ),
          ),
        );
        for (let j = 0; j < batch.length; j++) {
          const got = lists[j];
          if (!Array.isArray(got)) {
            if (got instanceof ScoutError && got.code !== 'CONNECTION_LOST' && got.code !== 'CANCELLED' && got.code !== 'SHUTTING_DOWN') {
              opts.onError?.(batch[j].full, got, batch[j].token);
              continue;
            }
            throw got;
          }
          const shown = (opts.all ? got : got.filter((e) => !e.filename.startsWith('.'))).map((e) => ({ e, name: e.filename, type: typeOf(e.attrs) })).sort(byDirThenName);
          for (const { e } of shown) {
            const full = path.posix.join(batch[j].full, e.filename);
            const token = opts.visit(full, e, d, batch[j].token);
            if (token === false) return false;
            if (e.attrs.isDirectory()) next.push({ full, token });
          }
        }
      }
      level = next;
    }
    return true;
  }

  /** Nested entries down to `depth`, at most `maxEntries` of them (the root not counted). */
  async tree(p: string, depth: number, maxEntries: number, all: boolean): Promise<{ root: TreeNode; entries: number; truncated: boolean }> {
    const st = await this.rawStat(p, true);
    const root: TreeNode = { name: path.posix.basename(p) || p, type: typeOf(st), size: st.size };
    if (!st.isDirectory()) return { root, entries: 0, truncated: false };
    root.children = [];
    let entries = 0;
    let cut = false;
    const complete = await this.walk(
      p,
      depth,
      {
        all,
        onCut: () => (cut = true),
        visit: (_full, e, level, parent) => {
          if (entries >= maxEntries) return false;
          entries++;
          const node: TreeNode = { name: e.filename, type: typeOf(e.attrs), size: e.attrs.size };
          // Directories at the depth limit have no children array: not read, rather than empty.
          if (node.type === 'dir' && level < depth) node.children = [];
          (parent as TreeNode).children!.push(node);
          return node;
        },
        onError: (_full, err, parent) => {
          const node = parent as TreeNode;
          delete node.children;
          node.error = err.code;
        },
      },
      root,
    );
    return { root, entries, truncated: !complete || cut };
  }

  /** Full paths below `p` whose name matches `pattern` (and `type`), at most `maxResults`, depth like find -maxdepth. */
  async find(p: string, pattern: string, type: EntryType | undefined, depth: number, maxResults: number, maxVisited: number): Promise<{ paths: string[]; truncated: boolean; skipped: string[] }> {
    const st = await this.rawStat(p, true);
    if (!st.isDirectory()) throw this.fail(p, 'not-a-directory', 'is not a directory');
    const re = compileGlob(pattern, DIALECTS.name);
    const paths: string[] = [];
    const skipped: string[] = [];
    let visited = 0;
    let truncated = false;
    await this.walk(
      p,
      depth,
      {
        all: true,
        onCut: () => (truncated = true),
        visit: (full, e) => {
          if (++visited > maxVisited) {
            truncated = true;
            return false;
          }
          if (re.test(e.filename) && (!type || typeOf(e.attrs) === type)) {
            if (paths.length >= maxResults) {
              truncated = true;
              return false;
            }
            paths.push(full);
          }
          return null;
        },
        onError: (full) => void skipped.push(full),
      },
      null,
    );
    return { paths, truncated, skipped };
  }

  /** `mkdir -p`: create each missing directory down to `dir`. */
  async mkdirs(dir: string): Promise<void> {
    const st = await this.statOrUndefined(dir, true);
    if (st?.isDirectory()) return;
    if (st) throw this.fail(dir, 'not-a-directory', 'exists and is not a directory');
    const parent = path.posix.dirname(dir);
    if (parent !== dir) await this.mkdirs(parent);
    try {
      await this.op<void>(dir, (cb) => this.sftp.mkdir(dir, { mode: DEFAULT_DIR_MODE }, cb));
    } catch (err) {
      // Someone else made it in the meantime: that is what we wanted.
      if ((await this.statOrUndefined(dir, true))?.isDirectory()) return;
      throw err;
    }
  }

  /**
   * Replace `p` with `data` atomically: write a temp file beside it, set its mode, rename it over the target
   * (posix-rename@openssh.com, i.e. rename(2)). A reader sees the old file or the new one, never half of
   * one; on any failure the temp file is removed and the old file is untouched. A symlink is written
   * through (its target is replaced, the link stays). `onLeftover` gets a temp path that could not be
   * removed (the connection died): the caller owns removing it later.
   */
  async writeFile(p: string, data: Buffer, opts: { mode?: number; createDirs?: boolean; onLeftover?: (tmp: string) => void }): Promise<{ path: string; bytes: number }> {
    let target = p;
    let st = await this.statOrUndefined(p, false);
    if (st?.isSymbolicLink()) {
      target = await this.op<string>(p, (cb) => this.sftp.realpath(p, cb));
      st = await this.statOrUndefined(target, false);
    }
    if (st?.isDirectory()) throw this.fail(target, 'is-directory', 'is a directory');
    if (st && !st.isFile()) throw this.fail(target, 'not-a-file', 'exists and is not a regular file');
    if (!st) {
      const parent = path.posix.dirname(target);
      if (opts.createDirs) await this.mkdirs(parent);
      else {
        const up = await this.statOrUndefined(parent, true);
        if (!up) throw new ScoutError('REMOTE_NOT_FOUND', `directory ${parent} not found on ${this.where} (pass createDirs to create it)`, { host: this.where, path: parent });
        if (!up.isDirectory()) throw this.fail(parent, 'not-a-directory', 'is not a directory');
      }
    }
    const mode = opts.mode ?? (st ? st.mode & 0o7777 : DEFAULT_FILE_MODE);
    const tmp = tempName(this, target);
    let handle: Buffer | undefined;
    try {
      handle = await this.op<Buffer>(tmp, (cb) => this.sftp.open(tmp, 'wx', { mode: 0o600 }, cb));
      const written = await this.writeAll(tmp, handle, data);
      if (written.failure !== undefined) {
        const err = written.failure;
        // The server's own words for a failed write(2) are just "Failure" (SFTP v3 carries no errno): say where.
        if (err instanceof ScoutError && err.code === 'REMOTE_IO') {
          throw new ScoutError(
            'REMOTE_IO',
            `${this.where}:${tmp}: write failed after ${written.bytes} of ${data.length} bytes (${err.message.split(': ').pop()}; the disk may be full or a size limit reached)`,
            { ...err.details, writtenBytes: written.bytes },
          );
        }
        throw err;
      }
      const h = handle;
      handle = undefined;
      // The server reports a failed flush on close: it must succeed before the file may replace anything.
      await this.uncancellable().op<void>(tmp, (cb) => this.sftp.close(h, cb));
      await this.chmod(tmp, mode);
      await this.rename(tmp, target);
    } catch (err) {
      if (handle) await this.closeHandle(tmp, handle);
      await this.uncancellable()
        .remove(tmp)
        .catch(() => opts.onLeftover?.(tmp));
      // Errors about the temp file are errors about the target to the caller.
      if (err instanceof ScoutError && err.details.path === tmp) {
        throw new ScoutError(err.code, err.message.split(tmp).join(target), { ...err.details, path: target, tempPath: tmp });
      }
      throw err;
    }
    return { path: target, bytes: data.length };
  }

  /** Write `data` with several requests in flight; reports the bytes acknowledged in order before a failure. */
  private async writeAll(p: string, handle: Buffer, data: Buffer): Promise<{ bytes: number; failure?: unknown }> {
    let next = 0;
    let failure: unknown;
    let failedAt = data.length;
    const work = async () => {
      while (failure === undefined && next < data.length) {
        const pos = next;
        const len = Math.min(CHUNK_BYTES, data.length - pos);
        next += len;
        try {
          await this.op<void>(p, (cb) => this.sftp.write(handle, data, pos, len, pos, cb));
        } catch (err) {
          failure ??= err;
          failedAt = Math.min(failedAt, pos);
        }
      }
    };
    const workers = Math.max(1, Math.min(REQUESTS_IN_FLIGHT, Math.ceil(data.length / CHUNK_BYTES)));
    await Promise.all(Array.from({ length: workers }, work));
    return failure === undefined ? { bytes: data.length } : { bytes: failedAt, failure };
  }
}
