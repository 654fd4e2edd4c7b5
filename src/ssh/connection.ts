// One SSH connection: dial with TCP_NODELAY, verify the host key, authenticate, keep alive, and run
// channels on it. Knows nothing of the pool or of JSON.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { ClientChannel, Client as ClientType, SFTPWrapper } from 'ssh2';
import { ScoutError } from '../protocol/errors.js';
import { planAuth } from './auth.js';
import type { Ssh2Algorithms } from './algorithms.js';
import { ChannelSlots, type SlotRelease } from './channel-slots.js';
import { channelOpenFailed, connectionLost, descriptorLimit, isRefusedOpen, mapConnectError, mapLostError, outOfDescriptors } from './errors.js';
import { runExec, type ExecOptions, type ExecOutcome } from './exec.js';
import { WarmShells, newWarmShellCounters, type ExecMode, type ShellRun, type WarmShellCounters } from './warm-shells.js';

const { Client } = ssh2;

/**
 * A refused channel open is retried this many times in all. The waits between tries grow from
 * OPEN_RETRY_BASE_MS to OPEN_RETRY_MAX_MS and end early when another channel closes (sshd frees session
 * slots lazily, a few ms after a close): at most ~3 s before the caller sees CHANNEL_FAILED.
 */
export const OPEN_ATTEMPTS = 10;
export const OPEN_RETRY_BASE_MS = 20;
export const OPEN_RETRY_MAX_MS = 500;
/** Bound on opening the SFTP subsystem (two round trips; seconds means the server is not answering). */
export const SFTP_OPEN_TIMEOUT_MS = 10_000;

/** The decision on a server's host key: accept, or refuse with the error to report. */
export type HostKeyDecision = { ok: true } | { ok: false; error: ScoutError };

export interface DialOptions {
  /** Alias, for messages and logs. */
  host: string;
  hostname: string;
  port: number;
  username: string;
  identityFiles: string[];
  identitiesOnly: boolean;
  agent?: string;
  home: string;
  /** Covers TCP connect, handshake and authentication. */
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  maxSessions: number;
  /** Callers that may queue for a channel slot before BUSY (default 1000). */
  channelQueue?: number;
  /** Decides on the server's host key (raw blob). Runs during the handshake. */
  verifyHostKey: (keyBlob: Buffer) => HostKeyDecision | Promise<HostKeyDecision>;
  /**
   * ssh2 algorithm lists to offer, most preferred first: the ssh config's (ssh/algorithms.ts), with host key
   * algorithms of the types already known for this host first. An absent category is ssh2's default.
   */
  algorithms?: Ssh2Algorithms;
  /** Resident shells per connection for the exec fast path (default DEFAULT_WARM_SHELLS). */
  warmShells?: number;
  /** Fast-path counters shared across connections (daemon.status). */
  warmShellCounters?: WarmShellCounters;
  /** A ready transport (a ProxyJump `forwardOut` stream); otherwise a TCP socket is opened. */
  sock?: Duplex;
}

let nextId = 1;

/** A live, authenticated SSH connection. Emits `close` (reason: ScoutError) exactly once. */
export class SshConnection extends EventEmitter {
  readonly id = nextId++;
  readonly createdAt = Date.now();
  /** Calls that failed on this connection (its own count: pool.list shows it; the pool keeps uses and idleness). */
  errors = 0;
  readonly slots: ChannelSlots;
  /** Resident shells for short commands (the exec fast path). */
  readonly shells: WarmShells;
  closed = false;
  private readonly lostController = new AbortController();

  private constructor(
    readonly host: string,
    private readonly client: ClientType,
    readonly options: DialOptions,
  ) {
    super();
    this.slots = new ChannelSlots(options.maxSessions, options.channelQueue);
    this.shells = new WarmShells(client, host, this.slots, options.warmShellCounters ?? newWarmShellCounters(), options.warmShells);
    client.on('error', (err: Error & { level?: string }) => this.markClosed(mapLostError(host, err, { intervalMs: options.keepaliveIntervalMs, countMax: options.keepaliveCountMax })));
    client.on('close', () => this.markClosed(connectionLost(host, 'closed by the server or the network')));
  }

  /** Open, verify and authenticate a connection. */
  static dial(opts: DialOptions): Promise<SshConnection> {
    return new Promise((resolve, reject) => {
      const addr = `${opts.hostname}:${opts.port}`;
      const client = new Client();
      let hostKeyError: ScoutError | undefined;
      let settled = false;
      const auth = planAuth({
        username: opts.username,
        identityFiles: opts.identityFiles,
        identitiesOnly: opts.identitiesOnly,
        agent: opts.agent,
        home: opts.home,
      });
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.removeAllListeners('ready');
        client.on('error', () => {}); // late errors from a connection we gave up on
        client.end();
        sock.destroy();
        reject(hostKeyError ?? authError(err, opts, auth) ?? mapConnectError(err, opts.host, addr));
      };
      // One bound over TCP connect, handshake and authentication (ssh2's readyTimeout starts late).
      const timer = setTimeout(
        () => fail(new ScoutError('CONNECT_TIMEOUT', `connecting to ${opts.host} (${addr}) timed out after ${opts.connectTimeoutMs} ms`, { host: opts.host, addr, timeoutMs: opts.connectTimeoutMs })),
        opts.connectTimeoutMs,
      );
      const sock = opts.sock ?? openTcp(opts.hostname, opts.port);
      sock.on('error', (err) => fail(err));
      client.once('error', (err) => fail(err));
      client.once('ready', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.removeAllListeners('error');
        resolve(new SshConnection(opts.host, client, opts));
      });
      client.connect({
        sock: sock as unknown as net.Socket,
        username: opts.username,
        readyTimeout: 0,
        keepaliveInterval: opts.keepaliveIntervalMs,
        keepaliveCountMax: opts.keepaliveCountMax,
        authHandler: auth.handler,
        ...algorithmsOption(opts.algorithms),
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          Promise.resolve(opts.verifyHostKey(key)).then(
            (d) => {
              if (!d.ok) hostKeyError = d.error;
              verify(d.ok);
            },
            (err) => {
              hostKeyError = outOfDescriptors(err)
                ? descriptorLimit(opts.host, (err as NodeJS.ErrnoException).code!)
                : new ScoutError('CONNECT_FAILED', `host key check for ${opts.host} failed: ${(err as Error).message}`, { host: opts.host });
              verify(false);
            },
          );
        },
      } as ssh2.ConnectConfig);
    });
  }

  /** Channels open now. */
  get channelsOpen(): number {
    return this.slots.open;
  }

  /** Aborted (with CONNECTION_LOST) when this connection goes away. */
  get lost(): AbortSignal {
    return this.lostController.signal;
  }

  /**
   * Hold a channel slot around `open`. A refused open gives the slot back (lowering the limit when the
   * server proves to allow fewer; emits `limit`), waits, and tries again, bounded by OPEN_ATTEMPTS.
   */
  private async onSlot<T>(signal: AbortSignal | undefined, open: (release: SlotRelease) => Promise<T>, held?: SlotRelease): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (this.closed) {
        held?.();
        throw connectionLost(this.host, 'already closed', { ran: false });
      }
      const release = held ?? (await this.slots.acquire(signal));
      held = undefined;
      try {
        return await open(release);
      } catch (err) {
        if (!isRefusedOpen(err) || this.closed || attempt >= OPEN_ATTEMPTS) {
          release();
          throw err;
        }
        const lowered = this.slots.refused();
        release();
        if (lowered !== undefined) this.emit('limit', lowered);
        // Wait for one of our channels to close (the server's slot frees shortly after) or a growing pause.
        await this.slots.settle(Math.min(OPEN_RETRY_MAX_MS, OPEN_RETRY_BASE_MS * 2 ** (attempt - 1)), signal);
      }
    }
  }

  /**
   * Run a command on an exec channel, waiting for a channel slot first. A channel open the server refuses
   * (MaxSessions) waits for a slot and is tried again: the caller never sees it unless it keeps failing.
   * `slot`: one the caller already holds (onSlot gives it back if the connection has closed meanwhile).
   */
  async exec(command: string, opts: Omit<ExecOptions, 'lost'>, slot?: SlotRelease): Promise<ExecOutcome> {
    try {
      return await this.onSlot(
        opts.signal,
        (release) =>
          runExec(this.client, this.host, command, {
            ...opts,
            lost: this.lost,
            onStarted: (control) => {
              release.established();
              opts.onStarted?.(control);
            },
          }).then(
            (outcome) => {
              release();
              return outcome;
            },
            (err: unknown) => {
              // A refused open keeps its slot until onSlot has counted the refusal against the limit.
              if (!isRefusedOpen(err)) release();
              throw err;
            },
          ),
        slot,
      );
    } catch (err) {
      this.errors++;
      throw err;
    }
  }

  /**
   * Run a command the fastest way `mode` allows: through a resident shell when the call is eligible
   * (warm-shells.ts), else on an exec channel of its own. Same outcome and errors as `exec`.
   */
  async run(command: string, opts: Omit<ExecOptions, 'lost'>, mode: ExecMode): Promise<ExecOutcome> {
    if (this.closed) throw connectionLost(this.host, 'already closed');
    let fast: ShellRun;
    try {
      fast = await this.shells.run(command, { ...opts, lost: this.lost }, mode);
    } catch (err) {
      this.errors++;
      throw err;
    }
    if ('outcome' in fast) return { ...fast.outcome, via: 'warm-shell' };
    return { ...(await this.exec(command, opts, fast.slot)), via: 'exec-channel' };
  }

  private sftpSession: Promise<SFTPWrapper> | undefined;

  /**
   * The connection's one SFTP session, opened on first use and reused by every call (an SFTP stat costs
   * 0.17 ms on a warm session; opening the subsystem costs a channel round trip). It holds one channel slot
   * while open.
   */
  sftp(signal?: AbortSignal): Promise<SFTPWrapper> {
    if (this.closed) return Promise.reject(connectionLost(this.host, 'already closed', { ran: false }));
    if (!this.sftpSession) {
      const opening = this.openSftp(signal);
      this.sftpSession = opening;
      opening.catch(() => {
        if (this.sftpSession === opening) this.sftpSession = undefined;
      });
    }
    return this.sftpSession;
  }

  private openSftp(signal?: AbortSignal): Promise<SFTPWrapper> {
    return this.onSlot(signal, async (release) => {
      const session = await new Promise<SFTPWrapper>((resolve, reject) => {
        // ssh2 has no open timeout: a server that never answers would hold every SFTP call.
        let late = false;
        const timer = setTimeout(() => {
          late = true;
          reject(new ScoutError('CHANNEL_FAILED', `no SFTP session opened on ${this.host} within ${SFTP_OPEN_TIMEOUT_MS} ms`, { host: this.host, ran: false }));
        }, SFTP_OPEN_TIMEOUT_MS);
        this.client.sftp((err, s) => {
          clearTimeout(timer);
          if (late) return void s?.end();
          if (err) reject(channelOpenFailed(this.host, 'an SFTP session', err));
          else resolve(s);
        });
      });
      release.established();
      session.once('close', () => {
        release();
        this.sftpSession = undefined;
      });
      return session;
    });
  }

  /**
   * A `direct-tcpip` channel to `hostname:port` as seen from this host (ProxyJump). Not a session, so it
   * takes no MaxSessions slot on the server and none here.
   */
  forwardOut(hostname: string, port: number): Promise<Duplex> {
    if (this.closed) return Promise.reject(connectionLost(this.host, 'already closed', { ran: false }));
    return new Promise((resolve, reject) => {
      // The originator address is informational for the server (OpenSSH logs it); 127.0.0.1:0 is what ssh -W sends.
      this.client.forwardOut('127.0.0.1', 0, hostname, port, (err, stream) => (err ? reject(err) : resolve(stream)));
    });
  }

  /**
   * An interactive session channel: a shell, or `command`, with a PTY when `pty` is given (`ssh -t`), else
   * without (`ssh -T`). Holds a channel slot until the channel closes; a refused open is retried like exec's.
   */
  interactive(opts: {
    pty?: { term: string; cols: number; rows: number };
    command?: string;
    signal?: AbortSignal;
  }): Promise<{ ch: ClientChannel; exit: { code: number | null; signal: string | null } }> {
    return this.onSlot(opts.signal, async (release) => {
      // The exit status is listened for in the open callback: a quick command's status can come in the same
      // read as the open reply, before an await resumes (see exec.ts).
      const exit: { code: number | null; signal: string | null } = { code: null, signal: null };
      const ch = await new Promise<ClientChannel>((resolve, reject) => {
        const done = (err: Error | undefined, stream: ClientChannel) => {
          if (err) return reject(channelOpenFailed(this.host, 'a session', err));
          stream.on('exit', (code: number | null, signalName?: string) => {
            if (typeof code === 'number') exit.code = code;
            else if (signalName) exit.signal = signalName.replace(/^SIG/, '');
          });
          resolve(stream);
        };
        const pty = opts.pty ? { term: opts.pty.term, cols: opts.pty.cols, rows: opts.pty.rows } : false;
        if (opts.command !== undefined) this.client.exec(opts.command, { pty }, done);
        else this.client.shell(pty, done);
      });
      release.established();
      ch.once('close', () => release());
      return { ch, exit };
    });
  }

  private readonly inbound = new Map<number, (info: { srcIP: string; srcPort: number }, accept: () => Duplex, reject: () => void) => void>();

  /**
   * Ask the host to listen on `addr:port` and hand each connection it takes to `onConnection` (ssh -R).
   * Resolves with the port it bound (the one asked for, or the one it chose for 0).
   */
  forwardIn(addr: string, port: number, onConnection: (info: { srcIP: string; srcPort: number }, accept: () => Duplex, reject: () => void) => void): Promise<number> {
    if (this.closed) return Promise.reject(connectionLost(this.host, 'already closed', { ran: false }));
    if (this.inbound.size === 0) {
      this.client.on('tcp connection', (info, accept, reject) => {
        const handler = this.inbound.get(info.destPort);
        if (handler) handler({ srcIP: info.srcIP, srcPort: info.srcPort }, accept, reject);
        else reject();
      });
    }
    return new Promise((resolve, reject) => {
      this.client.forwardIn(addr, port, (err, bound) => {
        if (err)
          return reject(
            new ScoutError('CHANNEL_FAILED', `${this.host} refused to listen on ${addr}:${port}: ${err.message} (sshd's AllowTcpForwarding, or the port is taken)`, {
              host: this.host,
              reason: 'forward-refused',
            }),
          );
        const actual = port === 0 ? bound : port;
        this.inbound.set(actual, onConnection);
        resolve(actual);
      });
    });
  }

  /** Stop listening on the host (the connection's own end closes them all anyway). */
  unforwardIn(addr: string, port: number): void {
    this.inbound.delete(port);
    if (!this.closed) this.client.unforwardIn(addr, port, () => {});
  }

  /** Give back the resident shells no call is using (a retiring connection has no future calls for them). */
  closeIdle(): void {
    this.shells.closeIdle();
  }

  /** What pool.list shows of this connection itself. */
  describe(): { errors: number; warmShells: number; keepalive: { intervalMs: number; countMax: number } } {
    return { errors: this.errors, warmShells: this.shells.live, keepalive: { intervalMs: this.options.keepaliveIntervalMs, countMax: this.options.keepaliveCountMax } };
  }

  /** Close the connection; resolves once the socket is closed (bounded). */
  close(reason = 'closed by scoutd', waitMs = 2_000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.client.destroy();
        resolve();
      }, waitMs);
      this.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.markClosing(reason);
      this.client.end();
    });
  }

  private closingReason: string | undefined;
  private markClosing(reason: string): void {
    this.closingReason = reason;
  }

  private markClosed(err: ScoutError): void {
    if (this.closed) return;
    this.closed = true;
    const reason = this.closingReason ? connectionLost(this.host, this.closingReason) : err;
    this.lostController.abort(reason);
    // Callers still queued for a slot never opened a channel: safe to retry on a fresh connection.
    this.slots.rejectAll(new ScoutError(reason.code, reason.message, { ...reason.details, ran: false }));
    this.emit('close', reason);
  }
}

/** ssh2's `algorithms` connect option: only the non-empty lists (ssh2 keeps its default for the others). */
function algorithmsOption(algorithms: Ssh2Algorithms | undefined): { algorithms?: ssh2.Algorithms } {
  const set = Object.entries(algorithms ?? {}).filter(([, list]) => list !== undefined && list.length > 0);
  return set.length ? { algorithms: Object.fromEntries(set) as ssh2.Algorithms } : {};
}

function openTcp(hostname: string, port: number): net.Socket {
  const sock = net.connect({ host: hostname, port });
  // TCP_NODELAY: ssh2 leaves Nagle on; a warm exec of `true` costs 47 ms with it and 2.1 ms without.
  sock.setNoDelay(true);
  return sock;
}

function authError(err: unknown, opts: DialOptions, auth: { tried: string[]; encrypted: string[] }): ScoutError | undefined {
  const e = err as { level?: string };
  if (e?.level !== 'client-authentication') return undefined;
  const tried = auth.tried.length ? auth.tried.join(', ') : 'nothing (no agent and no usable key)';
  let msg = `authentication to ${opts.host} as ${opts.username} failed; tried: ${tried}`;
  if (auth.encrypted.length) msg += `; encrypted keys skipped (add them to ssh-agent with ssh-add): ${auth.encrypted.join(', ')}`;
  return new ScoutError('AUTH_FAILED', msg, { host: opts.host, user: opts.username, tried: auth.tried, encrypted: auth.encrypted });
}

/**
 * The host key a server offers, without logging in: the handshake runs up to host-key verification, the key
 * is kept and the connection refused there (nothing is authenticated, no credential is offered).
 */
export function fetchHostKey(opts: { host: string; hostname: string; port: number; connectTimeoutMs: number; algorithms?: Ssh2Algorithms; sock?: Duplex }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const addr = `${opts.hostname}:${opts.port}`;
    const client = new Client();
    // `sock`: a stream already open to the server (a ProxyJump tunnel).
    const sock = opts.sock ?? openTcp(opts.hostname, opts.port);
    let key: Buffer | undefined;
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.on('error', () => {});
      client.end();
      sock.destroy();
      if (key) resolve(key);
      else reject(mapConnectError(err ?? new Error('the server offered no host key'), opts.host, addr));
    };
    const timer = setTimeout(
      () =>
        finish(
          new ScoutError('CONNECT_TIMEOUT', `fetching the host key of ${opts.host} (${addr}) timed out after ${opts.connectTimeoutMs} ms`, { host: opts.host, addr, timeoutMs: opts.connectTimeoutMs }),
        ),
      opts.connectTimeoutMs,
    );
    sock.on('error', finish);
    client.on('error', finish);
    client.on('ready', () => finish());
    client.connect({
      sock,
      username: 'scout-host-key-probe',
      readyTimeout: 0,
      ...algorithmsOption(opts.algorithms),
      hostVerifier: (blob: Buffer, verify: (ok: boolean) => void) => {
        key = Buffer.from(blob);
        verify(false);
        finish();
      },
    } as ssh2.ConnectConfig);
  });
}
