// How many SSH handshakes scoutd has in progress towards one server at once. OpenSSH's MaxStartups (default
// 10:30:100) starts dropping unauthenticated connections at random once 10 are pending, so a cold fleet call
// (up to 100 hosts at a time; a thousand aliases of one machine, or many hosts behind one address) would
// otherwise stampede it and pay drops and retries. Connects to one server wait their turn past the limit;
// other servers are not held up. Keys are "where from > host:port", so targets behind a jump host are
// counted per jump route.
//
// The limit adapts per server, as TCP's window does (additive increase, multiplicative decrease): a handshake
// the server dropped (its MaxStartups set lower than OpenSSH's default, other clients' handshakes in progress,
// a bastion's own limit) halves that server's limit, down to one at a time; each handshake that completes
// gives one back, up to the ceiling. A server that never drops anything is never slowed.

/** Handshakes in progress per server: below OpenSSH's default MaxStartups start (10), room for other clients. */
export const STARTUPS_PER_SERVER = 8;

interface Server {
  running: number;
  limit: number;
  waiting: Array<() => void>;
}

export class StartupGate {
  private readonly servers = new Map<string, Server>();

  constructor(private readonly ceiling = STARTUPS_PER_SERVER) {}

  /**
   * Run `start` (a connect, through authentication) once fewer than the server's limit of others run for
   * `server`. `dropped` says whether a failure means the server dropped the handshake (then the limit halves).
   */
  async run<T>(server: string, start: () => Promise<T>, dropped: (err: unknown) => boolean = () => false): Promise<T> {
    await this.enter(server);
    let ok = false;
    try {
      const r = await start();
      ok = true;
      return r;
    } catch (err) {
      if (dropped(err)) this.adjust(server, -1);
      throw err;
    } finally {
      if (ok) this.adjust(server, +1);
      this.leave(server);
    }
  }

  /** Handshakes in progress for `server` (for tests and status). */
  inProgress(server: string): number {
    return this.servers.get(server)?.running ?? 0;
  }

  /** The server's current limit (the ceiling until it drops a handshake). */
  limitOf(server: string): number {
    return this.servers.get(server)?.limit ?? this.ceiling;
  }

  private state(server: string): Server {
    let s = this.servers.get(server);
    if (!s) {
      s = { running: 0, limit: this.ceiling, waiting: [] };
      this.servers.set(server, s);
    }
    return s;
  }

  private enter(server: string): Promise<void> | undefined {
    const s = this.state(server);
    if (s.running < s.limit) {
      s.running++;
      return undefined;
    }
    return new Promise((resolve) => s.waiting.push(resolve));
  }

  private adjust(server: string, step: 1 | -1): void {
    const s = this.state(server);
    s.limit = step > 0 ? Math.min(this.ceiling, s.limit + 1) : Math.max(1, Math.floor(s.limit / 2));
  }

  private leave(server: string): void {
    const s = this.state(server);
    s.running--;
    // Wake as many as the (possibly changed) limit allows; a lowered limit wakes none until enough have left.
    while (s.running < s.limit && s.waiting.length > 0) {
      s.running++;
      s.waiting.shift()!();
    }
    // Forget a server at rest with its full limit; one that dropped handshakes keeps its lowered limit.
    if (s.running === 0 && s.waiting.length === 0 && s.limit === this.ceiling) this.servers.delete(server);
  }
}
