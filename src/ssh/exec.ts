// One remote command on an exec channel: bounded output, a timeout and cancellation that really stop the
// remote process. Closing an exec channel alone does not stop its command (sshd keeps it running and the
// close never completes); a `signal` request reaches the command's whole process group, pipes included.
import type { Readable } from 'node:stream';
import type { Client, ClientChannel } from 'ssh2';
import { ScoutError, isScoutError, abortReason } from '../protocol/errors.js';
import { channelOpenFailed } from './errors.js';

/** Time a command gets to exit after SIGTERM before SIGKILL, and after SIGKILL before we stop waiting. */
export const TERM_GRACE_MS = 1_000;
export const KILL_GRACE_MS = 1_000;

export type OutputStream = 'stdout' | 'stderr';

/** The longest a Node timer can wait (setTimeout fires at once past 2^31-1 ms): "no time bound" for a timeout. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Linux's MAX_ARG_STRLEN less the NUL: the longest `$SHELL -c` argument sshd can exec (and far below 256 KiB). */
export const MAX_EXEC_REQUEST_BYTES = 128 * 1024 - 1;

export interface ExecOptions {
  /** Upper bound on run time; the command is signalled and COMMAND_TIMEOUT is returned. */
  timeoutMs: number;
  /** Bytes kept per stream; the rest is counted and dropped. */
  maxOutputBytes: number;
  /** Cancellation: the command is signalled and CANCELLED is returned. */
  signal?: AbortSignal;
  /**
   * Called with each chunk as it arrives (streaming), before capping. A promise back means "not now": the
   * channel stops reading until it settles, so SSH flow control holds the remote writer (a stream to a slow
   * reader must not pile up in the daemon).
   */
  onOutput?: (stream: OutputStream, chunk: Buffer) => void | Promise<void>;
  /** Bytes to write to the command's stdin, which is then closed. Without it stdin is closed at once. */
  stdin?: Buffer;
  /**
   * A stream piped to the command's stdin (with the channel's flow control), closed at its end: uploads. Its
   * errors are the caller's to handle (stop the command through `signal`).
   */
  stdinStream?: Readable;
  /** Environment variables to request; the server may refuse them (AcceptEnv). */
  env?: Record<string, string>;
  /** Aborted by the connection when it goes away; its reason (CONNECTION_LOST) ends the call at once. */
  lost?: AbortSignal;
  /** Called once the channel is open (the command runs), with a handle to signal it (background jobs). */
  onStarted?: (control: ExecControl) => void;
}

/** A running command's handle: send any signal (TERM, KILL, INT, HUP…) to its remote process group. */
export interface ExecControl {
  signal(name: string): void;
}

export interface ExecOutcome {
  exitCode: number | null;
  signal: string | null;
  stdout: Buffer;
  stderr: Buffer;
  /** Bytes produced per stream, including what was dropped by the cap. */
  stdoutBytes: number;
  stderrBytes: number;
  truncated: boolean;
  durationMs: number;
  /** Set by SshConnection.run: which path ran the command. */
  via?: 'warm-shell' | 'exec-channel';
}

/** The outcome of a command that ran to its end, from its captured output. */
export function outcomeOf(out: CappedBuffer, errOut: CappedBuffer, exitCode: number | null, signal: string | null, started: number): ExecOutcome {
  return {
    exitCode,
    signal,
    stdout: out.bytes(),
    stderr: errOut.bytes(),
    stdoutBytes: out.total,
    stderrBytes: errOut.total,
    truncated: out.truncated || errOut.truncated,
    durationMs: performance.now() - started,
  };
}

/**
 * Stop what runs on `stream`: TERM to its remote process group now, KILL after TERM_GRACE_MS, and `giveUp`
 * KILL_GRACE_MS later if the channel has not closed by then. The timers go into `timers` (cleared on finish).
 */
export function escalate(stream: ClientChannel, timers: NodeJS.Timeout[], giveUp: () => void): void {
  trySignal(stream, 'TERM');
  timers.push(setTimeout(() => killUntilClosed(stream, timers, giveUp), TERM_GRACE_MS));
}

/**
 * When KILL goes out again while the channel stays open (ms after the first). sshd answers an exec request
 * right after fork(), before its child has made the session's process group (setsid); a `signal` request that
 * reaches sshd in that window finds no group (killpg: ESRCH), has no reply to tell us, and is lost: the
 * command runs on, and sshd never answers our close (it waits for the child). A cancel right after the open
 * hits that window (test/exec-cancel-open.test.ts: 1 run in 10 on an idle machine). KILL cannot be caught or
 * run twice, so sending it again costs a packet; TERM is sent once (a second could re-run a trap).
 */
const KILL_AGAIN_AT_MS = [25, 75, 175, 375, 775];

/**
 * A command's first signal (a stop's TERM, a job's signal) waits until its channel has been open this long.
 * Sent at once, TERM reached the command before it had set up its handlers: `trap 'cleanup' TERM` never ran
 * in 20 of 20 runs on this machine (the shell died of the TERM), where after 50 ms it ran in 20 of 20, also
 * with three CPU hogs on the two cores. The wait also keeps the signal clear of sshd's setsid window
 * (KILL_AGAIN_AT_MS), where a signal is lost. TERM is sent once: a second could run a trap twice.
 */
const SETSID_WAIT_MS = 50;

/** KILL to the channel's process group, again on KILL_AGAIN_AT_MS while it stays open, `giveUp` after KILL_GRACE_MS. */
function killUntilClosed(stream: ClientChannel, timers: NodeJS.Timeout[], giveUp: () => void): void {
  trySignal(stream, 'KILL');
  // trySignal sends nothing once the channel is closing or closed, so a timer left over is harmless.
  for (const at of KILL_AGAIN_AT_MS) if (at < KILL_GRACE_MS) timers.push(setTimeout(() => trySignal(stream, 'KILL'), at));
  timers.push(setTimeout(giveUp, KILL_GRACE_MS));
}

/**
 * Pause `channel` (stdout and stderr) until `wait` settles. Unread data stops the SSH window from opening, so
 * the remote writer blocks: backpressure from whoever consumes the output, through the daemon, to the host.
 */
export function holdChannel(channel: ClientChannel, wait: Promise<void>): void {
  const holds = (heldChannels.get(channel) ?? 0) + 1;
  heldChannels.set(channel, holds);
  if (holds === 1) {
    channel.pause();
    channel.stderr.pause();
  }
  const release = () => {
    const left = (heldChannels.get(channel) ?? 1) - 1;
    heldChannels.set(channel, left);
    if (left === 0) {
      channel.resume();
      channel.stderr.resume();
    }
  };
  wait.then(release, release);
}
/** Holds in force per channel (several chunks may each ask to wait). */
const heldChannels = new WeakMap<ClientChannel, number>();

/** Keeps at most `cap` bytes of a stream, counting the rest. */
export class CappedBuffer {
  private chunks: Buffer[] = [];
  private kept = 0;
  total = 0;

  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const room = this.cap - this.kept;
    if (room <= 0) return;
    const piece = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.chunks.push(piece);
    this.kept += piece.length;
  }

  get truncated(): boolean {
    return this.total > this.kept;
  }

  bytes(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.kept);
  }
}

/** How the command ended, as reported by the server's exit-status / exit-signal request. */
interface ExitInfo {
  code: number | null;
  signal: string | null;
}

function openExec(client: Client, command: string, env: Record<string, string> | undefined): Promise<{ stream: ClientChannel; exit: ExitInfo }> {
  return new Promise((resolve, reject) => {
    client.exec(command, env ? { env } : {}, (err, stream) => {
      if (err) return reject(err);
      // Listen for the exit now, synchronously: a fast command's output, exit-status and close can arrive in
      // the same TCP read as the exec reply, and ssh2 emits 'exit' while parsing it, before an `await` on
      // this promise resumes. Listening later lost the status (exitCode null) in ~1 of 8 fleet runs.
      const exit: ExitInfo = { code: null, signal: null };
      stream.on('exit', (code: number | null, signalName?: string) => {
        if (typeof code === 'number') exit.code = code;
        else if (signalName) exit.signal = signalName;
      });
      resolve({ stream, exit });
    });
  });
}

/**
 * Run `command` on an open ssh2 client. Resolves with the outcome, or rejects with COMMAND_TIMEOUT,
 * CANCELLED, CHANNEL_FAILED (the channel never opened: the command did not run) or CONNECTION_LOST.
 */
export async function runExec(client: Client, host: string, command: string, opts: ExecOptions): Promise<ExecOutcome> {
  const started = performance.now();
  if (opts.signal?.aborted) throw stoppedBy(host, opts.signal);
  // The last guard for what the schema bounds (MAX_COMMAND_BYTES plus a cwd): an exec request over OpenSSH's
  // 256 KiB packet limit resets the connection that every other call on this host shares.
  const bytes = Buffer.byteLength(command);
  if (bytes > MAX_EXEC_REQUEST_BYTES) {
    throw new ScoutError('INVALID_PARAMS', `command is ${bytes} bytes; a remote runs at most ${MAX_EXEC_REQUEST_BYTES} bytes as one command: send a longer script on stdin (command "sh -s")`, {
      host,
      bytes,
      limit: MAX_EXEC_REQUEST_BYTES,
    });
  }
  let stream: ClientChannel;
  let exit: ExitInfo;
  ({ stream, exit } = await boundedOpen(client, host, command, opts));
  // The command's first signal, a stop's TERM or a job's, goes no earlier than SETSID_WAIT_MS after the open.
  const opened = performance.now();
  const afterStart = (fn: () => void): NodeJS.Timeout | undefined => {
    const wait = opened + SETSID_WAIT_MS - performance.now();
    if (wait > 0) return setTimeout(fn, wait);
    fn();
    return undefined;
  };
  const out = new CappedBuffer(opts.maxOutputBytes);
  const errOut = new CappedBuffer(opts.maxOutputBytes);
  opts.onStarted?.({ signal: (name) => void afterStart(() => trySignal(stream, name)) });

  return new Promise<ExecOutcome>((resolve, reject) => {
    let settled = false;
    let stopping: ScoutError | undefined;
    const timers: NodeJS.Timeout[] = [];

    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      opts.signal?.removeEventListener('abort', onAbort);
      opts.lost?.removeEventListener('abort', onLost);
      if (err) return reject(err);
      resolve(outcomeOf(out, errOut, exit.code, exit.signal, started));
    };

    // Stop the remote command: TERM to its process group (not before SETSID_WAIT_MS after the open), then
    // KILL, then give up waiting for the close.
    const stop = (reason: ScoutError) => {
      if (stopping || settled) return;
      stopping = reason;
      const giveUp = () => {
        closeChannel(stream);
        finish(unconfirmedStop(reason));
      };
      const waiting = afterStart(() => escalate(stream, timers, giveUp));
      if (waiting) timers.push(waiting);
    };
    const onAbort = () => stop(stoppedBy(host, opts.signal));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    // A cancel that came while the channel opened (onStarted, say) fired no listener: this one was not there yet.
    if (opts.signal?.aborted) onAbort();
    // Nothing can be signalled on a dead link; the remote sshd ends the session itself.
    const onLost = () => finish(isScoutError(opts.lost?.reason) ? opts.lost.reason : new ScoutError('CONNECTION_LOST', `connection to ${host} was lost`, { host }));
    if (opts.lost?.aborted) return onLost();
    opts.lost?.addEventListener('abort', onLost, { once: true });

    // The timeout bounds the whole call, the channel open included.
    const left = Math.max(0, opts.timeoutMs - (performance.now() - started));
    timers.push(setTimeout(() => stop(new ScoutError('COMMAND_TIMEOUT', `command on ${host} timed out after ${opts.timeoutMs} ms and was stopped`, { host, timeoutMs: opts.timeoutMs })), left));

    stream.on('data', (chunk: Buffer) => {
      out.push(chunk);
      const wait = opts.onOutput?.('stdout', chunk);
      if (wait) holdChannel(stream, wait);
    });
    stream.stderr.on('data', (chunk: Buffer) => {
      errOut.push(chunk);
      const wait = opts.onOutput?.('stderr', chunk);
      if (wait) holdChannel(stream, wait);
    });
    // The channel closes once the command and everything holding its output are gone.
    stream.on('close', () => {
      if (stopping) return finish(confirmedStop(stopping));
      finish();
    });
    stream.on('error', (err: Error) => finish(new ScoutError('CONNECTION_LOST', `channel on ${host} failed: ${err.message}`, { host })));

    if (opts.stdinStream) opts.stdinStream.pipe(stream);
    else if (opts.stdin && opts.stdin.length > 0) stream.end(opts.stdin);
    // A fast command's close can come in the same read as the exec reply: ssh2 has ended the channel already,
    // and end() again only builds an ERR_STREAM_ALREADY_FINISHED with a full stack (Error construction was
    // 4.8% of scoutd's CPU in `perf record` of bench row 15 warm, 1,000 hosts running `true`; most was this).
    else if (!stream.writableEnded) stream.end();
  });
}

/**
 * Open the exec channel within the call's timeout and cancellation. A server that never answers a channel
 * open would otherwise hold the call forever (ssh2 has no open timeout). A channel that opens after we gave
 * up is stopped (stopLateOpen), and the call answers only once that channel has closed (or KILL_GRACE_MS
 * passed): the exec request may already be running on the host, and a caller that cleans up as soon as it
 * hears "cancelled" raced it. Found by test/transfer.test.ts: a put cancelled in that window removed its temp
 * file, then `cat > temp` started and made it again (1 run in 6).
 */
function boundedOpen(client: Client, host: string, command: string, opts: ExecOptions): Promise<{ stream: ClientChannel; exit: ExitInfo }> {
  const opening = openExec(client, command, opts.env);
  return new Promise((resolve, reject) => {
    let done = false;
    const settle = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const giveUp = (err: ScoutError) => settle(() => void stopLateOpen(opening, err).then(reject));
    const timer = setTimeout(
      () => giveUp(new ScoutError('COMMAND_TIMEOUT', `no channel opened on ${host} within ${opts.timeoutMs} ms`, { host, timeoutMs: opts.timeoutMs, opened: false })),
      opts.timeoutMs,
    );
    const onAbort = () => giveUp(stoppedBy(host, opts.signal));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    opening.then(
      (r) => settle(() => resolve(r)),
      (err: unknown) => settle(() => reject(channelOpenFailed(host, 'a channel', err))),
    );
  });
}

/**
 * The answer of a call given up on while its channel was opening. The channel may open after all (the command
 * then runs): it gets KILL until sshd closes it, and nobody reads it, so both streams are drained (ssh2 emits
 * 'close' only once they have ended). We never close it first (no signal may follow our CHANNEL_CLOSE) unless
 * KILL_GRACE_MS pass. A channel not open KILL_GRACE_MS from now is not waited for, but still stopped if it opens.
 */
async function stopLateOpen(opening: Promise<{ stream: ClientChannel }>, reason: ScoutError): Promise<ScoutError> {
  const stopped = opening.then(
    ({ stream }) =>
      new Promise<ScoutError>((answer) => {
        const timers: NodeJS.Timeout[] = [];
        stream.once('close', () => {
          for (const t of timers) clearTimeout(t);
          answer(confirmedStop(reason));
        });
        stream.resume();
        stream.stderr.resume();
        killUntilClosed(stream, timers, () => {
          closeChannel(stream);
          answer(unconfirmedStop(reason, 'KILL'));
        });
      }),
    () => reason, // it never opened: the command did not run
  );
  let opened = false;
  void opening.then(
    () => (opened = true),
    () => undefined,
  );
  let bound: NodeJS.Timeout | undefined;
  const notOpened = new Promise<ScoutError>((answer) => (bound = setTimeout(() => !opened && answer(reason), KILL_GRACE_MS)));
  try {
    return await Promise.race([stopped, notOpened]);
  } finally {
    clearTimeout(bound);
  }
}

/** Close a channel; one that is already closed (or closing) is fine. */
export function closeChannel(stream: ClientChannel): void {
  try {
    stream.close();
  } catch {
    /* already closed */
  }
}

/**
 * Send a `signal` channel request. ssh2's `stream.signal()` silently drops the request once stdin has been
 * closed (it requires a writable stream), yet a command whose stdin is at EOF is exactly what we must be able
 * to stop, so the request goes through ssh2's protocol object while the channel itself is still open.
 * Never after our CHANNEL_CLOSE (state 'closing'): sshd may already have freed the channel, and it answers a
 * request on an unknown channel by dropping the whole connection (test/channel-signal.test.ts).
 */
export function trySignal(stream: ClientChannel, name: string): void {
  const ch = stream as unknown as { outgoing?: { id: number; state: string }; _client?: { _protocol?: { signal(id: number, sig: string): void } } };
  try {
    if (!ch.outgoing || !ch._client?._protocol) stream.signal(name);
    else if (ch.outgoing.state === 'open' || ch.outgoing.state === 'eof') ch._client._protocol.signal(ch.outgoing.id, name);
  } catch {
    // The channel is already closing; nothing left to signal.
  }
}

/**
 * The stop error for a command whose end could not be confirmed (its channel never closed after KILL, or the
 * resident shell's process group could not be checked): it says so instead of "was stopped".
 */
export function unconfirmedStop(reason: ScoutError, sent = 'TERM, then KILL'): ScoutError {
  const message = reason.message.replace(/ and was stopped$/, '') + `; it was signalled (${sent}) but may still be running`;
  return new ScoutError(reason.code, message, { ...reason.details, stopped: false });
}

/** The stop error for a command confirmed gone. */
export function confirmedStop(reason: ScoutError): ScoutError {
  const message = /stopped/.test(reason.message) ? reason.message : `${reason.message}; the command was stopped`;
  return new ScoutError(reason.code, message, { ...reason.details, stopped: true });
}

/** The reason a stopped command ends with: the session's own (CANCELLED, SHUTTING_DOWN, …) when it gave one. */
export function stoppedBy(host: string, signal?: AbortSignal): ScoutError {
  return abortReason(signal, `command on ${host}`, { host });
}
