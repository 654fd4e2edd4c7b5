// Files and trees between two filesystems — the local disk or one host's SFTP session — with several
// requests in flight, constant memory, and an atomic finish: everything is written under a temp name beside
// the destination and renamed into place only when complete, so a failed or cancelled transfer leaves the
// old destination as it was. Knows nothing of JSON or of the pool.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { SFTPWrapper, Stats } from 'ssh2';
import { ScoutError, abortReason, isScoutError } from '../protocol/errors.js';
import { completeUtf8Length } from '../protocol/text.js';
import { mapLocalError, mapSftpError } from './errors.js';
import { MAX_TIMER_MS, type ExecOptions, type ExecOutcome } from './exec.js';
import { shellQuote } from './quote.js';

/**
 * Bytes per read/write request and requests in flight per file. Swept on loopback with a 100 MB get
 * (bench/sweep.ts, 2 loaded cores): 32 KiB × 32 (ssh2 fastGet's shape) 229 MB/s, 64 KiB × 16 313 MB/s,
 * 128 KiB × 16 400 MB/s, 256 KiB × 16 350 MB/s; more in flight gained nothing. ssh2 splits requests above
 * the server's limits@openssh.com read/write lengths itself. Memory per running file transfer is bounded by
 * the product (2 MiB), whatever the file size.
 */
export const CHUNK_BYTES = 128 * 1024;
export const REQUESTS_IN_FLIGHT = 16;

/**
 * Files at least this big move as one stream, `cat` on an exec channel, instead of SFTP requests. Measured on
 * loopback in scoutd, 100 MB, warm connection, 2 cores: get over SFTP (128 KiB × 16) 264–308 MB/s, streamed
 * 416–480; put over SFTP ~160, streamed 270–320; `ssh -S <mux> cat` 451–476 down, 358–377 up. An SFTP read
 * answer is reassembled from four SSH packets into a fresh 128 KiB buffer (external memory that drove a
 * mark-compact every ~40 ms in scoutd's heap); a stream hands the packets to the disk as they come, several per
 * write. Below this size the exec channel's open (a few ms) costs more than it saves.
 */
export const STREAM_MIN_BYTES = 4 * 1024 * 1024;
/**
 * A stream's local disk I/O is synchronous, in STREAM_IO_BYTES pieces, until one piece takes SLOW_SYNC_IO_MS;
 * then the rest of that file goes through libuv's thread pool. Measured on loopback, 100 MB, 2 cores, one
 * ssh2 connection (aes128-gcm), side by side, p50 of n 7 (two runs): `cat` into a file written with
 * fs.writevSync every 256 KiB 604–618 MB/s, with async FileHandle.writev batches (what scoutd did) 272–299,
 * discarding the bytes 595–602, `ssh -S <mux> cat` 409–439; up, fs.readSync 256 KiB into the channel 377,
 * createReadStream 1 MiB 259, `ssh -S <mux> 'cat >'` 314. In scoutd (`npm run bench -- --only 9`, p50 of n 5,
 * two runs) get went from 373 to 472–565 MB/s (mux 426–452) and put from 261 to 309–349 (mux 333–351). A
 * piece to or from the page cache takes tens of microseconds, less than the hop to a pool thread and back on
 * two busy cores; a disk that blocks (dirty-page throttling, a network filesystem, a cold cache) would stall
 * every other call, hence the switch.
 */
const STREAM_IO_BYTES = 256 * 1024;
const SLOW_SYNC_IO_MS = 10;
/** Bytes a stream may be ahead of the local disk before the channel is paused (SSH flow control holds `cat`). */
const STREAM_WRITE_AHEAD = 8 * 1024 * 1024;

/** Runs a command on the host's connection (SshConnection.exec): what a RemoteFs needs to stream a file. */
export type RunCommand = (command: string, opts: Omit<ExecOptions, 'lost'>) => Promise<ExecOutcome>;

import type { EntryType } from '../protocol/methods/fs.js';

export type { EntryType };

export interface EntryStat {
  type: EntryType;
  size: number;
  /** Permission bits (mode & 0o7777). */
  mode: number;
  /** Last modification, ms since the epoch. */
  mtimeMs: number;
}

export interface ReadHandle {
  /** Read up to `length` bytes at `position` into `buf`; 0 at end of file. */
  read(buf: Buffer, length: number, position: number): Promise<number>;
  close(): Promise<void>;
}

export interface WriteHandle {
  write(buf: Buffer, length: number, position: number): Promise<void>;
  /** Several buffers, one after another, at `position`, in one system call where the side has it (local). */
  writev?(bufs: Buffer[], position: number): Promise<void>;
  /** The same, blocking the thread (local; see STREAM_IO_BYTES). */
  writevSync?(bufs: Buffer[], position: number): void;
  close(): Promise<void>;
}

/** One side of a transfer. Paths are absolute in that filesystem's own syntax (POSIX for both here). */
export interface FileSystem {
  /** 'local' or the host alias, for messages. */
  readonly where: string;
  /** stat following symlinks; undefined when nothing is there. */
  stat(p: string): Promise<EntryStat | undefined>;
  lstat(p: string): Promise<EntryStat>;
  readdir(p: string): Promise<string[]>;
  readlink(p: string): Promise<string>;
  openRead(p: string): Promise<ReadHandle>;
  /** Create a new file (never an existing one), private until chmod. */
  openWrite(p: string): Promise<WriteHandle>;
  /** Create a directory, private until chmod. */
  mkdir(p: string): Promise<void>;
  symlink(target: string, p: string): Promise<void>;
  chmod(p: string, mode: number): Promise<void>;
  /** Rename, replacing a file at `to` atomically. */
  rename(from: string, to: string): Promise<void>;
  /** Remove a file or a whole tree; nothing there is fine. */
  remove(p: string): Promise<void>;
  /** An error about `p` on this side, with the side's code (LOCAL_PATH or REMOTE_IO). */
  fail(p: string, reason: string, message: string): ScoutError;
}

const ENTRY_PRIVATE_FILE = 0o600;
const ENTRY_PRIVATE_DIR = 0o700;

/** The entry type of an SFTP or local stat. */
export function typeOf(s: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): EntryType {
  if (s.isFile()) return 'file';
  if (s.isDirectory()) return 'dir';
  if (s.isSymbolicLink()) return 'symlink';
  return 'other';
}

// ---------------------------------------------------------------------------------------------------------
// The local disk (the daemon runs as the caller's user on the caller's machine)

export class LocalFs implements FileSystem {
  readonly where = 'local';

  async stat(p: string): Promise<EntryStat | undefined> {
    try {
      const s = await fsp.stat(p);
      return { type: typeOf(s), size: s.size, mode: s.mode & 0o7777, mtimeMs: s.mtimeMs };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw mapLocalError(err, p);
    }
  }

  async lstat(p: string): Promise<EntryStat> {
    const s = await fsp.lstat(p).catch((err) => {
      throw mapLocalError(err, p);
    });
    return { type: typeOf(s), size: s.size, mode: s.mode & 0o7777, mtimeMs: s.mtimeMs };
  }

  readdir(p: string): Promise<string[]> {
    return fsp.readdir(p).catch((err) => {
      throw mapLocalError(err, p);
    });
  }

  readlink(p: string): Promise<string> {
    return fsp.readlink(p).catch((err) => {
      throw mapLocalError(err, p);
    });
  }

  async openRead(p: string): Promise<ReadHandle> {
    const fh = await fsp.open(p, 'r').catch((err) => {
      throw mapLocalError(err, p);
    });
    return {
      read: async (buf, length, position) =>
        (
          await fh.read(buf, 0, length, position).catch((err) => {
            throw mapLocalError(err, p);
          })
        ).bytesRead,
      close: () => fh.close(),
    };
  }

  async openWrite(p: string): Promise<WriteHandle> {
    const fh = await fsp.open(p, 'wx', ENTRY_PRIVATE_FILE).catch((err) => {
      throw mapLocalError(err, p);
    });
    const write = async (buf: Buffer, length: number, position: number) => {
      let done = 0;
      while (done < length) {
        const { bytesWritten } = await fh.write(buf, done, length - done, position + done).catch((err) => {
          throw mapLocalError(err, p);
        });
        done += bytesWritten;
      }
    };
    return {
      write,
      writevSync: (bufs, position) => {
        try {
          const total = bufs.reduce((n, b) => n + b.length, 0);
          let done = fs.writevSync(fh.fd, bufs, position);
          if (done < total) {
            const all = Buffer.concat(bufs);
            while (done < total) done += fs.writeSync(fh.fd, all, done, total - done, position + done);
          }
        } catch (err) {
          throw mapLocalError(err, p);
        }
      },
      writev: async (bufs, position) => {
        const { bytesWritten } = await fh.writev(bufs, position).catch((err) => {
          throw mapLocalError(err, p);
        });
        const total = bufs.reduce((n, b) => n + b.length, 0);
        if (bytesWritten < total) {
          const rest = Buffer.concat(bufs).subarray(bytesWritten);
          await write(rest, rest.length, position + bytesWritten);
        }
      },
      close: () =>
        fh.close().catch((err) => {
          throw mapLocalError(err, p);
        }),
    };
  }

  mkdir(p: string): Promise<void> {
    return fsp.mkdir(p, { mode: ENTRY_PRIVATE_DIR }).then(
      () => undefined,
      (err) => {
        throw mapLocalError(err, p);
      },
    );
  }

  symlink(target: string, p: string): Promise<void> {
    return fsp.symlink(target, p).catch((err) => {
      throw mapLocalError(err, p);
    });
  }

  chmod(p: string, mode: number): Promise<void> {
    return fsp.chmod(p, mode).catch((err) => {
      throw mapLocalError(err, p);
    });
  }

  rename(from: string, to: string): Promise<void> {
    return fsp.rename(from, to).catch((err) => {
      throw mapLocalError(err, to);
    });
  }

  remove(p: string): Promise<void> {
    return fsp.rm(p, { recursive: true, force: true }).catch((err) => {
      throw mapLocalError(err, p);
    });
  }

  fail(p: string, reason: string, message: string): ScoutError {
    return new ScoutError('LOCAL_PATH', `local ${p}: ${message}`, { path: p, reason });
  }
}

// ---------------------------------------------------------------------------------------------------------
// A host's SFTP session

export type Callback<T> = (err: Error | null | undefined, value?: T) => void;

/** SFTP sessions (one per connection) whose host could not stream a file: they read over SFTP from then on. */
const noStream = new WeakSet<SFTPWrapper>();
/** Per SFTP session (so per connection): whether an exec channel runs a command as asked (canStream). */
const streamProbes = new WeakMap<SFTPWrapper, Promise<boolean>>();
const PROBE_WORD = 'scout-stream-ok';
/** Bound on the probe: a host that cannot answer `echo` in this time reads over SFTP. */
const PROBE_TIMEOUT_MS = 10_000;

export class RemoteFs implements FileSystem {
  /** Requests waiting for an answer; failed at once when the connection is lost or the call cancelled. */
  private readonly pending = new Set<(err: ScoutError) => void>();
  private readonly signals: AbortSignal[];

  /**
   * @param lost aborted (with CONNECTION_LOST) when the connection goes away
   * @param cancel aborted when the caller cancels; absent for clean-up work that must run anyway
   * @param run streams files with `cat` when given (streamFile, streamIn); without it everything goes over SFTP
   */
  constructor(
    protected readonly sftp: SFTPWrapper,
    readonly where: string,
    protected readonly lost: AbortSignal,
    private readonly cancel?: AbortSignal,
    private readonly run?: RunCommand,
  ) {
    this.signals = cancel ? [lost, cancel] : [lost];
  }

  /**
   * Whether this host runs commands on exec channels as asked, checked once per connection with an `echo`
   * before any file streams: a host whose sshd forces SFTP (`ForceCommand internal-sftp`) would otherwise take an
   * upload's bytes as SFTP requests, and a shell rc that prints would corrupt a download. Undefined when it
   * does; otherwise why not.
   */
  private async unstreamable(): Promise<string | undefined> {
    const run = this.run;
    if (!run) return 'no exec on this side';
    if (noStream.has(this.sftp)) return 'a stream failed on this connection before';
    let probe = streamProbes.get(this.sftp);
    if (!probe) {
      probe = run(`echo ${PROBE_WORD}`, { timeoutMs: PROBE_TIMEOUT_MS, maxOutputBytes: 1024, ...(this.cancel ? { signal: this.cancel } : {}) }).then(
        (out) => out.exitCode === 0 && out.stdout.toString() === `${PROBE_WORD}\n`,
        (err: unknown) => {
          // Cancelled: nothing learned, ask again next time.
          if (isScoutError(err, 'CANCELLED')) streamProbes.delete(this.sftp);
          if (err instanceof ScoutError && (err.code === 'CANCELLED' || err.code === 'CONNECTION_LOST')) throw err;
          return false;
        },
      );
      streamProbes.set(this.sftp, probe);
    }
    return (await probe) ? undefined : 'an exec channel does not run `echo` as asked (no shell, a forced command or a shell rc that prints)';
  }

  /**
   * Run a `cat` command for a stream: its outcome, or why the file must go over SFTP instead (the host cannot
   * stream, or the channel was refused; either way this session streams no more). Cancellation and a lost
   * connection throw.
   */
  private async runCat(command: string, opts: Omit<ExecOptions, 'lost' | 'timeoutMs' | 'maxOutputBytes'>): Promise<ExecOutcome | string> {
    const not = await this.unstreamable();
    if (not) return not;
    try {
      // A stream has no time bound of its own.
      return await this.run!(command, { timeoutMs: MAX_TIMER_MS, maxOutputBytes: 4096, ...opts });
    } catch (err) {
      if (!isScoutError(err, 'CHANNEL_FAILED')) throw err;
      noStream.add(this.sftp);
      return `no exec channel: ${err.message}`;
    }
  }

  /** Why a `cat` that ran did not move the file (`landed`: what it did move), and no more streams on this session. */
  private streamFailed(out: ExecOutcome, landed: string): string {
    noStream.add(this.sftp);
    const said = out.stderr.toString('utf8').trim().slice(0, 200);
    return `cat exited ${out.exitCode ?? out.signal}, ${landed}${said ? `: ${said}` : ''}`;
  }

  /**
   * Create the file `p` (new, private, as openWrite does) and fill it from the local file `localPath` through
   * `cat` on an exec channel, then check its size. Undefined when the file on the host holds `size` bytes;
   * otherwise why not, and the caller writes it over SFTP instead. A local read error, cancellation and a lost
   * connection throw.
   */
  async streamIn(p: string, localPath: string, size: number, onBytes: (n: number) => void): Promise<string | undefined> {
    const not = await this.unstreamable();
    if (not) return not;
    await (await this.openWrite(p)).close();
    const fh = await fsp.open(localPath, 'r').catch((err) => {
      throw mapLocalError(err, localPath);
    });
    const source = localReader(fh, size);
    const stop = new AbortController();
    let readFailure: unknown;
    source.on('error', (err) => {
      readFailure = err;
      stop.abort();
    });
    // Counted on the way through; the channel reads from the counter only once it is open (nothing is lost).
    const counted = source.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          onBytes(chunk.length);
          done(null, chunk);
        },
      }),
    );
    let out: ExecOutcome | string;
    try {
      out = await this.runCat(`exec cat > ${shellQuote(p)}`, { signal: AbortSignal.any(this.cancel ? [this.cancel, stop.signal] : [stop.signal]), stdinStream: counted });
    } catch (err) {
      throw readFailure !== undefined ? mapLocalError(readFailure, localPath) : err;
    } finally {
      source.destroy();
      counted.destroy();
      await fh.close().catch(() => {});
    }
    if (readFailure !== undefined) throw mapLocalError(readFailure, localPath);
    if (typeof out === 'string') return out;
    const landed = out.exitCode === 0 ? (await this.stat(p))?.size : undefined;
    if (landed === size) return undefined;
    return this.streamFailed(out, `${landed ?? 'unknown'} of ${size} bytes written`);
  }

  /**
   * Send the whole file `p` (`size` bytes by its stat) through `cat` on an exec channel to `onChunk`, which may
   * ask the channel to wait. Undefined when exactly the file arrived; otherwise why not (no exec, a refused
   * channel, a shell rc that prints, a file that changed, a host whose sshd forces SFTP), and the caller reads
   * the file over SFTP instead, from the start. Once that happens a session never streams again. Cancellation
   * (`stop` included) and a lost connection throw.
   */
  async streamFile(p: string, size: number, onChunk: (chunk: Buffer) => void | Promise<void>, stop?: AbortSignal): Promise<string | undefined> {
    const signals = [this.cancel, stop].filter((x): x is AbortSignal => x !== undefined);
    const out = await this.runCat(`exec cat -- ${shellQuote(p)}`, {
      ...(signals.length ? { signal: AbortSignal.any(signals) } : {}),
      onOutput: (stream, chunk) => (stream === 'stdout' ? onChunk(chunk) : undefined),
    });
    if (typeof out === 'string') return out;
    if (out.exitCode === 0 && out.stdoutBytes === size) return undefined;
    return this.streamFailed(out, `${out.stdoutBytes} of ${size} bytes sent`);
  }

  /** The same session without the caller's cancellation: for closing handles and removing temp files. */
  uncancellable(): RemoteFs {
    return new RemoteFs(this.sftp, this.where, this.lost);
  }

  // Listeners are attached only while requests are pending (one per signal, not one per request), so a
  // long-lived connection's `lost` signal does not collect a listener per transfer.
  private readonly onAbort = (ev: Event): void => {
    const s = ev.target as AbortSignal;
    const reason = abortReason(s, 'the transfer');
    const all = [...this.pending];
    this.pending.clear();
    for (const sig of this.signals) sig.removeEventListener('abort', this.onAbort);
    for (const reject of all) reject(reason);
  };

  protected op<T>(p: string, start: (cb: Callback<T>) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      for (const s of this.signals) {
        if (s.aborted) return reject(abortReason(s, 'the transfer'));
      }
      const fail = (err: ScoutError) => reject(err);
      if (this.pending.size === 0) for (const s of this.signals) s.addEventListener('abort', this.onAbort);
      this.pending.add(fail);
      const settle = (): boolean => {
        if (!this.pending.delete(fail)) return false; // already failed by loss or cancellation
        if (this.pending.size === 0) for (const s of this.signals) s.removeEventListener('abort', this.onAbort);
        return true;
      };
      try {
        start((err, value) => {
          if (!settle()) return;
          if (err) reject(mapSftpError(err, this.where, p, this.lost));
          else resolve(value as T);
        });
      } catch (err) {
        // ssh2 throws synchronously for unsupported extensions and closed channels.
        settle();
        reject(mapSftpError(err, this.where, p, this.lost));
      }
    });
  }

  async stat(p: string): Promise<EntryStat | undefined> {
    const s = await unlessMissing(this.op<Stats>(p, (cb) => this.sftp.stat(p, cb)));
    return s && { type: typeOf(s), size: s.size, mode: s.mode & 0o7777, mtimeMs: s.mtime * 1000 };
  }

  async lstat(p: string): Promise<EntryStat> {
    const s = await this.op<Stats>(p, (cb) => this.sftp.lstat(p, cb));
    return { type: typeOf(s), size: s.size, mode: s.mode & 0o7777, mtimeMs: s.mtime * 1000 };
  }

  async readdir(p: string): Promise<string[]> {
    const list = await this.op<Array<{ filename: string }>>(p, (cb) => this.sftp.readdir(p, cb as never));
    return list.map((e) => e.filename).filter((n) => n !== '.' && n !== '..');
  }

  readlink(p: string): Promise<string> {
    return this.op<string>(p, (cb) => this.sftp.readlink(p, cb));
  }

  /** The server's canonical form of `p` (`..` and symlinks resolved; relative to the login directory). */
  realpath(p: string): Promise<string> {
    return this.op<string>(p, (cb) => this.sftp.realpath(p, cb));
  }

  async openRead(p: string): Promise<ReadHandle> {
    const handle = await this.op<Buffer>(p, (cb) => this.sftp.open(p, 'r', cb));
    return {
      read: (buf, length, position) => this.op<number>(p, (cb) => this.sftp.read(handle, buf, 0, length, position, (err, n) => cb(err, n))),
      close: () => this.uncancellable().op<void>(p, (cb) => this.sftp.close(handle, cb)),
    };
  }

  async openWrite(p: string): Promise<WriteHandle> {
    const handle = await this.op<Buffer>(p, (cb) => this.sftp.open(p, 'wx', { mode: ENTRY_PRIVATE_FILE }, cb));
    return {
      write: (buf, length, position) => this.op<void>(p, (cb) => this.sftp.write(handle, buf, 0, length, position, cb)),
      close: () => this.uncancellable().op<void>(p, (cb) => this.sftp.close(handle, cb)),
    };
  }

  mkdir(p: string): Promise<void> {
    return this.op<void>(p, (cb) => this.sftp.mkdir(p, { mode: ENTRY_PRIVATE_DIR }, cb));
  }

  symlink(target: string, p: string): Promise<void> {
    return this.op<void>(p, (cb) => this.sftp.symlink(target, p, cb));
  }

  chmod(p: string, mode: number): Promise<void> {
    return this.op<void>(p, (cb) => this.sftp.chmod(p, mode, cb));
  }

  async rename(from: string, to: string): Promise<void> {
    // Plain SFTP rename refuses an existing target (OpenSSH implements it with link(2)); the
    // posix-rename@openssh.com extension is rename(2): atomic replacement.
    const ext = (this.sftp as unknown as { _extensions?: Record<string, string> })._extensions ?? {};
    if (ext['posix-rename@openssh.com']) return this.op<void>(to, (cb) => this.sftp.ext_openssh_rename(from, to, cb));
    const existing = await this.stat(to);
    if (existing?.type === 'file') await this.op<void>(to, (cb) => this.sftp.unlink(to, cb));
    return this.op<void>(to, (cb) => this.sftp.rename(from, to, cb));
  }

  async remove(p: string): Promise<void> {
    let st: EntryStat;
    try {
      st = await this.lstat(p);
    } catch (err) {
      if (err instanceof ScoutError && err.code === 'REMOTE_NOT_FOUND') return;
      throw err;
    }
    if (st.type !== 'dir') return this.op<void>(p, (cb) => this.sftp.unlink(p, cb));
    // A private (0700) temp dir is ours to descend; make sure a copied read-only dir is too.
    if ((st.mode & 0o700) !== 0o700) await this.chmod(p, st.mode | 0o700);
    for (const name of await this.readdir(p)) await this.remove(path.posix.join(p, name));
    return this.op<void>(p, (cb) => this.sftp.rmdir(p, cb));
  }

  fail(p: string, reason: string, message: string): ScoutError {
    return new ScoutError('REMOTE_IO', `${this.where}:${p}: ${message}`, { host: this.where, path: p, reason });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Moving bytes

/**
 * Copy `size` bytes from `src` to `dst` with `inFlight` chunk requests outstanding. Each worker owns one
 * buffer and writes a chunk before reading its next one, so memory is inFlight × chunk whatever the size.
 */
export async function pipeBytes(
  src: ReadHandle,
  dst: WriteHandle,
  size: number,
  opts: { signal?: AbortSignal; onBytes?: (n: number) => void; chunkBytes?: number; inFlight?: number },
): Promise<number> {
  const chunk = opts.chunkBytes ?? CHUNK_BYTES;
  const workers = Math.max(1, Math.min(opts.inFlight ?? REQUESTS_IN_FLIGHT, Math.ceil(size / chunk)));
  let next = 0;
  let failure: unknown;
  let copied = 0;
  const work = async () => {
    const buf = Buffer.allocUnsafe(chunk);
    while (failure === undefined && next < size) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      const pos = next;
      const len = Math.min(chunk, size - pos);
      next += len;
      let got = 0;
      while (got < len) {
        const n = await src.read(buf.subarray(got), len - got, pos + got);
        if (n === 0) throw new ScoutError('REMOTE_IO', `source shrank during the transfer (expected ${size} bytes)`, { reason: 'changed', expected: size });
        got += n;
      }
      await dst.write(buf, len, pos);
      copied += len;
      opts.onBytes?.(len);
    }
  };
  await Promise.all(
    Array.from({ length: workers }, () =>
      work().catch((err) => {
        failure ??= err;
      }),
    ),
  );
  if (failure !== undefined) throw failure;
  return copied;
}

/**
 * The first `size` bytes of an open local file as a stream, read synchronously in STREAM_IO_BYTES pieces
 * until one takes SLOW_SYNC_IO_MS, then through the thread pool (see STREAM_IO_BYTES). Ends early, without
 * an error, at end of file: the caller checks the size that landed.
 */
function localReader(fh: fsp.FileHandle, size: number): Readable {
  let position = 0;
  let sync = true;
  return new Readable({
    highWaterMark: STREAM_IO_BYTES,
    read() {
      const want = Math.min(STREAM_IO_BYTES, size - position);
      if (want <= 0) return void this.push(null);
      const buf = Buffer.allocUnsafe(want);
      const got = (n: number) => {
        position += n;
        this.push(n === 0 ? null : n === want ? buf : buf.subarray(0, n));
      };
      if (!sync) {
        fh.read(buf, 0, want, position).then(
          ({ bytesRead }) => got(bytesRead),
          (err: Error) => this.destroy(err),
        );
        return;
      }
      const started = performance.now();
      let n: number;
      try {
        n = fs.readSync(fh.fd, buf, 0, want, position);
      } catch (err) {
        return void this.destroy(err as Error);
      }
      if (performance.now() - started > SLOW_SYNC_IO_MS) sync = false;
      got(n);
    },
  });
}

/**
 * Stream the remote file `from` into a new local file `to` (RemoteFs.streamFile). Undefined when the file
 * arrived whole; otherwise why not, and `to` holds something to throw away. A failed disk write stops the
 * stream and is the error thrown.
 */
async function streamInto(src: RemoteFs, from: string, dst: LocalFs, to: string, size: number, onBytes: (n: number) => void): Promise<string | undefined> {
  const wh = await dst.openWrite(to);
  const stop = new AbortController();
  const appender = new Appender(wh, onBytes, () => stop.abort());
  let why: string | undefined;
  let streamErr: unknown;
  try {
    why = await src.streamFile(from, size, (chunk) => appender.push(chunk), stop.signal);
  } catch (err) {
    streamErr = err;
  }
  try {
    await appender.done();
  } catch (err) {
    await wh.close().catch(() => {});
    throw err;
  }
  await wh.close();
  if (streamErr !== undefined) throw streamErr;
  return why;
}

/**
 * Appends a stream's chunks to a file in order, in batches, not one write per 32 KB SSH packet. With a
 * handle that can (local), a batch is written synchronously once STREAM_IO_BYTES are queued, until a write
 * takes SLOW_SYNC_IO_MS (see STREAM_IO_BYTES). Otherwise what arrives while a write is under way goes out in
 * the next one, so disk writes overlap network reads, and push() returns a promise (wait) once
 * STREAM_WRITE_AHEAD bytes are queued.
 */
class Appender {
  private queue: Buffer[] = [];
  private queued = 0;
  private position = 0;
  private writing: Promise<void> | undefined;
  private failure: unknown;
  private waiters: (() => void)[] = [];
  private sync: boolean;

  constructor(
    private readonly wh: WriteHandle,
    private readonly onBytes: (n: number) => void,
    private readonly onFailure: () => void,
  ) {
    this.sync = wh.writevSync !== undefined;
  }

  push(chunk: Buffer): Promise<void> | undefined {
    if (this.failure !== undefined) return undefined;
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.sync) {
      if (this.queued >= STREAM_IO_BYTES) this.writeNow();
      return undefined;
    }
    this.writing ??= this.flush();
    if (this.queued < STREAM_WRITE_AHEAD) return undefined;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Every queued byte written. Throws the first write error. */
  async done(): Promise<void> {
    if (this.sync && this.failure === undefined) this.writeNow();
    while (this.writing) await this.writing;
    if (this.failure !== undefined) throw this.failure;
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0 && this.failure === undefined) {
        const batch = this.queue;
        this.queue = [];
        const size = batch.reduce((n, b) => n + b.length, 0);
        // writev: no copy of the batch into one buffer (every copy is more external memory for the GC to chase).
        if (this.wh.writev) await this.wh.writev(batch, this.position);
        else for (let i = 0, at = this.position; i < batch.length; at += batch[i].length, i++) await this.wh.write(batch[i], batch[i].length, at);
        this.position += size;
        this.queued -= size;
        this.onBytes(size);
        if (this.queued < STREAM_WRITE_AHEAD) this.release();
      }
    } catch (err) {
      this.failure = err;
      this.onFailure();
      this.release();
    } finally {
      this.writing = undefined;
    }
  }

  /** Write the queue now, blocking (sync mode only: no async write is ever under way then). */
  private writeNow(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    const size = this.queued;
    this.queue = [];
    this.queued = 0;
    const started = performance.now();
    try {
      this.wh.writevSync!(batch, this.position);
    } catch (err) {
      this.failure = err;
      this.onFailure();
      return;
    }
    if (performance.now() - started > SLOW_SYNC_IO_MS) this.sync = false;
    this.position += size;
    this.onBytes(size);
  }

  private release(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const resolve of waiting) resolve();
  }
}

export interface PlanEntry {
  /** Path relative to the source root ('' for the root itself). */
  rel: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size: number;
  linkTarget?: string;
}

export interface TransferPlan {
  kind: 'file' | 'dir';
  /** Pre-order: a directory comes before its contents. */
  entries: PlanEntry[];
  totalBytes: number;
  /** Entries that are neither files, directories nor symlinks (sockets, devices, FIFOs): not copied. */
  skipped: string[];
}

function join(fs: FileSystem, ...parts: string[]): string {
  return fs instanceof LocalFs ? path.join(...parts) : path.posix.join(...parts);
}

/** Walk the source: the root follows symlinks (like cp), entries inside a tree are taken as they are. */
export async function planTransfer(src: FileSystem, root: string, recursive: boolean): Promise<TransferPlan> {
  const top = await src.stat(root);
  if (!top)
    throw src instanceof LocalFs ? src.fail(root, 'not-found', 'no such file or directory') : new ScoutError('REMOTE_NOT_FOUND', `${root} not found on ${src.where}`, { host: src.where, path: root });
  if (top.type === 'file') return { kind: 'file', entries: [{ rel: '', type: 'file', mode: top.mode, size: top.size }], totalBytes: top.size, skipped: [] };
  if (top.type !== 'dir') throw src.fail(root, 'not-a-file', 'is neither a regular file nor a directory');
  if (!recursive) throw src.fail(root, 'is-directory', 'is a directory (use recursive to transfer a tree)');
  const plan: TransferPlan = { kind: 'dir', entries: [{ rel: '', type: 'dir', mode: top.mode, size: 0 }], totalBytes: 0, skipped: [] };
  const walk = async (rel: string): Promise<void> => {
    const names = (await src.readdir(join(src, root, rel))).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      // ssh2 decodes SFTP names as UTF-8, replacing what is not with U+FFFD: such a name no longer names the
      // file (two of them even name the same one), so it is skipped and reported rather than failing the tree.
      if (src instanceof RemoteFs && name.includes('\ufffd')) {
        plan.skipped.push(r);
        continue;
      }
      const full = join(src, root, r);
      const st = await src.lstat(full);
      if (st.type === 'file') {
        plan.entries.push({ rel: r, type: 'file', mode: st.mode, size: st.size });
        plan.totalBytes += st.size;
      } else if (st.type === 'symlink') {
        plan.entries.push({ rel: r, type: 'symlink', mode: st.mode, size: 0, linkTarget: await src.readlink(full) });
      } else if (st.type === 'dir') {
        plan.entries.push({ rel: r, type: 'dir', mode: st.mode, size: 0 });
        await walk(r);
      } else plan.skipped.push(r);
    }
  };
  await walk('');
  return plan;
}

export interface TransferOptions {
  src: FileSystem;
  srcPath: string;
  dst: FileSystem;
  dstPath: string;
  recursive: boolean;
  signal?: AbortSignal;
  /** Called after each chunk lands with the running total. */
  onProgress?: (bytes: number, totalBytes: number, file: string) => void;
  /**
   * A temp path that could not be removed after a failure (the destination's connection died): the caller
   * owns removing it later.
   */
  onLeftover?: (p: string) => void;
  chunkBytes?: number;
  inFlight?: number;
  /** Files from a host at least this big are streamed (default STREAM_MIN_BYTES). */
  streamMinBytes?: number;
  /** A file that could not be streamed and was read over SFTP instead: why. */
  onStreamFallback?: (file: string, reason: string) => void;
}

export interface TransferOutcome {
  bytes: number;
  files: number;
  /** Where the copy ended up (inside `dstPath` when that was an existing directory). */
  path: string;
  skipped: string[];
}

/** Longest file name (bytes) Linux, macOS and the BSDs take: NAME_MAX. */
const NAME_MAX = 255;

/**
 * The temp name beside `target`: hidden, marked as Scout's, unique, and never longer than NAME_MAX (the target's
 * name is cut, at a character boundary, to leave room for the mark: a 240-byte name could not be written).
 */
export function tempName(fs: FileSystem, target: string, suffix: 'tmp' | 'old' = 'tmp'): string {
  const dir = fs instanceof LocalFs ? path.dirname(target) : path.posix.dirname(target);
  const base = fs instanceof LocalFs ? path.basename(target) : path.posix.basename(target);
  const mark = `.scout-${randomBytes(4).toString('hex')}.${suffix}`;
  const room = NAME_MAX - 1 - mark.length;
  const bytes = Buffer.from(base);
  const kept = bytes.length <= room ? base : bytes.subarray(0, completeUtf8Length(bytes.subarray(0, room))).toString();
  return join(fs, dir, `.${kept}${mark}`);
}

/** A temp file or tree Scout made (tempName): `.NAME.scout-XXXXXXXX.tmp` or `.old`. */
const TEMP_NAME = /^\..*\.scout-[0-9a-f]{8}\.(tmp|old)$/s;
/**
 * A temp that has not changed for this long was left by a scoutd that died mid-copy (kill -9, a crash, a
 * reboot): a copy in progress writes to it continuously, and a tree's temp directory gains entries as it fills.
 * A day is far beyond any pause in a live copy.
 */
export const STALE_TEMP_MS = 24 * 3600 * 1000;
/** Directories larger than this are not swept (reading them costs more than the leftovers do). */
const SWEEP_MAX_ENTRIES = 10_000;

/**
 * Remove Scout temp files in `dir` that no copy has touched for STALE_TEMP_MS. Returns what it removed.
 * Errors are the caller's to ignore: sweeping is housekeeping after a copy that already succeeded.
 */
export async function sweepStaleTemps(fs: FileSystem, dir: string, now = Date.now()): Promise<string[]> {
  const names = await fs.readdir(dir);
  if (names.length > SWEEP_MAX_ENTRIES) return [];
  const removed: string[] = [];
  for (const name of names) {
    if (!TEMP_NAME.test(name)) continue;
    const p = join(fs, dir, name);
    const st = await fs.lstat(p);
    if (st.type === 'symlink' || now - st.mtimeMs < STALE_TEMP_MS) continue;
    await fs.remove(p);
    removed.push(p);
  }
  return removed;
}

/** Copy a file or tree from one side to the other; the destination appears complete or not at all. */
export async function transfer(o: TransferOptions): Promise<TransferOutcome> {
  const plan = await planTransfer(o.src, o.srcPath, o.recursive);
  const srcBase = o.src instanceof LocalFs ? path.basename(o.srcPath) : path.posix.basename(o.srcPath);
  const at = await o.dst.stat(o.dstPath);
  // Like cp and scp: a destination that is an existing directory receives the source inside it.
  const target = at?.type === 'dir' ? join(o.dst, o.dstPath, srcBase) : o.dstPath;
  const existing = target === o.dstPath ? at : await o.dst.stat(target);
  if (plan.kind === 'file' && existing?.type === 'dir') throw o.dst.fail(target, 'is-directory', 'is a directory');
  if (plan.kind === 'dir' && existing && existing.type !== 'dir') throw o.dst.fail(target, 'not-a-directory', 'exists and is not a directory');

  if (!existing) {
    // Say which directory is missing, rather than failing later on a temp name the caller never chose.
    const parent = o.dst instanceof LocalFs ? path.dirname(target) : path.posix.dirname(target);
    const up = await o.dst.stat(parent);
    if (up?.type !== 'dir') throw o.dst.fail(parent, up ? 'not-a-directory' : 'not-found', up ? 'is not a directory' : 'directory does not exist');
  }
  const tmp = tempName(o.dst, target);
  let bytes = 0;
  let files = 0;
  const progress = (file: string) => (n: number) => {
    bytes += n;
    o.onProgress?.(bytes, plan.totalBytes, file);
  };
  const copyFile = async (from: string, to: string, entry: PlanEntry) => {
    let onBytes = progress(from);
    const big = entry.size >= (o.streamMinBytes ?? STREAM_MIN_BYTES);
    if (big && ((o.src instanceof RemoteFs && o.dst instanceof LocalFs) || (o.src instanceof LocalFs && o.dst instanceof RemoteFs))) {
      let written = 0;
      const counted = (n: number) => {
        written += n;
        onBytes(n);
      };
      const why = o.src instanceof RemoteFs ? await streamInto(o.src, from, o.dst as LocalFs, to, entry.size, counted) : await (o.dst as RemoteFs).streamIn(to, from, entry.size, counted);
      if (why === undefined) {
        await o.dst.chmod(to, entry.mode);
        files++;
        return;
      }
      o.onStreamFallback?.(from, why);
      await o.dst.remove(to);
      // Progress only goes up: the bytes the stream already reported are not counted twice.
      let credit = written;
      const report = onBytes;
      onBytes = (n) => {
        const skip = Math.min(credit, n);
        credit -= skip;
        if (n > skip) report(n - skip);
      };
    }
    const rh = await o.src.openRead(from);
    let wh: WriteHandle | undefined;
    try {
      wh = await o.dst.openWrite(to);
      await pipeBytes(rh, wh, entry.size, { signal: o.signal, onBytes, chunkBytes: o.chunkBytes, inFlight: o.inFlight });
      const w = wh;
      wh = undefined;
      await w.close(); // a remote close is where a server reports a failed flush: it must succeed
    } finally {
      await rh.close().catch(() => {});
      await wh?.close().catch(() => {});
    }
    await o.dst.chmod(to, entry.mode);
    files++;
  };

  try {
    if (plan.kind === 'file') {
      await copyFile(o.srcPath, tmp, plan.entries[0]);
      if (plan.totalBytes === 0) o.onProgress?.(0, 0, o.srcPath);
      o.signal?.throwIfAborted();
      await o.dst.rename(tmp, target);
    } else {
      for (const e of plan.entries) {
        o.signal?.throwIfAborted();
        const from = e.rel ? join(o.src, o.srcPath, e.rel) : o.srcPath;
        const to = e.rel ? join(o.dst, tmp, e.rel) : tmp;
        if (e.type === 'dir') await o.dst.mkdir(to);
        else if (e.type === 'symlink') await o.dst.symlink(e.linkTarget!, to);
        else await copyFile(from, to, e);
      }
      // Directory modes last, deepest first: a read-only directory must not stop its own filling.
      for (const e of [...plan.entries].reverse()) {
        if (e.type === 'dir') await o.dst.chmod(e.rel ? join(o.dst, tmp, e.rel) : tmp, e.mode);
      }
      if (plan.totalBytes === 0) o.onProgress?.(0, 0, o.srcPath);
      o.signal?.throwIfAborted();
      if (existing) {
        // rename(2) cannot replace a non-empty directory: move the old one aside, swap, then drop it.
        const old = tempName(o.dst, target, 'old');
        await o.dst.rename(target, old);
        try {
          await o.dst.rename(tmp, target);
        } catch (err) {
          await o.dst.rename(old, target).catch(() => {});
          throw err;
        }
        await o.dst.remove(old).catch(() => o.onLeftover?.(old));
      } else await o.dst.rename(tmp, target);
    }
  } catch (err) {
    const cleaner = o.dst instanceof RemoteFs ? o.dst.uncancellable() : o.dst;
    await cleaner.remove(tmp).catch(() => o.onLeftover?.(tmp));
    throw err;
  }
  return { bytes, files, path: target, skipped: plan.skipped };
}

/** `undefined` for a path that does not exist (REMOTE_NOT_FOUND); every other failure stands. */
export async function unlessMissing<T>(op: Promise<T>): Promise<T | undefined> {
  try {
    return await op;
  } catch (err) {
    if (err instanceof ScoutError && err.code === 'REMOTE_NOT_FOUND') return undefined;
    throw err;
  }
}
