// Port forwards owned by scoutd (`scoutctl forward`, `forward.*`): they outlive the client that opened them,
// ride the host's pooled connection (held in use, so the idle reaper leaves it alone), and survive a dropped
// link: the listener stays, new connections wait for the link, which is made again with backoff; a remote
// (-R) forward asks the new connection to listen again. This is what ControlMaster users miss: a master that
// takes the forward and exits 0, or dies and takes every forward with it.
//   local   (-L [bind:]port:host:hostport): scoutd listens, the host connects (a direct-tcpip channel each);
//   remote  (-R [bind:]port:host:hostport): the host listens, scoutd connects;
//   dynamic (-D [bind:]port): scoutd listens as a SOCKS5 proxy (CONNECT; names resolved by the host).
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { ScoutError, isScoutError } from '../protocol/errors.js';
import type { ForwardInfo, ForwardOpenParams } from '../protocol/methods/index.js';
import type { SshConnection } from '../ssh/connection.js';
import { REPLY, greeting, reply, request } from './socks5.js';

/** What forwards need of the pool: a host's shared connection, and a hold that keeps it from the reaper. */
export interface ForwardPool {
  acquire(host: string): Promise<SshConnection>;
  retain(host: string, conn: SshConnection): () => void;
}

/** Backoff between attempts to get the link back: from this, doubling, up to the max. */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5_000;
/** A connection that arrives while the link is down waits this long for it, then is closed. */
const WAIT_FOR_LINK_MS = 15_000;
/** Forwards per daemon: each is a listener and a held connection. */
export const MAX_FORWARDS = 256;

/** The host's connection for one forward: held while up, made again (with backoff) after it is lost. */
class Link {
  conn: SshConnection | undefined;
  lastError: string | undefined;
  private waiters: Array<(c: SshConnection | undefined) => void> = [];
  private stopped = false;
  private stopWait: (() => void) | undefined;

  constructor(
    private readonly pool: ForwardPool,
    private readonly host: string,
    private readonly log: Logger,
    private readonly onUp: (conn: SshConnection) => Promise<void>,
  ) {}

  /** Get the first connection (its failure is the caller's), then keep one until stopped. */
  async start(): Promise<void> {
    await this.up();
    void this.keep();
  }

  private async up(): Promise<void> {
    const conn = await this.pool.acquire(this.host);
    const release = this.pool.retain(this.host, conn);
    try {
      await this.onUp(conn);
    } catch (err) {
      release();
      throw err;
    }
    this.conn = conn;
    this.lastError = undefined;
    for (const w of this.waiters.splice(0)) w(conn);
    conn.lost.addEventListener('abort', () => {
      release();
      if (this.conn === conn) this.conn = undefined;
      this.lastError = `connection lost: ${(conn.lost.reason as Error)?.message ?? 'closed'}`;
      this.stopWait?.();
    });
  }

  /** While not stopped: wait for the connection to go, then get another, backing off between failures. */
  private async keep(): Promise<void> {
    let delay = RETRY_FIRST_MS;
    while (!this.stopped) {
      if (this.conn && !this.conn.closed) {
        await new Promise<void>((resolve) => (this.stopWait = resolve));
        delay = RETRY_FIRST_MS;
        continue;
      }
      try {
        await this.up();
        this.log.info({ host: this.host }, 'forward: link back up');
        continue;
      } catch (err) {
        this.lastError = (err as Error).message;
        this.log.debug({ host: this.host, err: this.lastError, retryMs: delay }, 'forward: link still down');
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.stopWait = () => {
          clearTimeout(t);
          resolve();
        };
      });
      delay = Math.min(RETRY_MAX_MS, delay * 2);
    }
  }

  /** The connection now, or the next one (undefined when none comes within WAIT_FOR_LINK_MS or it stops). */
  get(): Promise<SshConnection | undefined> {
    if (this.conn && !this.conn.closed) return Promise.resolve(this.conn);
    if (this.stopped) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(undefined);
      }, WAIT_FOR_LINK_MS);
      const done = (c: SshConnection | undefined) => {
        clearTimeout(t);
        resolve(c);
      };
      this.waiters.push(done);
    });
  }

  stop(): void {
    this.stopped = true;
    this.stopWait?.();
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}

interface Live {
  info: ForwardInfo;
  link: Link;
  server?: net.Server;
  sockets: Set<Duplex>;
  stopRemote?: () => void;
}

/** Copy both ways, counting bytes; either side ending or failing ends both. */
function splice(a: Duplex, b: Duplex, info: ForwardInfo, sockets: Set<Duplex>): void {
  info.open++;
  info.total++;
  sockets.add(a);
  sockets.add(b);
  a.on('data', (d: Buffer) => (info.bytesOut += d.length));
  b.on('data', (d: Buffer) => (info.bytesIn += d.length));
  a.pipe(b);
  b.pipe(a);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    info.open--;
    sockets.delete(a);
    sockets.delete(b);
    a.destroy();
    b.destroy();
  };
  for (const s of [a, b]) {
    s.on('error', end);
    s.on('close', end);
  }
}

export class Forwards {
  private readonly live = new Map<string, Live>();
  private next = 1;

  constructor(
    private readonly pool: ForwardPool,
    private readonly log: Logger,
  ) {}

  list(host?: string): ForwardInfo[] {
    return [...this.live.values()]
      .filter((f) => !host || f.info.host === host)
      .map((f) => ({ ...f.info, state: f.link.conn ? 'up' : 'connecting', ...(f.link.lastError ? { lastError: f.link.lastError } : {}) }));
  }

  /** Open a forward; its listener is bound (or the host has agreed to listen) before this answers. */
  async open(p: ForwardOpenParams): Promise<ForwardInfo> {
    if (this.live.size >= MAX_FORWARDS) throw new ScoutError('LIMIT_REACHED', `scoutd holds ${MAX_FORWARDS} forwards already; close some (scoutctl forward list)`, { limit: MAX_FORWARDS });
    const id = `f${this.next++}`;
    const bindAddress = p.bindAddress ?? '127.0.0.1';
    const info: ForwardInfo = {
      id,
      host: p.host,
      kind: p.kind,
      bind: `${bindAddress}:${p.bindPort}`,
      ...(p.kind === 'dynamic' ? {} : { target: `${p.targetHost}:${p.targetPort}` }),
      state: 'connecting',
      open: 0,
      total: 0,
      bytesOut: 0,
      bytesIn: 0,
      openedAt: new Date().toISOString(),
    };
    const log = this.log.child({ forward: id, host: p.host, kind: p.kind });
    const sockets = new Set<Duplex>();
    let remotePort = p.bindPort;
    const onUp =
      p.kind === 'remote'
        ? async (conn: SshConnection) => {
            // Each new connection is asked to listen again; the first answer fixes the port (for port 0).
            remotePort = await conn.forwardIn(bindAddress, remotePort, (_from, accept) => {
              const local = net.connect({ port: p.targetPort!, host: p.targetHost!, allowHalfOpen: true });
              const channel = accept();
              local.once('connect', () => splice(channel, local, info, sockets));
              local.once('error', (err) => {
                info.total++;
                live.link.lastError = `connecting to ${info.target}: ${err.message}`;
                channel.destroy();
              });
            });
            info.bind = `${bindAddress}:${remotePort}`;
            live.stopRemote = () => conn.unforwardIn(bindAddress, remotePort);
          }
        : async () => {};
    const link = new Link(this.pool, p.host, log, onUp);
    const live: Live = { info, link, sockets };
    await link.start();
    if (p.kind !== 'remote') {
      try {
        live.server = await this.listen(bindAddress, p.bindPort, (sock) => (p.kind === 'local' ? this.local(live, sock, p.targetHost!, p.targetPort!) : this.socks(live, sock)));
      } catch (err) {
        link.stop();
        throw err;
      }
      info.bind = `${bindAddress}:${(live.server.address() as net.AddressInfo).port}`;
    }
    this.live.set(id, live);
    log.info({ bind: info.bind, target: info.target }, 'forward opened');
    return this.list().find((f) => f.id === id)!;
  }

  close(id: string): boolean {
    const f = this.live.get(id);
    if (!f) return false;
    this.live.delete(id);
    f.link.stop();
    f.server?.close();
    f.stopRemote?.();
    for (const s of f.sockets) s.destroy();
    this.log.info({ forward: id, host: f.info.host }, 'forward closed');
    return true;
  }

  /** Close every listener and connection (scoutd stopping). */
  closeAll(): void {
    for (const id of [...this.live.keys()]) this.close(id);
  }

  private listen(address: string, port: number, onSocket: (s: net.Socket) => void): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      // Half-open: a client that has sent all (FIN) still gets the answer, as through ssh -L.
      const server = net.createServer({ allowHalfOpen: true }, onSocket);
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new ScoutError('LOCAL_PATH', `cannot listen on ${address}:${port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`, { address, port, reason: err.code })),
      );
      server.listen(port, address, () => {
        server.removeAllListeners('error');
        server.on('error', (err) => this.log.warn({ err: err.message }, 'forward listener error'));
        resolve(server);
      });
    });
  }

  /** A direct-tcpip channel from the host to `host:port`, or undefined (the reason is in lastError). */
  private async channel(f: Live, host: string, port: number): Promise<Duplex | undefined> {
    const conn = await f.link.get();
    if (!conn) {
      f.link.lastError ??= `no connection to ${f.info.host}`;
      return undefined;
    }
    try {
      return await conn.forwardOut(host, port);
    } catch (err) {
      f.link.lastError = `${f.info.host} could not connect to ${host}:${port}: ${isScoutError(err) || err instanceof Error ? err.message : String(err)}`;
      return undefined;
    }
  }

  private async local(f: Live, sock: net.Socket, host: string, port: number): Promise<void> {
    sock.on('error', () => {});
    sock.pause();
    const ch = await this.channel(f, host, port);
    if (!ch || sock.destroyed) {
      f.info.total++;
      sock.destroy();
      ch?.destroy();
      return;
    }
    splice(sock, ch, f.info, f.sockets);
    sock.resume();
  }

  /** SOCKS5: greeting, CONNECT request, then the channel, with what the client sent after its request. */
  private socks(f: Live, sock: net.Socket): void {
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    let greeted = false;
    const listener = (d: Buffer) => void onData(d);
    const onData = async (d: Buffer): Promise<void> => {
      buf = Buffer.concat([buf, d]);
      if (buf.length > 1024) return void sock.destroy();
      const step = greeted ? request(buf) : greeting(buf);
      if ('need' in step) return;
      if ('fail' in step) {
        f.link.lastError = `SOCKS: ${step.why}`;
        return void sock.end(step.fail);
      }
      if ('greeted' in step) {
        greeted = true;
        buf = buf.subarray(step.used);
        sock.write(step.greeted);
        if (buf.length) void onData(Buffer.alloc(0));
        return;
      }
      sock.off('data', listener);
      sock.pause();
      const rest = buf.subarray(step.used);
      const ch = await this.channel(f, step.connect.host, step.connect.port);
      if (!ch || sock.destroyed) {
        f.info.total++;
        if (!sock.destroyed) sock.end(reply(ch ? REPLY.failure : REPLY.hostUnreachable));
        ch?.destroy();
        return;
      }
      sock.write(reply(REPLY.ok));
      if (rest.length) ch.write(rest);
      splice(sock, ch, f.info, f.sockets);
      sock.resume();
    };
    sock.on('data', listener);
  }
}
