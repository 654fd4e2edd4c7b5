// ScoutClient: the one way scoutctl and scout-mcp talk to scoutd. Finds the socket, says hello with the
// protocol number, sends calls, routes notifications to the call they belong to, cancels on request, and
// turns a missing daemon into a sentence a person can act on. Deliberately free of heavy imports: it is on
// every CLI start-up path.
import type net from 'node:net';
import { ScoutError } from '../protocol/errors.js';
import type { ApprovalPending } from '../protocol/methods/approvals.js';
import type { Grant, HelloResult } from '../protocol/methods/daemon.js';
import { type BlobRef, blobRefs, restoreBlobs } from '../protocol/blobs.js';
import { LineSplitter, MAX_LINE_BYTES, MAX_RESPONSE_BYTES, encodeLine } from '../protocol/ndjson.js';
import { defaultSocketPath } from '../protocol/paths.js';
import type { MethodName, NotificationArgs, ParamsOf, ResultOf } from '../protocol/table.js';
import { PROTOCOL_VERSION, packageVersion } from '../protocol/version.js';
import { dialTrusted } from './dial.js';

export interface ClientOptions {
  /** Socket path; defaults to the same discovery as scoutd ($SCOUT_SOCKET, XDG_RUNTIME_DIR, /tmp/scout-$UID). */
  socket?: string;
  /** Name sent in `daemon.hello` (shows in logs and the audit trail). */
  clientName?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Start scoutd (detached, logs under the state directory) when no daemon answers, then connect.
   * scoutctl status/stop leave it off: they report what is there.
   */
  autoStart?: boolean;
  /** Narrow every connection of this client to a grant (daemon.hello): scout-mcp --http, one per API key. */
  grant?: Grant;
  /**
   * Hears every `approval.pending` (a call of this client waits for a person's approval, policy `confirm`),
   * whichever call it is for and whether or not that call listens to notifications: scoutctl asks on its
   * terminal here. Answer with `approvals.decide`.
   */
  onApproval?: (pending: ApprovalPending) => void;
}

export interface CallOptions<M extends MethodName = MethodName> {
  /** Aborting sends `$/cancel`; the call then ends with the daemon's CANCELLED error. */
  signal?: AbortSignal;
  /**
   * Notifications tagged with this call's id (streamed output, progress): the ones the table says M sends.
   * A promise back means "not now": the client stops reading the socket until it settles, and the daemon in
   * turn holds the remote command.
   */
  onNotification?: (...args: NotificationArgs<M>) => unknown;
}

/** `client.call`'s arguments after the name: params may be left out only where the method takes none. */
export type CallArgs<M extends MethodName> = undefined extends ParamsOf<M> ? [params?: ParamsOf<M>, opts?: CallOptions<M>] : [params: ParamsOf<M>, opts?: CallOptions<M>];

/** What `send` takes: notifications untyped, as they come off the wire. */
interface SendOptions {
  signal?: AbortSignal;
  onNotification?: (method: string, params: Record<string, unknown>) => unknown;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onNotification?: SendOptions['onNotification'];
}

export class ScoutClient {
  readonly socketPath: string;
  private readonly clientName: string;
  private readonly grant: Grant | undefined;
  private readonly onApproval: ((pending: ApprovalPending) => void) | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private readonly autoStart: boolean;
  private connecting: Promise<HelloResult> | undefined;
  private sock: net.Socket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** The daemon's hello answer, once connected. */
  hello: HelloResult | undefined;
  /** Notifications that carry no call id (for subscribers such as a log follower). */
  onNotification: ((method: string, params: unknown) => void) | undefined;

  constructor(opts: ClientOptions = {}) {
    this.socketPath = opts.socket ?? defaultSocketPath(opts.env ?? process.env);
    this.clientName = opts.clientName ?? 'scout-client';
    this.env = opts.env ?? process.env;
    this.autoStart = opts.autoStart ?? false;
    this.grant = opts.grant;
    this.onApproval = opts.onApproval;
  }

  get connected(): boolean {
    return this.sock !== undefined && !this.sock.destroyed;
  }

  /**
   * Connect and say hello (a no-op when already connected; concurrent callers share one attempt). Throws
   * DAEMON_UNAVAILABLE (with a hint) when nothing answers, PROTOCOL_MISMATCH on a version skew. With
   * `autoStart`, a missing daemon is started first. After the daemon went away, calling this again reconnects.
   */
  connect(): Promise<HelloResult> {
    if (this.connected && this.hello) return Promise.resolve(this.hello);
    this.connecting ??= this.doConnect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async doConnect(): Promise<HelloResult> {
    try {
      await this.dial();
    } catch (err) {
      const reason = err instanceof ScoutError ? err.details.reason : undefined;
      if (!this.autoStart || (reason !== 'ENOENT' && reason !== 'ECONNREFUSED')) throw err;
      const { ensureDaemon } = await import('./autostart.js');
      await ensureDaemon({ socket: this.socketPath, env: this.env });
      await this.dial();
    }
    try {
      this.hello = await this.call('daemon.hello', { client: this.clientName, version: packageVersion(), protocol: PROTOCOL_VERSION, blobs: true, ...(this.grant ? { grant: this.grant } : {}) });
    } catch (err) {
      // Without a hello the connection is of no use; left open it would keep a CLI process alive forever.
      this.close();
      if (err instanceof ScoutError && err.code === 'PROTOCOL_MISMATCH') throw this.mismatch(err);
      throw err;
    }
    return this.hello;
  }

  /** Say which side to restart: the daemon is the long-lived one, so it is usually the stale one. */
  private mismatch(err: ScoutError): ScoutError {
    const d = err.details as { daemonProtocol?: number; daemonVersion?: string };
    const theirs = d.daemonProtocol !== undefined ? `protocol ${d.daemonProtocol}${d.daemonVersion ? ` (scoutd ${d.daemonVersion})` : ''}` : 'another protocol';
    return new ScoutError(
      'PROTOCOL_MISMATCH',
      `the running scoutd on ${this.socketPath} speaks ${theirs}; this ${this.clientName} ${packageVersion()} speaks protocol ${PROTOCOL_VERSION}: restart the daemon with 'scoutctl stop' (the next call starts the installed scoutd; restart its service instead if one manages it), or upgrade this client`,
      { ...err.details, clientProtocol: PROTOCOL_VERSION, socket: this.socketPath },
    );
  }

  /**
   * Call a method of the protocol table: params and result are the table's for that name (a misspelt name or
   * param fails tsc). Rejects with a ScoutError carrying the daemon's code, message and data.
   */
  call<M extends MethodName>(method: M, ...[params, opts]: CallArgs<M>): Promise<ResultOf<M>> {
    return this.send(method, params, (opts ?? {}) as SendOptions) as Promise<ResultOf<M>>;
  }

  /**
   * A second connection to the same (trusted) socket that carries raw bytes after one `shell.attach`: the
   * request, its answer, then the socket is the session's, paused (pipe it, or resume it after adding a
   * 'data' listener). Rejects with the daemon's error when refused.
   */
  attach(params: ParamsOf<'shell.attach'>): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      // A refusal thrown here rejects the promise (the executor's throw is its rejection).
      const sock = this.openSocket();
      let head = Buffer.alloc(0);
      const fail = (err: ScoutError) => {
        sock.destroy();
        reject(err);
      };
      const onData = (d: Buffer) => {
        head = Buffer.concat([head, d]);
        const nl = head.indexOf(10);
        if (nl < 0) {
          if (head.length > MAX_LINE_BYTES) fail(new ScoutError('PROTOCOL_MISMATCH', 'scoutd answered shell.attach with an overlong line'));
          return;
        }
        // Paused first: a flowing socket without a 'data' listener drops what arrives before the caller pipes it.
        sock.pause();
        sock.off('data', onData);
        sock.off('close', onClose);
        const msg = JSON.parse(head.subarray(0, nl).toString('utf8')) as { result?: unknown; error?: { code: number; message: string; data?: { code?: string } } };
        if (msg.error) return fail(ScoutError.fromRpc(msg.error));
        // Bytes of the session that came with the answer go back in front of the stream.
        const rest = head.subarray(nl + 1);
        if (rest.length) sock.unshift(rest);
        resolve(sock);
      };
      const onClose = () => reject(new ScoutError('DAEMON_UNAVAILABLE', `scoutd closed the connection (${this.socketPath}) before answering shell.attach; retry`, { socket: this.socketPath }));
      sock.once('connect', () => sock.write(encodeLine({ jsonrpc: '2.0', id: 1, method: 'shell.attach', params })));
      sock.once('error', (err: NodeJS.ErrnoException) => reject(unavailable(this.socketPath, err.code ?? err.message)));
      sock.on('data', onData);
      sock.on('close', onClose);
    });
  }

  /**
   * Send any method name with any params: for tests that probe what the daemon does with wrong input, and
   * for generic tools (a JSON-RPC console). Everything else uses `call`.
   */
  callUnchecked(method: string, params?: unknown, opts: SendOptions = {}): Promise<unknown> {
    return this.send(method, params, opts);
  }

  private send(method: string, params: unknown, opts: SendOptions): Promise<unknown> {
    const sock = this.sock;
    if (!sock || sock.destroyed) return Promise.reject(unavailable(this.socketPath, 'not connected'));
    const id = this.nextId++;
    // Measured here, where the message is made: the daemon would refuse a longer line, and nothing is sent.
    const line = encodeLine({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    if (line.length * 3 > MAX_LINE_BYTES && Buffer.byteLength(line) > MAX_LINE_BYTES) {
      const bytes = Buffer.byteLength(line);
      return Promise.reject(
        new ScoutError('TOO_LARGE', `the ${method} request is ${bytes} bytes, over the ${MAX_LINE_BYTES} scoutd takes in one message: send less (transfer.put for large files)`, {
          method,
          bytes,
          limit: MAX_LINE_BYTES,
        }),
      );
    }
    return new Promise<unknown>((resolve, reject) => {
      const onAbort = () => this.notify('$/cancel', { id });
      const cleanup = () => opts.signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (v) => {
          cleanup();
          resolve(v);
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
        onNotification: opts.onNotification,
      });
      sock.write(line);
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Send a notification (no answer). */
  notify(method: string, params?: unknown): void {
    if (this.sock && !this.sock.destroyed) this.sock.write(encodeLine({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) }));
  }

  /** Resolves when the daemon closes this connection (or it is closed locally). */
  waitClosed(): Promise<void> {
    const sock = this.sock;
    if (!sock || sock.destroyed) return Promise.resolve();
    return new Promise((resolve) => sock.once('close', () => resolve()));
  }

  /** Close the connection; calls still pending fail with DAEMON_UNAVAILABLE. */
  close(): void {
    this.sock?.end();
    this.sock?.destroy();
    this.sock = undefined;
  }

  /** A connection to the (trusted) socket; a refusal becomes DAEMON_UNAVAILABLE, or SOCKET_UNTRUSTED as the check says. */
  private openSocket(onread?: net.OnReadOpts): net.Socket {
    try {
      return dialTrusted(this.socketPath, onread);
    } catch (err) {
      throw err instanceof ScoutError ? err : unavailable(this.socketPath, (err as NodeJS.ErrnoException).code ?? String(err));
    }
  }

  private dial(): Promise<void> {
    return new Promise((resolve, reject) => {
      // Reads land in one reused buffer (net's onread) instead of a fresh 64 KiB buffer per read: a 1 MiB answer
      // was 16 buffers of garbage and as many stream events. The splitter copies what outlives a read.
      // A refusal thrown here rejects the promise (the executor's throw is its rejection).
      const readBuf = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      const sock = this.openSocket({
        buffer: readBuf,
        callback: (n) => {
          splitter.push(readBuf.subarray(0, n));
          return true;
        },
      });
      // After a message it cannot read, the client cannot tell where the next one starts: fail every call, hang up.
      const broken = (why: string, bytes?: number) => {
        const err = new ScoutError('PROTOCOL_MISMATCH', `${why}; closing the connection`, { ...(bytes !== undefined ? { bytes } : {}), limit: MAX_RESPONSE_BYTES, socket: this.socketPath });
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        sock.destroy();
      };
      const splitter = new LineSplitter(
        {
          line: (text) => this.onLine(text, splitter, broken),
          // The daemon turns any longer answer into TOO_LARGE; a line over the bound means a broken peer, and
          // whichever call it answered would wait forever: fail them all and hang up.
          oversized: (bytes) => broken(`scoutd sent a message of ${bytes} bytes, over the ${MAX_RESPONSE_BYTES} a client reads`, bytes),
        },
        MAX_RESPONSE_BYTES,
        true,
      );
      sock.once('connect', () => {
        sock.removeAllListeners('error');
        sock.on('error', () => {
          /* reported through close */
        });
        this.sock = sock;
        resolve();
      });
      sock.once('error', (err: NodeJS.ErrnoException) => reject(unavailable(this.socketPath, err.code ?? err.message)));
      sock.on('close', () => {
        if (this.sock === sock) this.sock = undefined;
        this.hello = undefined;
        const err = new ScoutError('DAEMON_UNAVAILABLE', `scoutd closed the connection (${this.socketPath}) before answering: it may have stopped or restarted; retry`, { socket: this.socketPath });
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
    });
  }

  private onLine(text: string, splitter: LineSplitter, broken: (why: string) => void): void {
    let msg: Message;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    let refs: BlobRef[] | null;
    try {
      refs = blobRefs(msg, MAX_RESPONSE_BYTES);
    } catch (err) {
      broken((err as Error).message);
      return;
    }
    if (!refs) {
      this.onMessage(msg);
      return;
    }
    const total = refs.reduce((n, r) => n + r.bytes, 0);
    splitter.takeRaw(total, (raw) => {
      try {
        restoreBlobs(msg as Record<string, unknown>, refs, raw);
      } catch (err) {
        broken((err as Error).message);
        return;
      }
      this.onMessage(msg);
    });
  }

  private onMessage(msg: Message): void {
    if (typeof msg.method === 'string') {
      if (msg.method === 'approval.pending') this.onApproval?.(msg.params as unknown as ApprovalPending);
      const id = msg.params?.id;
      const p = typeof id === 'number' ? this.pending.get(id) : undefined;
      if (p?.onNotification) {
        const wait = p.onNotification(msg.method, msg.params ?? {});
        const sock = this.sock;
        if (wait instanceof Promise && sock) {
          sock.pause();
          const go = () => sock.resume();
          wait.then(go, go);
        }
      } else this.onNotification?.(msg.method, msg.params);
      return;
    }
    if (typeof msg.id !== 'number') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error) p.reject(ScoutError.fromRpc(msg.error));
    else p.resolve(msg.result);
  }
}

/** The client's one read buffer: a 1 MiB answer in 4 reads rather than 16 (Node reads 64 KiB at a time). */
const READ_BUFFER_BYTES = 256 * 1024;

/** A message as it comes off the wire, before it is routed to its call. */
interface Message {
  id?: unknown;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

function unavailable(socket: string, why: string): ScoutError {
  const hint =
    why === 'ENOENT' || why === 'ECONNREFUSED' ? `scoutd is not running (no daemon on ${socket}); start it with 'scoutd' (or 'scoutctl service install')` : `cannot reach scoutd on ${socket}: ${why}`;
  return new ScoutError('DAEMON_UNAVAILABLE', hint, { socket, reason: why });
}
