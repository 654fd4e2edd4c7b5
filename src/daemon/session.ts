// One client connection: NDJSON framing in, JSON-RPC dispatch, responses and notifications out, and the
// bookkeeping that makes `$/cancel` and disconnects stop in-flight work. A bad message gets a standard
// error and the session goes on; nothing a client sends can take the daemon down.
import type net from 'node:net';
import type { JSONRPCRequest, JSONRPCResponse } from 'json-rpc-2.0';
import type { Logger } from 'pino';
import { ScoutError, codeName, cancelled, shuttingDown } from '../protocol/errors.js';
import { extractBlobs } from '../protocol/blobs.js';
import { LineSplitter, MAX_JSON_DEPTH, MAX_LINE_BYTES, MAX_RESPONSE_BYTES, encodeLine, idFromHead, nestingExceeds } from '../protocol/ndjson.js';
import type { CallContext } from './context.js';
import type { Grant } from './grant.js';
import { errorResponse, type Dispatcher } from './rpc.js';

export interface SessionHooks {
  dispatcher: Dispatcher;
  log: Logger;
  /** When set, new calls are refused with SHUTTING_DOWN. */
  shuttingDown(): boolean;
  /** Counts each finished call by outcome. */
  onCallDone(outcome: string): void;
  onClose(session: Session): void;
  maxLineBytes?: number;
  /** Calls one client may have in flight at once; more are refused with BUSY. */
  maxInFlight?: number;
  /** A client with a backlog over MAX_UNREAD_BYTES that takes nothing for this long is cut off (SCOUT_CLIENT_STALL). */
  stallLimitMs: number;
}

/**
 * Per-client bound on calls in flight: far above what an agent or a fleet script needs (a fleet.exec is one
 * call), low enough that one runaway client cannot queue unbounded work in the pool.
 */
export const DEFAULT_MAX_IN_FLIGHT = 256; // SCOUT_MAX_CLIENT_CALLS overrides it
/**
 * Backlog (answers written, not yet taken by the client's socket) above which the session watches the reader:
 * streaming producers pause (`backlogged`), and a client that takes nothing for SCOUT_CLIENT_STALL is cut off.
 * A client that keeps reading is never cut for being slower than the daemon (six 12 MiB reads at once were,
 * when the bound alone decided).
 */
export const MAX_UNREAD_BYTES = 64 * 1024 * 1024;
/**
 * Backlog at which a stream (`stream: 'only'`) holds its command until the client has read it all: a few
 * hundred ms of output on loopback, so a slow reader costs the daemon about this much, not the whole stream.
 */
export const STREAM_HIGH_WATER_BYTES = 1024 * 1024;
/** How often a backed-up session looks at whether its client reads. */
const STALL_CHECK_MS = 1_000;
/** Backlog that cuts a client off however it reads: the daemon's memory is shared by every client. */
export const MAX_BACKLOG_BYTES = 1024 * 1024 * 1024;

type Id = string | number;

export class Session {
  /** The client's name from `daemon.hello` ("scoutctl", "scout-mcp", …). */
  clientName = 'unknown';
  /** Set by `daemon.hello` with a grant: every later call on this connection is held to it. */
  private grant: Grant | undefined;
  private readonly inFlight = new Map<Id, { controller: AbortController; done: Promise<void> }>();
  private readonly splitter: LineSplitter;
  private closed = false;
  private stallTimer: NodeJS.Timeout | undefined;
  /** Bytes the kernel had taken at the last stall check. */
  private takenAtCheck = 0;
  private lastProgress = 0;
  /** The client reads blobs (daemon.hello `blobs`): long strings go as raw bytes after their line. */
  private blobs = false;
  /** Writes are held until the end of this turn of the event loop (coalesce). */
  private corked = false;

  constructor(
    readonly id: number,
    private readonly sock: net.Socket,
    private readonly hooks: SessionHooks,
  ) {
    this.splitter = new LineSplitter(
      {
        line: (text) => this.onLine(text),
        // Answered with the call's id when its head shows one, so the caller is not left waiting, and with the
        // code our own client gives the same request before sending it (TOO_LARGE), so callers see one answer.
        oversized: (bytes, head) => {
          const limit = hooks.maxLineBytes ?? MAX_LINE_BYTES;
          const e = new ScoutError('TOO_LARGE', `message too large: ${bytes} bytes (limit ${limit}); send less (transfer.put for large files)`, { bytes, limit });
          this.sendError(idFromHead(head), e);
        },
      },
      hooks.maxLineBytes ?? MAX_LINE_BYTES,
    );
    sock.on('data', (chunk: Buffer) => this.splitter.push(chunk));
    sock.on('error', () => {
      /* reset by peer: handled by close */
    });
    sock.on('close', () => this.onClosed());
    sock.on('drain', () => this.onDrain());
  }

  /** True while the client's backlog is over STREAM_HIGH_WATER_BYTES: producers that can wait (streams) should. */
  get backlogged(): boolean {
    return this.sock.writableLength > STREAM_HIGH_WATER_BYTES;
  }

  private readonly drainWaiters = new Set<() => void>();

  /**
   * Resolves at once when the backlog is under STREAM_HIGH_WATER_BYTES (or the client is gone), else once the
   * client has taken everything waiting ('drain'). Over the bound a write has returned false, so 'drain' comes;
   * under it there may never be one (a few bytes left, no write refused): waiting for it then could be forever.
   */
  whenWritable(): Promise<void> {
    if (!this.backlogged || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.add(resolve));
  }

  private onDrain(): void {
    for (const w of this.drainWaiters) w();
    this.drainWaiters.clear();
  }

  /** Calls currently running for this client. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Abort every in-flight call with `reason`, and resolve when they have all answered. */
  async cancelAll(reason: ScoutError): Promise<void> {
    const pending = [...this.inFlight.values()];
    for (const f of pending) f.controller.abort(reason);
    await Promise.all(pending.map((f) => f.done));
  }

  /** Resolve when every in-flight call has answered. */
  async drained(): Promise<void> {
    await Promise.all([...this.inFlight.values()].map((f) => f.done));
  }

  /** Close the client connection after pending writes. */
  end(): void {
    this.sock.end();
  }

  private onLine(text: string): void {
    if (nestingExceeds(text)) {
      this.sendError(null, new ScoutError('INVALID_REQUEST', `invalid request: nested deeper than ${MAX_JSON_DEPTH} levels`, { limit: MAX_JSON_DEPTH }));
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch (err) {
      this.sendError(null, new ScoutError('PARSE_ERROR', `parse error: ${(err as Error).message}`));
      return;
    }
    if (Array.isArray(msg)) {
      void this.onBatch(msg);
      return;
    }
    void this.onMessage(msg).then((res) => res && this.write(res));
  }

  private async onBatch(batch: unknown[]): Promise<void> {
    if (batch.length === 0) {
      this.sendError(null, new ScoutError('INVALID_REQUEST', 'invalid request: empty batch'));
      return;
    }
    const max = this.hooks.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    if (batch.length > max) {
      this.sendError(null, new ScoutError('INVALID_REQUEST', `invalid request: a batch of ${batch.length} messages is over the limit of ${max}`, { limit: max }));
      return;
    }
    const responses = (await Promise.all(batch.map((m) => this.onMessage(m, true)))).filter((r): r is JSONRPCResponse => r !== null);
    if (responses.length) this.write(responses);
  }

  private async onMessage(msg: unknown, batched = false): Promise<JSONRPCResponse | null> {
    if (!isObject(msg)) return errorResponse(null, new ScoutError('INVALID_REQUEST', 'invalid request: expected a JSON-RPC object'));
    const id = msg.id;
    const validId = id === undefined || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
    if (msg.jsonrpc !== '2.0' || typeof msg.method !== 'string' || !validId) {
      // A response from the client (it has no method) is not something we asked for: ignore it.
      if (msg.method === undefined && ('result' in msg || 'error' in msg)) return null;
      return errorResponse(validId && id !== undefined ? (id as Id) : null, new ScoutError('INVALID_REQUEST', 'invalid request: need jsonrpc "2.0", a string method and a string or number id'));
    }
    if (msg.method === '$/cancel') {
      this.cancel(isObject(msg.params) ? msg.params.id : undefined);
      // A notification as meant; sent as a request (with an id) it still gets its answer, as every request must.
      return id === undefined ? null : ({ jsonrpc: '2.0', id: id as Id, result: null } as JSONRPCResponse);
    }
    if (id === undefined) return null; // other notifications carry nothing we act on
    if (this.inFlight.has(id as Id)) {
      return errorResponse(id as Id, new ScoutError('INVALID_REQUEST', `invalid request: id ${JSON.stringify(id)} is already in use by a call in flight`));
    }
    const max = this.hooks.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    if (this.inFlight.size >= max) {
      const e = new ScoutError('BUSY', `too many calls in flight on this connection (limit ${max}); wait for some to finish`, { limit: max });
      return errorResponse(id as Id, e);
    }
    if (this.hooks.shuttingDown()) {
      const e = shuttingDown();
      return errorResponse(id as Id, e);
    }
    return this.call(msg as unknown as JSONRPCRequest & { id: Id }, batched);
  }

  private async call(req: JSONRPCRequest & { id: Id }, batched: boolean): Promise<JSONRPCResponse | null> {
    let upgradeTo: ((sock: net.Socket) => void) | undefined;
    const controller = new AbortController();
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    this.inFlight.set(req.id, { controller, done });
    const reqId = `${this.id}.${req.id}`;
    const log = this.hooks.log.child({ req: reqId });
    const ctx: CallContext = {
      reqId,
      log,
      signal: controller.signal,
      rpcId: req.id,
      clientName: this.clientName,
      sessionId: this.id,
      grant: this.grant,
      narrow: (grant) => {
        // Once narrowed, a connection stays so: a second hello cannot swap or lift the grant.
        if (this.grant && JSON.stringify(this.grant.spec) !== JSON.stringify(grant.spec))
          throw new ScoutError('POLICY_DENIED', `this connection already holds a grant (${this.grant.who}); open a new connection for another`, { grant: this.grant.who });
        this.grant = grant;
        ctx.grant = grant;
      },
      notify: (method, params) => {
        this.write({ jsonrpc: '2.0', method, params });
        return !this.backlogged;
      },
      backlogged: () => this.backlogged,
      whenWritable: () => this.whenWritable(),
      sendBlobs: () => {
        this.blobs = true;
      },
      upgrade: (take) => {
        if (batched || this.inFlight.size > 1)
          throw new ScoutError('INVALID_REQUEST', 'a connection becomes raw bytes only from a lone call: open a new connection for shell.attach and send nothing else on it');
        upgradeTo = take;
      },
    };
    if (req.method === 'daemon.hello' && isObject(req.params) && typeof req.params.client === 'string') {
      this.clientName = req.params.client.slice(0, 100);
      ctx.clientName = this.clientName;
    }
    const t0 = performance.now();
    log.debug({ method: shownMethod(req.method), client: this.clientName, host: hostOf(req.params) }, 'call');
    try {
      const res = await this.hooks.dispatcher.receive(req, ctx);
      const ms = Math.round((performance.now() - t0) * 100) / 100;
      const outcome = res && 'error' in res && res.error ? String((res.error.data as { code?: string } | undefined)?.code ?? codeName(res.error.code)) : 'ok';
      this.hooks.onCallDone(outcome);
      log.info({ method: shownMethod(req.method), client: this.clientName, host: hostOf(req.params), ms, outcome }, 'done');
      if (upgradeTo && outcome === 'ok' && res) {
        // The answer is the last JSON this connection carries; then its bytes are the taker's.
        this.write(res);
        this.becomeRaw(upgradeTo);
        return null;
      }
      return res;
    } finally {
      this.inFlight.delete(req.id);
      finish();
    }
  }

  /** Stop reading JSON from this connection and give it to `take` (its close still ends the session). */
  private becomeRaw(take: (sock: net.Socket) => void): void {
    this.sock.removeAllListeners('data');
    clearInterval(this.stallTimer);
    this.stallTimer = undefined;
    take(this.sock);
  }

  private cancel(id: unknown): void {
    if (typeof id !== 'string' && typeof id !== 'number') return;
    const f = this.inFlight.get(id);
    if (!f) return;
    this.hooks.log.debug({ req: `${this.id}.${id}` }, 'cancel requested');
    f.controller.abort(cancelled('the call', { by: 'client' }));
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.stallTimer);
    this.onDrain();
    // Nobody is left to read the answers: stop the remote work now rather than let it run unowned.
    void this.cancelAll(cancelled('the call', { by: 'disconnect' }));
    this.hooks.onClose(this);
  }

  private sendError(id: Id | null, e: ScoutError): void {
    this.write(errorResponse(id, e));
  }

  /**
   * Send one message. Every answer is measured first: one that cannot be encoded (V8's string limit) or is
   * over what a client reads (MAX_RESPONSE_BYTES) becomes TOO_LARGE for the same id, never a lost answer.
   */
  private write(message: unknown): void {
    if (this.closed || this.sock.destroyed) return;
    if (this.blobs && this.writeWithBlobs(message)) return;
    let line = encodedWithin(message, MAX_RESPONSE_BYTES);
    if (typeof line !== 'string') {
      const bytes = line.bytes;
      const m = message as { id?: Id | null; method?: string; params?: { id?: unknown } };
      if (Array.isArray(message)) {
        // A batch is answered in one line: the largest answers in it become TOO_LARGE by their own ids until the
        // rest fits, so no call of the batch is left waiting (one error with id null would have answered none).
        line = encodeLine(fitBatch(message as JSONRPCResponse[], MAX_RESPONSE_BYTES));
      } else if (m.method !== undefined) {
        this.hooks.log.warn({ session: this.id, method: shownMethod(m.method) }, 'notification too large to send: dropped');
        return;
      } else line = encodeLine(tooLargeAnswer(m.id ?? null, bytes));
    }
    this.send(line);
  }

  /**
   * The message with its long strings as blobs, when it has any and the whole fits MAX_RESPONSE_BYTES; false
   * leaves it to the plain path (which answers TOO_LARGE for what does not fit). The line and its bytes are
   * written back to back: no other message can come between them. Batches stay plain (one line).
   */
  private writeWithBlobs(message: unknown): boolean {
    if (Array.isArray(message)) return false;
    const ex = extractBlobs(message);
    if (!ex) return false;
    const line = encodedWithin({ ...(ex.message as object), $blobs: ex.refs }, MAX_RESPONSE_BYTES);
    if (typeof line !== 'string') return false;
    const bytes = ex.data.reduce((n, b) => n + b.length, 0);
    if (line.length + bytes > MAX_RESPONSE_BYTES) return false;
    this.send(line, ex.data, bytes, ex.written);
    return true;
  }

  /**
   * Write a line (and the blobs that follow it) unless the backlog would pass MAX_BACKLOG_BYTES. `written`
   * runs once the socket is done with the blobs (written, or failed): their buffers may then be reused.
   */
  private send(line: string, blobs: Buffer[] = [], blobBytes = 0, written: Array<() => void> = []): void {
    if (this.sock.writableLength + line.length + blobBytes > MAX_BACKLOG_BYTES) {
      this.cutOff('client has over 1 GiB of answers waiting');
      for (const w of written) w(); // never written: the buffers are free again
      return;
    }
    this.coalesce();
    this.sock.write(line);
    // Socket writes complete in order: the last blob's callback says every one of them is done.
    const done = () => {
      for (const w of written) w();
    };
    for (const [i, b] of blobs.entries()) this.sock.write(b, i === blobs.length - 1 ? done : undefined);
    if (this.sock.writableLength > MAX_UNREAD_BYTES) this.watchReader();
  }

  /**
   * Hold this turn of the event loop's messages and send them as one write once its I/O callbacks have run
   * (setImmediate). A fleet call's hosts finish in separate socket reads, and each `fleet.progress` was a write
   * of its own and a wake-up of the client: on 1,000 hosts (bench row 15, warm) the daemon's write syscalls
   * went from 4,526 to 3,645 and the client's CPU from 132 to 33 ms. Order is kept; the backlog bounds count
   * corked bytes too.
   */
  private coalesce(): void {
    if (this.corked) return;
    this.corked = true;
    this.sock.cork();
    setImmediate(() => {
      this.corked = false;
      this.sock.uncork();
    });
  }

  /** While the backlog is over the bound, check that the client takes bytes; cut it off after stallLimitMs without. */
  private watchReader(): void {
    if (this.stallTimer) return;
    this.takenAtCheck = this.taken();
    this.lastProgress = performance.now();
    const limit = this.hooks.stallLimitMs;
    this.stallTimer = setInterval(
      () => {
        if (this.sock.writableLength <= MAX_UNREAD_BYTES) {
          clearInterval(this.stallTimer);
          this.stallTimer = undefined;
          return;
        }
        const taken = this.taken();
        if (taken > this.takenAtCheck) {
          this.takenAtCheck = taken;
          this.lastProgress = performance.now();
        } else if (performance.now() - this.lastProgress >= limit) {
          this.cutOff(`client took nothing for ${limit} ms with ${this.sock.writableLength} bytes of answers waiting`);
        }
      },
      Math.min(STALL_CHECK_MS, limit / 4),
    );
    this.stallTimer.unref();
  }

  /** Bytes the kernel has taken from this socket (bytesWritten counts what is still queued too). */
  private taken(): number {
    return this.sock.bytesWritten - this.sock.writableLength;
  }

  private cutOff(why: string): void {
    this.hooks.log.warn({ session: this.id, client: this.clientName, unreadBytes: this.sock.writableLength }, `client does not read its responses: disconnecting it (${why})`);
    clearInterval(this.stallTimer);
    this.stallTimer = undefined;
    this.sock.destroy();
  }
}

/** `message` as a line when it encodes within `limit` bytes; else its size (undefined: too large to encode at all). */
function encodedWithin(message: unknown, limit: number): string | { bytes: number | undefined } {
  let line: string;
  try {
    line = encodeLine(message);
  } catch (err) {
    // JSON.stringify throws RangeError past V8's longest string (~512 MiB).
    if (!(err instanceof RangeError)) throw err;
    return { bytes: undefined };
  }
  if (line.length > limit) return { bytes: Buffer.byteLength(line) };
  if (line.length * 3 > limit) {
    const bytes = Buffer.byteLength(line);
    if (bytes > limit) return { bytes };
  }
  return line;
}

/** The answer sent for a call whose own answer is over what a client reads in one message. */
function tooLargeAnswer(id: Id | null, bytes: number | undefined): JSONRPCResponse {
  const e = new ScoutError(
    'TOO_LARGE',
    `the answer is ${bytes === undefined ? 'too large to encode' : `${bytes} bytes`}, over the ${MAX_RESPONSE_BYTES} a client reads in one message: ask for less (maxOutputBytes, maxBytes, fewer hosts) or use transfer.get`,
    { ...(bytes !== undefined ? { bytes } : {}), limit: MAX_RESPONSE_BYTES },
  );
  return errorResponse(id, e);
}

/** A batch's answers with the largest replaced by TOO_LARGE (each by its own id) until the whole fits `limit`. */
function fitBatch(responses: JSONRPCResponse[], limit: number): JSONRPCResponse[] {
  const out = [...responses];
  const sizes = out.map((r) => {
    const l = encodedWithin(r, limit);
    return typeof l === 'string' ? Buffer.byteLength(l) : (l.bytes ?? Number.POSITIVE_INFINITY);
  });
  const total = () => sizes.reduce((a, b) => a + b, 2);
  for (const i of sizes.map((_, i) => i).sort((a, b) => sizes[b] - sizes[a])) {
    if (total() <= limit) break;
    out[i] = tooLargeAnswer(out[i].id ?? null, Number.isFinite(sizes[i]) ? sizes[i] : undefined);
    sizes[i] = Buffer.byteLength(encodeLine(out[i]));
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A method name as logged: a client's 4 MiB "name" must not write 8 MiB of log per call. */
function shownMethod(method: string): string {
  return method.length > 100 ? `${method.slice(0, 100)}…` : method;
}

/** The host a call is about, for the log line (never params that may carry secrets). */
function hostOf(params: unknown): string | undefined {
  return isObject(params) && typeof params.host === 'string' ? params.host.slice(0, 255) : undefined;
}
