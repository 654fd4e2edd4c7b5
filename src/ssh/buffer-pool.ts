// Reused buffers for reads that end on a client's socket (fs.read, fleet.read). On these machines a fresh
// 1 MiB buffer costs ~3.4 ms of CPU to fill, most of it page faults (a reused one 0.03 ms; measured with 30
// alive, as buffers wait for the GC in scoutd): as much as the SFTP reads themselves. A buffer goes back only
// once the socket has written it (Session, through Utf8Bytes.release); one that never comes back is garbage
// like any other, so a lost release costs a reuse, never correctness.

/** Size of each pooled buffer: the default fs.read cap (SCOUT_MAX_FILE_SIZE); larger reads allocate. */
export const POOLED_BYTES = 1024 * 1024;
/**
 * Smaller reads allocate too: their bytes become a string at once (blobs.ts BLOB_MIN_CHARS), and a 1 KiB read
 * has no use for a 1 MiB buffer.
 */
const POOLED_MIN_BYTES = 64 * 1024;
/** Buffers kept for reuse; more in use at once (a fleet.read) are allocated and left to the GC. */
const POOL_MAX = 4;
/** A pool unused this long gives its buffers back: an idle daemon holds none. */
const IDLE_MS = 30_000;

export class BufferPool {
  private free: Buffer[] = [];
  private idle: NodeJS.Timeout | undefined;

  constructor(
    private readonly size = POOLED_BYTES,
    private readonly max = POOL_MAX,
    private readonly idleMs = IDLE_MS,
    private readonly min = POOLED_MIN_BYTES,
  ) {}

  /**
   * A buffer of `n` bytes and the function that gives it back (call it once nothing reads the buffer any more;
   * a buffer larger than the pool's, or smaller than its minimum, is not pooled and its release does nothing).
   */
  take(n: number): { buf: Buffer; release: () => void } {
    if (n > this.size || n < this.min) return { buf: Buffer.allocUnsafe(n), release: () => {} };
    const whole = this.free.pop() ?? Buffer.allocUnsafe(this.size);
    let given = false;
    return {
      buf: whole.subarray(0, n),
      release: () => {
        if (given) return;
        given = true;
        this.give(whole);
      },
    };
  }

  /** Buffers waiting to be reused. */
  get pooled(): number {
    return this.free.length;
  }

  private give(whole: Buffer): void {
    if (this.free.length >= this.max) return;
    this.free.push(whole);
    clearTimeout(this.idle);
    this.idle = setTimeout(() => (this.free = []), this.idleMs);
    this.idle.unref();
  }
}

/** The daemon's one pool for file reads. */
export const readBuffers = new BufferPool();
