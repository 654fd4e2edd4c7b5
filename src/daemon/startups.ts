// How many SSH handshakes scoutd has in progress towards one server at once. OpenSSH's MaxStartups (default
// 10:30:100) starts dropping unauthenticated connections at random once 10 are pending, so a cold fleet call
// (up to 100 hosts at a time; a thousand aliases of one machine, or many hosts behind one address) would
// otherwise stampede it and pay drops and retries. Connects to one server wait their turn past the limit;
// other servers are not held up. Keys are "where from > host:port", so targets behind a jump host are
// counted per jump route.

/** Handshakes in progress per server: below OpenSSH's default MaxStartups start (10), room for other clients. */
export const STARTUPS_PER_SERVER = 8;

export class StartupGate {
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(private readonly limit = STARTUPS_PER_SERVER) {}

  /** Run `start` (a connect, through authentication) once fewer than `limit` others run for `server`. */
  async run<T>(server: string, start: () => Promise<T>): Promise<T> {
    await this.enter(server);
    try {
      return await start();
    } finally {
      this.leave(server);
    }
  }

  /** Handshakes in progress for `server` (for tests and status). */
  inProgress(server: string): number {
    return this.running.get(server) ?? 0;
  }

  private enter(server: string): Promise<void> | undefined {
    const n = this.running.get(server) ?? 0;
    if (n < this.limit) {
      this.running.set(server, n + 1);
      return undefined;
    }
    return new Promise((resolve) => {
      const queue = this.waiting.get(server) ?? [];
      queue.push(resolve);
      this.waiting.set(server, queue);
    });
  }

  private leave(server: string): void {
    const queue = this.waiting.get(server);
    const next = queue?.shift();
    if (queue && queue.length === 0) this.waiting.delete(server);
    // The slot passes straight to the next in line (the count stays), else it is given back.
    if (next) {
      next();
      return;
    }
    const n = (this.running.get(server) ?? 1) - 1;
    if (n > 0) this.running.set(server, n);
    else this.running.delete(server);
  }
}
