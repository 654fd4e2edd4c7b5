// The pool's own logic with a fake dial: no sshd, no sockets, milliseconds. What is asserted is what a
// caller would notice: how many dials happened, which connection a call got, which connections closed.
// The same behaviours end to end against real sshd live in test/pool-*.test.ts and test/reload.test.ts.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ScoutError } from '../protocol/errors.js';
import { Pool, type PooledConnection, type PoolOptions, type RetryRule } from './pool.js';

let nextId = 1;

/** A connection that is only what the pool sees: slots to balance by, close, events. */
class FakeConnection extends EventEmitter implements PooledConnection {
  readonly id = nextId++;
  readonly createdAt = Date.now();
  closed = false;
  closedWith: string | undefined;
  idleGivenBack = 0;
  readonly channelsOpen = 0;
  readonly slots: PooledConnection['slots'];

  constructor(
    readonly host: string,
    limit: number,
  ) {
    super();
    this.slots = { open: 0, queued: 0, limit, stats: () => ({ limit, configuredLimit: limit, open: 0, queued: 0, peak: 0, waits: 0, waitMs: 0, refused: 0 }) };
  }

  async close(reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closedWith = reason;
    this.emit('close', new ScoutError('CONNECTION_LOST', reason));
  }

  closeIdle(): void {
    this.idleGivenBack++;
  }

  describe() {
    return { errors: 0, warmShells: 0, keepalive: { intervalMs: 0, countMax: 0 } };
  }
}

const quiet = { info: () => {}, warn: () => {}, debug: () => {} };

/** A pool over fake connections, with every dial recorded (and optionally failing first). */
function fakePool(opts: Partial<PoolOptions<FakeConnection>> & { channelLimit?: number; failDials?: ScoutError[] } = {}) {
  const dialed: FakeConnection[] = [];
  const failures = [...(opts.failDials ?? [])];
  const pool = new Pool<FakeConnection>({
    idleTimeoutMs: 60_000,
    maxPoolSize: 100,
    log: quiet,
    backoff: { retries: 3, baseMs: 1, maxDelayMs: 2, minAttemptMs: 1 },
    ...opts,
    dial: async (host) => {
      // A dial takes a turn of the event loop, as a real one does: concurrent callers meet while it is pending.
      await new Promise((r) => setImmediate(r));
      const fail = failures.shift();
      if (fail) throw fail;
      const c = new FakeConnection(host, opts.channelLimit ?? 10);
      dialed.push(c);
      return c;
    },
  });
  return { pool, dialed };
}

/** A call that holds its connection until `release()`. */
function holdCall(pool: Pool<FakeConnection>, host: string) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let conn!: FakeConnection;
  const got = new Promise<FakeConnection>((resolve) => {
    void pool.use(host, async (c) => {
      conn = c;
      resolve(c);
      await released;
    });
  });
  return {
    got,
    release: () => release(),
    get conn() {
      return conn;
    },
  };
}

describe('Pool (fake dial)', () => {
  it('single-flight: concurrent calls to a host share one dial and one connection', async () => {
    const { pool, dialed } = fakePool();
    const ids = await Promise.all(Array.from({ length: 20 }, () => pool.use('a', async (c) => c.id)));
    expect(dialed).toHaveLength(1);
    expect(new Set(ids)).toEqual(new Set([dialed[0].id]));
    // And a later call reuses it.
    expect(await pool.use('a', async (c) => c.id)).toBe(dialed[0].id);
    expect(dialed).toHaveLength(1);
  });

  it('overflow: when every channel is taken a call opens another connection, up to the bound, then queues', async () => {
    const { pool, dialed } = fakePool({ maxConnectionsPerHost: 3, channelLimit: 1 });
    const calls = [holdCall(pool, 'a'), holdCall(pool, 'a'), holdCall(pool, 'a')];
    const conns = await Promise.all(calls.map((c) => c.got));
    expect(new Set(conns.map((c) => c.id)).size).toBe(3);
    expect(dialed).toHaveLength(3);
    // A fourth call finds no room and no dial left: it shares an existing connection.
    const fourth = holdCall(pool, 'a');
    expect(conns.map((c) => c.id)).toContain((await fourth.got).id);
    expect(dialed).toHaveLength(3);
    for (const c of [...calls, fourth]) c.release();
  });

  it('retirement: a retired connection finishes its call, then closes; new calls dial afresh', async () => {
    const { pool, dialed } = fakePool();
    const running = holdCall(pool, 'a');
    const old = await running.got;
    expect(pool.retire('a', 'configuration changed')).toBe(1);
    expect(old.idleGivenBack).toBe(1);
    expect(old.closed).toBe(false);
    const fresh = await pool.use('a', async (c) => c);
    expect(fresh).not.toBe(old);
    expect(dialed).toHaveLength(2);
    running.release();
    await expect.poll(() => old.closedWith).toBe('configuration changed');
    expect(fresh.closed).toBe(false);
  });

  it('LRU eviction above the size bound closes the least recently used idle connection, never a busy one', async () => {
    const { pool } = fakePool({ maxPoolSize: 2 });
    const a = await pool.use('a', async (c) => c);
    const b = await pool.use('b', async (c) => c);
    await pool.use('a', async () => {}); // a is now more recent than b
    const c = await pool.use('c', async (x) => x);
    expect([a.closed, b.closed, c.closed]).toEqual([false, true, false]);

    const busy = holdCall(pool, 'a');
    await busy.got;
    await pool.use('c', async () => {});
    const d = await pool.use('d', async (x) => x);
    // a is the least recently used but busy: c goes instead.
    expect([a.closed, c.closed, d.closed]).toEqual([false, true, false]);
    busy.release();
  });

  it('the reaper closes only connections idle past the timeout with no call on them', async () => {
    const { pool } = fakePool({ idleTimeoutMs: 1_000 });
    const idle = await pool.use('idle', async (c) => c);
    const busy = holdCall(pool, 'busy');
    await busy.got;
    const now = Date.now();
    expect(pool.reap(now + 500)).toEqual([]);
    expect(pool.reap(now + 5_000)).toEqual(['idle']);
    expect(idle.closedWith).toBe('idle timeout');
    expect(busy.conn.closed).toBe(false);
    busy.release();
    await expect.poll(() => pool.reap(Date.now() + 5_000)).toEqual(['busy']);
  });

  const lost = (ran: boolean) => new ScoutError('CONNECTION_LOST', 'lost', { ran });
  const refused = new ScoutError('CHANNEL_FAILED', 'refused', { ran: false });
  it.each<[RetryRule, ScoutError, number]>([
    ['never', refused, 1],
    ['unstarted', refused, 2],
    ['unstarted', lost(false), 2],
    ['unstarted', lost(true), 1],
    ['idempotent', lost(true), 2],
    ['idempotent', new ScoutError('COMMAND_TIMEOUT', 'slow'), 1],
  ])('retry rule %s after %s: %i attempt(s)', async (rule, error, attempts) => {
    const { pool } = fakePool();
    let n = 0;
    const run = pool.use(
      'a',
      async () => {
        n++;
        throw error;
      },
      rule,
    );
    await expect(run).rejects.toBe(error);
    expect(n).toBe(attempts);
  });

  it('a retry after the connection was lost runs on a fresh connection', async () => {
    const { pool, dialed } = fakePool();
    const used: number[] = [];
    const r = await pool.use(
      'a',
      async (c) => {
        used.push(c.id);
        if (used.length === 1) {
          await c.close('network went away');
          throw new ScoutError('CONNECTION_LOST', 'lost', { ran: false });
        }
        return 'ok';
      },
      'unstarted',
    );
    expect(r).toBe('ok');
    expect(dialed).toHaveLength(2);
    expect(used).toEqual([dialed[0].id, dialed[1].id]);
  });

  it('a transient connect failure is dialled again with backoff; a final one is not', async () => {
    const refusedTcp = new ScoutError('CONNECT_FAILED', 'refused', { errno: 'ECONNREFUSED' });
    const { pool, dialed } = fakePool({ failDials: [refusedTcp, refusedTcp] });
    expect(await pool.use('a', async (c) => c.id)).toBe(dialed[0].id);
    expect(pool.hostStats()[0]).toMatchObject({ host: 'a', connectRetries: 2, created: 1 });

    const auth = new ScoutError('AUTH_FAILED', 'denied');
    const failing = fakePool({ failDials: [auth] });
    await expect(failing.pool.use('b', async () => 'never')).rejects.toBe(auth);
    expect(failing.dialed).toHaveLength(0);
  });
});
