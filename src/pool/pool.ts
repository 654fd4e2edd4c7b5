// The warm connection pool: one shared connection per host, opened on first use (single-flight), dropped the
// moment it closes, reaped when idle, evicted least-recently-used above the size bound. Knows nothing of
// JSON or of how a connection is dialled (the `dial` function is passed in).
import cron, { type ScheduledTask } from 'node-cron';
import type { SshConnection } from '../ssh/connection.js';
import { ScoutError, isScoutError } from '../protocol/errors.js';

export interface PoolOptions {
  /** Open a new connection to an alias. */
  dial: (host: string) => Promise<SshConnection>;
  /** Close connections with no open channel idle longer than this. */
  idleTimeoutMs: number;
  /** Above this many connections, idle ones are closed least-recently-used first. */
  maxPoolSize: number;
  log: PoolLogger;
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
  uses: number;
  errors: Record<string, number>;
}

export interface ConnectionSnapshot {
  host: string;
  id: number;
  state: 'ready';
  since: string;
  lastUsed: string;
  uses: number;
  errors: number;
  channels: { open: number; limit: number; queued: number };
  /** Resident shells alive on this connection (each holds one of the open channels). */
  warmShells: number;
  keepalive: { intervalMs: number; countMax: number };
}

export class Pool {
  private readonly live = new Map<string, SshConnection>();
  private readonly dialing = new Map<string, Promise<SshConnection>>();
  private readonly stats = new Map<string, HostStats>();
  private task: ScheduledTask | undefined;
  private closing = false;

  constructor(private readonly opts: PoolOptions) {}

  /** Start the idle reaper. */
  start(): void {
    const every = this.opts.reapEveryMs ?? Math.min(60_000, Math.max(1_000, Math.floor(this.opts.idleTimeoutMs / 4)));
    const secs = Math.max(1, Math.round(every / 1000));
    // node-cron's six-field form has a seconds field; `*/N` with N > 59 is not valid, so fall back to minutes.
    const expr = secs < 60 ? `*/${secs} * * * * *` : `0 */${Math.max(1, Math.round(secs / 60))} * * * *`;
    this.task = cron.schedule(expr, () => void this.reap(), { noOverlap: true, name: 'scout-idle-reaper' });
  }

  /** A ready connection to `host`, shared with every other caller. */
  async acquire(host: string): Promise<SshConnection> {
    if (this.closing) throw new ScoutError('SHUTTING_DOWN', 'scoutd is shutting down', { host });
    const conn = this.live.get(host);
    if (conn && !conn.closed) {
      // Map order is recency order: re-insert on use so the LRU victim is the first key.
      this.live.delete(host);
      this.live.set(host, conn);
      return conn;
    }
    let pending = this.dialing.get(host);
    if (!pending) {
      pending = this.open(host).finally(() => this.dialing.delete(host));
      this.dialing.set(host, pending);
    }
    return pending;
  }

  /** Run `fn` on the host's connection, counting the use and any error by code. */
  async use<T>(host: string, fn: (conn: SshConnection) => Promise<T>): Promise<T> {
    let conn: SshConnection | undefined;
    try {
      conn = await this.acquire(host);
      conn.active++;
      conn.touch();
      this.statsFor(host).uses++;
      return await fn(conn);
    } catch (err) {
      this.countError(host, err);
      throw err;
    } finally {
      if (conn) {
        conn.active--;
        conn.lastUsed = Date.now();
      }
    }
  }

  /** The connection to `host` if one is open (no dialling). */
  peek(host: string): SshConnection | undefined {
    const c = this.live.get(host);
    return c && !c.closed ? c : undefined;
  }

  /** Close the host's connection; resolves with how many were closed. */
  async drop(host: string, reason = 'dropped on request'): Promise<number> {
    const conn = this.live.get(host);
    if (!conn) return 0;
    this.live.delete(host);
    await conn.close(reason);
    return 1;
  }

  /** Close connections idle longer than the idle timeout with no call using them. */
  reap(now = Date.now()): string[] {
    const reaped: string[] = [];
    for (const [host, conn] of this.live) {
      if (conn.active === 0 && now - conn.lastUsed > this.opts.idleTimeoutMs) {
        reaped.push(host);
        this.live.delete(host);
        this.opts.log.info({ host, idleMs: now - conn.lastUsed }, 'closing idle connection');
        void conn.close('idle timeout');
      }
    }
    return reaped;
  }

  /** Stop the reaper and close every connection (bounded wait each). */
  async closeAll(): Promise<void> {
    this.closing = true;
    this.task?.stop();
    const all = [...this.live.values()];
    this.live.clear();
    await Promise.all(all.map((c) => c.close('scoutd shutting down')));
  }

  list(): ConnectionSnapshot[] {
    return [...this.live.values()].map((c) => ({
      host: c.host,
      id: c.id,
      state: 'ready' as const,
      since: new Date(c.createdAt).toISOString(),
      lastUsed: new Date(c.lastUsed).toISOString(),
      uses: c.uses,
      errors: c.errors,
      channels: { open: c.channelsOpen, limit: c.slots.limit, queued: c.slots.queued },
      warmShells: c.shells.live,
      keepalive: { intervalMs: c.options.keepaliveIntervalMs, countMax: c.options.keepaliveCountMax },
    }));
  }

  hostStats(): Array<{ host: string } & HostStats> {
    return [...this.stats].map(([host, s]) => ({ host, ...s, errors: { ...s.errors } }));
  }

  summary(): { connections: number; created: number; closed: number; uses: number; channelsOpen: number } {
    let created = 0, closed = 0, uses = 0, channelsOpen = 0;
    for (const s of this.stats.values()) {
      created += s.created;
      closed += s.closed;
      uses += s.uses;
    }
    for (const c of this.live.values()) channelsOpen += c.channelsOpen;
    return { connections: this.live.size, created, closed, uses, channelsOpen };
  }

  private async open(host: string): Promise<SshConnection> {
    const conn = await this.opts.dial(host);
    if (this.closing) {
      await conn.close('scoutd shutting down');
      throw new ScoutError('SHUTTING_DOWN', 'scoutd is shutting down', { host });
    }
    const stats = this.statsFor(host);
    stats.created++;
    this.opts.log.info({ host, conn: conn.id }, 'connection opened');
    conn.once('close', (reason: ScoutError) => {
      stats.closed++;
      if (this.live.get(host) === conn) this.live.delete(host);
      this.opts.log.info({ host, conn: conn.id, reason: reason.message }, 'connection closed');
    });
    this.live.set(host, conn);
    this.evict();
    return conn;
  }

  /** Above the size bound, close idle connections least-recently-used first; busy ones are never evicted. */
  private evict(): void {
    if (this.live.size <= this.opts.maxPoolSize) return;
    for (const [host, conn] of this.live) {
      if (this.live.size <= this.opts.maxPoolSize) break;
      if (conn.active > 0) continue;
      this.live.delete(host);
      this.opts.log.info({ host }, 'evicting least recently used connection');
      void conn.close('evicted (pool full)');
    }
  }

  private statsFor(host: string): HostStats {
    let s = this.stats.get(host);
    if (!s) {
      s = { created: 0, closed: 0, uses: 0, errors: {} };
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
