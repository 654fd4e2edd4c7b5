// The warm connection pool: one shared connection per host, opened on first use (single-flight), dropped the
// moment it closes, reaped when idle, evicted least-recently-used above the size bound. Knows nothing of
// JSON or of how a connection is dialled (the `dial` function is passed in).
import cron, { type ScheduledTask } from 'node-cron';
import type { SshConnection } from '../ssh/connection.js';
import type { SlotStats } from '../ssh/channel-slots.js';
import { isTransientConnectError } from '../ssh/errors.js';
import { ScoutError, abortReason, isScoutError, shuttingDown } from '../protocol/errors.js';
import { DEFAULT_BACKOFF, withRetry, type BackoffPolicy } from './backoff.js';

/**
 * What the pool needs of a connection, and all it touches: it never writes to one, and keeps its own
 * bookkeeping (calls on it, last use) in a lease beside it. SshConnection is one; the unit tests use a fake.
 */
export interface PooledConnection {
  readonly id: number;
  readonly host: string;
  readonly createdAt: number;
  readonly closed: boolean;
  /** Channel slots: calls are spread over a host's connections by their load. */
  readonly slots: { readonly open: number; readonly queued: number; readonly limit: number; stats(): SlotStats };
  readonly channelsOpen: number;
  close(reason: string): Promise<void>;
  /** `close` (reason: ScoutError) once; `limit` (n) when the server refused a channel and the limit was lowered. */
  on(event: 'limit', fn: (limit: number) => void): unknown;
  once(event: 'close', fn: (reason: ScoutError) => void): unknown;
  /** Give back what the connection holds for future calls (idle resident shells): a retiring one has none. */
  closeIdle(): void;
  /** What pool.list shows of the connection itself (its own error count, shells, keepalive). */
  describe(): Pick<ConnectionSnapshot, 'errors' | 'warmShells' | 'keepalive'>;
}

/** The pool's own record of a connection: calls using it now (the reaper and eviction close only at zero), uses, last use. */
interface Lease {
  active: number;
  uses: number;
  lastUsed: number;
}

export interface PoolOptions<C extends PooledConnection = SshConnection> {
  /** Open a new connection to an alias; `timeoutMs` bounds this attempt (connect, handshake, auth). */
  dial: (host: string, timeoutMs?: number) => Promise<C>;
  /** Total time one connect may take, retries included (the host's ConnectTimeout); 10 s when absent. */
  connectBudgetMs?: (host: string) => number;
  /** Retry policy for transient connect failures (refused, reset, timeout, handshake cut). */
  backoff?: BackoffPolicy;
  /** Close connections with no open channel idle longer than this. */
  idleTimeoutMs: number;
  /** Above this many connections, idle ones are closed least-recently-used first. */
  maxPoolSize: number;
  log: PoolLogger;
  /**
   * Connections one host may have at once: when every channel of the existing ones is taken, a call opens
   * an overflow connection instead of queueing, up to this many (default 1: queue only).
   */
  maxConnectionsPerHost?: number;
  /** Reaper period; defaults to a quarter of the idle timeout, between 1 s and 60 s. */
  reapEveryMs?: number;
}

export interface PoolLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface HostStats {
  created: number;
  closed: number;
  /** Connections opened after the first (the previous one closed, was reaped, evicted or lost). */
  reconnects: number;
  uses: number;
  errors: Record<string, number>;
  /** Connect attempts that failed transiently and were tried again. */
  connectRetries: number;
  /** Connections dropped because the peer stopped answering keepalives. */
  keepaliveFailures: number;
  /** Calls that had to queue for a channel slot, and their total wait. */
  channelWaits: number;
  channelWaitMs: number;
  /** Channel opens the server refused (retried, invisible to callers). */
  refusedOpens: number;
  /** Calls retried on a fresh connection or channel (read-only, or the command never ran). */
  retriedCalls: number;
  /** Calls waiting for a channel right now. */
  queued: number;
}

/** When a failed call may run again: never, only if it never started (exec, writes), or always (reads). */
export type RetryRule = 'never' | 'unstarted' | 'idempotent';

/** How long one call may wait for its connection: its own deadline and cancellation. */
export interface UseLimits {
  /** performance.now() value by which the call must have its connection (its timeout bounds the whole call). */
  deadline?: number;
  signal?: AbortSignal;
}

export interface ConnectionSnapshot {
  host: string;
  id: number;
  state: 'ready';
  since: string;
  lastUsed: string;
  uses: number;
  errors: number;
  channels: { open: number; limit: number; queued: number; peak: number; configuredLimit: number };
  /** Calls that queued for a channel on this connection and their total wait; refused opens. */
  waits: number;
  waitMs: number;
  refusedOpens: number;
  /** Resident shells alive on this connection (each holds one of the open channels). */
  warmShells: number;
  keepalive: { intervalMs: number; countMax: number };
  /** An extra connection opened because the host's channels were all taken. */
  overflow?: boolean;
  /** Taken out of service by a reload: finishes the calls on it, then closes. */
  retiring?: boolean;
}

/** Overflow connections idle this long are closed (they serve bursts; the primary stays warm). */
export const OVERFLOW_IDLE_MS = 30_000;

/** Connect budget (retries included) when the host has no ConnectTimeout of its own. */
export const DEFAULT_CONNECT_BUDGET_MS = 10_000;

/** Pool-wide totals for daemon.status. */
export interface PoolTotals extends Omit<HostStats, 'errors'> {
  connections: number;
  channelsOpen: number;
  errors: Record<string, number>;
}

/** Whether a failed call may run once more under `rule`. */
function retryable(err: unknown, rule: RetryRule): boolean {
  if (rule === 'never' || !isScoutError(err)) return false;
  if (err.code === 'CHANNEL_FAILED') return err.details.ran === false;
  if (err.code !== 'CONNECTION_LOST') return false;
  return rule === 'idempotent' || err.details.ran === false;
}

export class Pool<C extends PooledConnection = SshConnection> {
  private readonly live = new Map<string, C>();
  /** Extra connections per host opened when the primary's channels were all taken (see pick()). */
  private readonly overflow = new Map<string, C[]>();
  private readonly overflowDialing = new Map<string, Promise<C>>();
  /** Calls that picked a connection and have not finished (their slot may not be taken yet). */
  private readonly calls = new WeakMap<C, number>();
  private readonly dialing = new Map<string, Promise<C>>();
  private readonly stats = new Map<string, HostStats>();
  /**
   * Connections a reload took out of service (their host's settings changed or it was removed), by pool key:
   * they take no new calls, finish the calls and jobs already on them, and close when the last one ends.
   */
  private readonly retiring = new Map<C, string>();
  private task: ScheduledTask | undefined;
  private closing = false;

  /** Per connection: the pool's bookkeeping, never written onto the connection. */
  private readonly leases = new WeakMap<C, Lease>();

  constructor(private readonly opts: PoolOptions<C>) {}

  private lease(conn: C): Lease {
    let l = this.leases.get(conn);
    if (!l) {
      l = { active: 0, uses: 0, lastUsed: Date.now() };
      this.leases.set(conn, l);
    }
    return l;
  }

  /** A call (or a tunnel, or a job) starts using `conn`. */
  private hold(host: string, conn: C): void {
    const l = this.lease(conn);
    l.active++;
    l.uses++;
    l.lastUsed = Date.now();
    this.statsFor(host).uses++;
  }

  /** That use ended: the idle clock starts again, and a retiring connection may close. */
  private unhold(conn: C): void {
    const l = this.lease(conn);
    l.active--;
    l.lastUsed = Date.now();
  }

  /** Start the idle reaper. */
  start(): void {
    const every = this.opts.reapEveryMs ?? Math.min(60_000, Math.max(1_000, Math.floor(this.opts.idleTimeoutMs / 4)));
    const secs = Math.max(1, Math.round(every / 1000));
    // node-cron's six-field form has a seconds field; `*/N` with N > 59 is not valid, so fall back to minutes.
    const expr = secs < 60 ? `*/${secs} * * * * *` : `0 */${Math.max(1, Math.round(secs / 60))} * * * *`;
    this.task = cron.schedule(expr, () => void this.reap(), { noOverlap: true, name: 'scout-idle-reaper' });
  }

  /** A ready connection to `host`, shared with every other caller. */
  async acquire(host: string): Promise<C> {
    if (this.closing) throw shuttingDown('no new connection is made', { host });
    const conn = this.live.get(host);
    if (conn && !conn.closed) {
      // Map order is recency order: re-insert on use so the LRU victim is the first key.
      this.live.delete(host);
      this.live.set(host, conn);
      return conn;
    }
    // The primary went away while an overflow connection lives: it takes over rather than a new dial.
    const [spare, ...rest] = this.extras(host).filter((c) => !c.closed);
    if (spare) {
      this.setExtras(host, rest);
      this.live.set(host, spare);
      return spare;
    }
    let pending = this.dialing.get(host);
    if (!pending) {
      pending = this.open(host, 'primary').finally(() => this.dialing.delete(host));
      this.dialing.set(host, pending);
    }
    return pending;
  }

  /**
   * Run `fn` on the host's connection, counting the use and any error by code. `retry` says whether a
   * failure may run `fn` once more: 'unstarted' when the channel never opened (the command did not run),
   * 'idempotent' also after the connection was lost mid-call (reads). The retry dials afresh if the
   * connection is gone.
   */
  async use<T>(host: string, fn: (conn: C) => Promise<T>, retry: RetryRule = 'never', limits: UseLimits = {}): Promise<T> {
    try {
      return await this.useOnce(host, fn, limits);
    } catch (err) {
      if (!retryable(err, retry)) throw err;
      this.statsFor(host).retriedCalls++;
      this.opts.log.debug({ host, code: (err as ScoutError).code }, 'retrying the call once');
      return this.useOnce(host, fn, limits);
    }
  }

  private async useOnce<T>(host: string, fn: (conn: C) => Promise<T>, limits: UseLimits = {}): Promise<T> {
    let conn: C | undefined;
    try {
      conn = await this.pickWithin(host, limits);
      this.hold(host, conn);
      return await fn(conn);
    } catch (err) {
      this.countError(host, err);
      throw err;
    } finally {
      if (conn) {
        this.unhold(conn);
        this.calls.set(conn, (this.calls.get(conn) ?? 1) - 1);
        this.closeIfRetired(conn);
      }
    }
  }

  /**
   * pick(), but a caller stops waiting at its deadline or cancellation (the dial goes on for the others that
   * share it). A 30 s command timeout behind a stopped sshd used to end after 45 s: the connect timeout and
   * retries came first, then the command's own 30 s.
   */
  private pickWithin(host: string, limits: UseLimits): Promise<C> {
    const picking = this.pick(host);
    if (limits.deadline === undefined && !limits.signal) return picking;
    return new Promise<C>((resolve, reject) => {
      let done = false;
      const settle = (err?: Error, conn?: C) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        limits.signal?.removeEventListener('abort', onAbort);
        if (err) {
          // Given up on: when the connection comes, the call that was counted on it is not there.
          picking.then(
            (c) => {
              this.calls.set(c, (this.calls.get(c) ?? 1) - 1);
              this.closeIfRetired(c);
            },
            () => {},
          );
          reject(err);
        } else resolve(conn!);
      };
      const wait = limits.deadline === undefined ? undefined : Math.max(0, limits.deadline - performance.now());
      const timer =
        wait === undefined
          ? undefined
          : setTimeout(
              () => settle(new ScoutError('CONNECT_TIMEOUT', `no connection to ${host} within the call's timeout (${Math.round(wait)} ms were left); the command did not run`, { host, ran: false })),
              wait,
            );
      const onAbort = () => settle(abortReason(limits.signal, `the wait for a connection to ${host}`, { host, ran: false }));
      if (limits.signal?.aborted) return onAbort();
      limits.signal?.addEventListener('abort', onAbort, { once: true });
      picking.then(
        (c) => {
          if (done) return;
          settle(undefined, c);
        },
        (err: Error) => settle(err),
      );
    });
  }

  /**
   * The connection a call should use: the primary while it has a free channel; else another of the host's
   * connections with one; else a new overflow connection (up to maxConnectionsPerHost, one dial at a time);
   * else the connection with the shortest queue.
   */
  private async pick(host: string): Promise<C> {
    // Counted the moment it is chosen: callers resuming in the same tick must see this one (its channel slot
    // is taken a few awaits later).
    const take = (c: C) => {
      this.calls.set(c, (this.calls.get(c) ?? 0) + 1);
      return c;
    };
    const load = (c: C) => Math.max(this.calls.get(c) ?? 0, c.slots.open) + c.slots.queued;
    const hasRoom = (c: C) => !c.closed && load(c) < c.slots.limit;
    const primary = await this.acquire(host);
    const max = this.opts.maxConnectionsPerHost ?? 1;
    if (max <= 1 || hasRoom(primary)) return take(primary);
    const all = () => [primary, ...this.extras(host)].filter((c) => !c.closed);
    // Each pass: a connection with room, else join or start the one overflow dial, then look again.
    for (;;) {
      const roomy = all().find(hasRoom);
      if (roomy) return take(roomy);
      let pending = this.overflowDialing.get(host);
      if ((!pending && all().length >= max) || this.closing) break;
      if (!pending) {
        pending = this.open(host, 'overflow').finally(() => this.overflowDialing.delete(host));
        this.overflowDialing.set(host, pending);
      }
      try {
        await pending;
      } catch (err) {
        // The host's other connections still work: queue there rather than fail the call.
        this.opts.log.warn({ host, code: (err as ScoutError).code, err: (err as Error).message }, 'overflow connection failed; queueing instead');
        break;
      }
    }
    return take(all().sort((a, b) => load(a) / a.slots.limit - load(b) / b.slots.limit)[0] ?? primary);
  }

  private extras(host: string): C[] {
    return this.overflow.get(host) ?? [];
  }

  private setExtras(host: string, conns: C[]): void {
    if (conns.length) this.overflow.set(host, conns);
    else this.overflow.delete(host);
  }

  /** Every open connection, primaries and overflow, with its pool key. */
  private *allConnections(): Generator<[string, C]> {
    yield* this.live;
    for (const [host, conns] of this.overflow) for (const c of conns) yield [host, c];
  }

  /**
   * Mark `conn` (the pool's connection for `host`) in use until the returned function is called: a jump
   * host carrying a target's tunnel must not be reaped or evicted while the target lives.
   */
  retain(host: string, conn: C): () => void {
    this.hold(host, conn);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.unhold(conn);
      this.closeIfRetired(conn);
    };
  }

  /** Pool keys with a connection in service (primary or overflow). */
  keys(): string[] {
    return [...new Set([...this.live.keys(), ...this.overflow.keys()])];
  }

  /** The connection to `host` if one is open (no dialling). */
  peek(host: string): C | undefined {
    const c = this.live.get(host);
    return c && !c.closed ? c : undefined;
  }

  /** Close the host's connection; resolves with how many were closed. */
  async drop(host: string, reason = 'dropped on request'): Promise<number> {
    const conns = [...(this.live.has(host) ? [this.live.get(host)!] : []), ...this.extras(host)];
    this.live.delete(host);
    this.overflow.delete(host);
    await Promise.all(conns.map((c) => c.close(reason)));
    return conns.length;
  }

  /**
   * Take the host's connections out of service without cutting what runs on them (a reload changed or
   * removed the host): new calls dial afresh with the new settings, while calls, jobs and tunnels already on
   * the old connections finish there; each closes when its last user is done (at once when idle). Returns
   * how many connections were retired.
   */
  retire(host: string, reason: string): number {
    const conns = [...(this.live.has(host) ? [this.live.get(host)!] : []), ...this.extras(host)];
    this.live.delete(host);
    this.overflow.delete(host);
    for (const conn of conns) {
      this.retiring.set(conn, reason);
      conn.once('close', () => this.retiring.delete(conn));
      // Idle resident shells would serve no one: give their sessions back now.
      conn.closeIdle();
      if (!this.closeIfRetired(conn)) this.opts.log.info({ host, conn: conn.id, active: this.lease(conn).active, reason }, 'connection retiring: it closes when the calls on it end');
    }
    return conns.length;
  }

  /** Close `conn` if it is retiring and nothing uses it any more; true when it was closed. */
  private closeIfRetired(conn: C): boolean {
    const reason = this.retiring.get(conn);
    if (reason === undefined || this.lease(conn).active > 0 || (this.calls.get(conn) ?? 0) > 0) return false;
    this.retiring.delete(conn);
    void conn.close(reason);
    return true;
  }

  /** Close connections idle longer than the idle timeout with no call using them. */
  reap(now = Date.now()): string[] {
    const reaped: string[] = [];
    for (const [host, conn] of this.live) {
      const l = this.lease(conn);
      if (l.active === 0 && now - l.lastUsed > this.opts.idleTimeoutMs) {
        reaped.push(host);
        this.live.delete(host);
        this.opts.log.info({ host, idleMs: now - l.lastUsed }, 'closing idle connection');
        void conn.close('idle timeout');
      }
    }
    // Overflow connections exist for bursts: they go once idle for a reaper period.
    const overflowIdleMs = Math.min(this.opts.idleTimeoutMs, OVERFLOW_IDLE_MS);
    for (const [host, conns] of [...this.overflow]) {
      const idle = conns.filter((c) => this.lease(c).active === 0 && now - this.lease(c).lastUsed > overflowIdleMs);
      if (!idle.length) continue;
      this.setExtras(
        host,
        conns.filter((c) => !idle.includes(c)),
      );
      for (const c of idle) {
        reaped.push(host);
        this.opts.log.info({ host, conn: c.id }, 'closing idle overflow connection');
        void c.close('idle timeout (overflow)');
      }
    }
    return reaped;
  }

  /** Stop the reaper and close every connection (bounded wait each). */
  async closeAll(): Promise<void> {
    this.closing = true;
    this.task?.stop();
    const all = [...[...this.allConnections()].map(([, c]) => c), ...this.retiring.keys()];
    this.live.clear();
    this.overflow.clear();
    this.retiring.clear();
    await Promise.all(all.map((c) => c.close('scoutd shutting down')));
  }

  list(): ConnectionSnapshot[] {
    const retiring = [...this.retiring.keys()].filter((c) => !c.closed).map((c) => [c.host, c] as [string, C]);
    return [...this.allConnections(), ...retiring].map(([host, c]) => {
      const slots = c.slots.stats();
      return {
        host: c.host,
        id: c.id,
        state: 'ready' as const,
        since: new Date(c.createdAt).toISOString(),
        lastUsed: new Date(this.lease(c).lastUsed).toISOString(),
        uses: this.lease(c).uses,
        ...c.describe(),
        channels: { open: slots.open, limit: slots.limit, queued: slots.queued, peak: slots.peak, configuredLimit: slots.configuredLimit },
        waits: slots.waits,
        waitMs: slots.waitMs,
        refusedOpens: slots.refused,
        ...(this.retiring.has(c) ? { retiring: true } : this.live.get(host) === c ? {} : { overflow: true }),
      };
    });
  }

  /** Per-host counters: those of closed connections plus the live ones'. */
  hostStats(): Array<{ host: string } & HostStats> {
    return [...this.stats].map(([host, s]) => {
      const out = { host, ...s, errors: { ...s.errors } };
      for (const [key, c] of this.allConnections()) {
        if (key !== host) continue;
        const slots = c.slots.stats();
        out.channelWaits += slots.waits;
        out.channelWaitMs += slots.waitMs;
        out.refusedOpens += slots.refused;
        out.queued += slots.queued;
      }
      return out;
    });
  }

  summary(): PoolTotals {
    const t: PoolTotals = {
      connections: [...this.allConnections()].length,
      created: 0,
      closed: 0,
      reconnects: 0,
      uses: 0,
      channelsOpen: 0,
      queued: 0,
      channelWaits: 0,
      channelWaitMs: 0,
      refusedOpens: 0,
      connectRetries: 0,
      keepaliveFailures: 0,
      retriedCalls: 0,
      errors: {},
    };
    for (const s of this.hostStats()) {
      t.created += s.created;
      t.closed += s.closed;
      t.reconnects += s.reconnects;
      t.uses += s.uses;
      t.queued += s.queued;
      t.channelWaits += s.channelWaits;
      t.channelWaitMs += s.channelWaitMs;
      t.refusedOpens += s.refusedOpens;
      t.connectRetries += s.connectRetries;
      t.keepaliveFailures += s.keepaliveFailures;
      t.retriedCalls += s.retriedCalls;
      for (const [code, n] of Object.entries(s.errors)) t.errors[code] = (t.errors[code] ?? 0) + n;
    }
    for (const [, c] of this.allConnections()) t.channelsOpen += c.channelsOpen;
    return t;
  }

  private async open(host: string, role: 'primary' | 'overflow'): Promise<C> {
    const stats = this.statsFor(host);
    const budget = this.opts.connectBudgetMs?.(host) ?? DEFAULT_CONNECT_BUDGET_MS;
    const conn = await withRetry(this.opts.backoff ?? DEFAULT_BACKOFF, budget, {
      attempt: async (timeoutMs) => {
        // Out of file descriptors: an idle connection closed makes room for this one (a 1,000-host fleet call
        // under a 1,024 limit keeps going). Other connects in flight may take the descriptor first, so this
        // goes on while there are idle connections to close; with none the caller gets LIMIT_REACHED.
        for (;;) {
          try {
            return await this.opts.dial(host, timeoutMs);
          } catch (err) {
            if (!isScoutError(err, 'LIMIT_REACHED') || err.details.resource !== 'file-descriptors' || !(await this.closeOneIdle(host))) throw err;
          }
        }
      },
      transient: isTransientConnectError,
      onRetry: (err, n, delayMs) => {
        stats.connectRetries++;
        const e = err as ScoutError;
        this.opts.log.warn({ host, attempt: n, delayMs, code: e.code, errno: e.details?.errno, err: e.message }, 'connect failed, retrying');
      },
    });
    if (this.closing) {
      await conn.close('scoutd shutting down');
      throw shuttingDown('no new connection is made', { host });
    }
    if (stats.created > 0 && role === 'primary') stats.reconnects++;
    stats.created++;
    this.opts.log.info({ host, conn: conn.id, ...(role === 'overflow' ? { overflow: true } : {}) }, 'connection opened');
    conn.on('limit', (limit: number) => this.opts.log.warn({ host, conn: conn.id, limit }, 'server refused a channel: channel limit lowered'));
    conn.once('close', (reason: ScoutError) => {
      stats.closed++;
      if (reason.details?.keepalive === true) stats.keepaliveFailures++;
      const slots = conn.slots.stats();
      stats.channelWaits += slots.waits;
      stats.channelWaitMs += slots.waitMs;
      stats.refusedOpens += slots.refused;
      this.takeOut(host, conn);
      this.opts.log.info({ host, conn: conn.id, reason: reason.message }, 'connection closed');
    });
    if (role === 'primary') this.live.set(host, conn);
    else this.setExtras(host, [...this.extras(host), conn]);
    this.evict();
    return conn;
  }

  /**
   * Close the least recently used connection that nothing uses (no call counted on it, from pick to the end;
   * no job, forward or tunnel holding it), to free its descriptor. False when there is none.
   */
  private async closeOneIdle(except: string): Promise<boolean> {
    for (const [host, conn] of this.allConnections()) {
      if (host === except || conn.closed || this.lease(conn).active > 0 || (this.calls.get(conn) ?? 0) > 0) continue;
      this.takeOut(host, conn);
      this.opts.log.info({ host, conn: conn.id, for: except }, 'closing an idle connection: no file descriptor left for a new one');
      await conn.close('closed to free a file descriptor');
      return true;
    }
    return false;
  }

  /** Take `conn` out of service for `host` (primary or overflow): new calls no longer find it. */
  private takeOut(host: string, conn: C): void {
    if (this.live.get(host) === conn) this.live.delete(host);
    if (this.extras(host).includes(conn))
      this.setExtras(
        host,
        this.extras(host).filter((c) => c !== conn),
      );
  }

  /** Above the size bound, close idle connections least-recently-used first; busy ones are never evicted. */
  private evict(): void {
    const size = () => [...this.allConnections()].length;
    if (size() <= this.opts.maxPoolSize) return;
    // Idle overflow connections go first: the host keeps its primary.
    for (const [host, conns] of [...this.overflow]) {
      for (const c of conns) {
        if (size() <= this.opts.maxPoolSize) return;
        if (this.lease(c).active > 0) continue;
        this.takeOut(host, c);
        this.opts.log.info({ host, conn: c.id }, 'evicting idle overflow connection');
        void c.close('evicted (pool full)');
      }
    }
    for (const [host, conn] of this.live) {
      if (size() <= this.opts.maxPoolSize) break;
      if (this.lease(conn).active > 0) continue;
      this.live.delete(host);
      this.opts.log.info({ host }, 'evicting least recently used connection');
      void conn.close('evicted (pool full)');
    }
  }

  private statsFor(host: string): HostStats {
    let s = this.stats.get(host);
    if (!s) {
      s = { created: 0, closed: 0, reconnects: 0, uses: 0, errors: {}, connectRetries: 0, keepaliveFailures: 0, channelWaits: 0, channelWaitMs: 0, refusedOpens: 0, retriedCalls: 0, queued: 0 };
      this.stats.set(host, s);
    }
    return s;
  }

  private countError(host: string, err: unknown): void {
    const code = isScoutError(err) ? err.code : 'INTERNAL_ERROR';
    const s = this.statsFor(host);
    s.errors[code] = (s.errors[code] ?? 0) + 1;
  }
}
