// A job's output: one bounded ring of chunks from both streams, in arrival order, addressed by absolute byte
// offsets into everything the job ever printed. When the ring is full the oldest bytes go first; because
// offsets are absolute, a reader whose cursor points at dropped bytes learns exactly how many it missed.
// One combined ring (not one per stream) so that a reader sees stdout and stderr interleaved as they arrived,
// which is what a build log needs, and so that one bound caps the job's memory.
import type { OutputStream } from '../ssh/exec.js';

interface Chunk {
  stream: OutputStream;
  /** Absolute offset of the chunk's first byte. */
  start: number;
  bytes: Buffer;
}

export interface OutputRead {
  /** Pieces read, in order, each with the absolute offset of its first byte. */
  pieces: Array<{ start: number; bytes: Buffer }>;
  /** Where reading started (the requested offset, moved past dropped bytes). */
  offset: number;
  /** Where the next read should start. */
  nextOffset: number;
  /** Bytes between the requested offset and `offset` no longer kept. */
  dropped: number;
}

export class JobOutput {
  private chunks: Chunk[] = [];
  /** Index of the first live chunk (shifting a long array per chunk would be O(n) each time). */
  private head = 0;
  private kept = 0;
  /** Bytes ever pushed (both streams). */
  total = 0;
  readonly streamBytes: Record<OutputStream, number> = { stdout: 0, stderr: 0 };

  constructor(readonly capacity: number) {}

  /** Absolute offset of the oldest byte still kept. */
  get firstKept(): number {
    return this.total - this.kept;
  }

  push(stream: OutputStream, chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.total += chunk.length;
    this.streamBytes[stream] += chunk.length;
    // A chunk bigger than the whole ring keeps only its tail, copied so the big buffer can be collected.
    const piece = chunk.length > this.capacity ? Buffer.from(chunk.subarray(chunk.length - this.capacity)) : chunk;
    this.chunks.push({ stream, start: this.total - piece.length, bytes: piece });
    this.kept += piece.length;
    this.trim();
  }

  private trim(): void {
    let excess = this.kept - this.capacity;
    while (excess > 0) {
      const c = this.chunks[this.head];
      if (c.bytes.length <= excess) {
        excess -= c.bytes.length;
        this.kept -= c.bytes.length;
        this.chunks[this.head] = undefined as unknown as Chunk;
        this.head++;
      } else {
        // A view, not a copy: it pins at most one chunk's worth beyond the capacity (one SSH packet, or a
        // capacity-sized copy for an oversized chunk), while copying here on nearly every push doubled the
        // garbage (daemon peak RSS +34 MiB streaming 50 MiB with copies).
        c.bytes = c.bytes.subarray(excess);
        c.start += excess;
        this.kept -= excess;
        excess = 0;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Read up to `maxBytes` from absolute `offset` (negative: that many bytes back from the end). With a
   * `stream` filter only that stream's bytes are returned, but the cursor still moves in the combined space.
   */
  read(offset: number, maxBytes: number, stream?: OutputStream): OutputRead {
    const requested = Math.min(offset < 0 ? Math.max(0, this.total + offset) : offset, this.total);
    const from = Math.max(requested, this.firstKept);
    const dropped = from - requested;
    const pieces: OutputRead['pieces'] = [];
    let taken = 0;
    let pos = from;
    for (let i = this.chunkIndexAt(from); i < this.chunks.length && taken < maxBytes; i++) {
      const c = this.chunks[i];
      const end = c.start + c.bytes.length;
      if (end <= pos) continue;
      if (stream && c.stream !== stream) {
        pos = end;
        continue;
      }
      const skip = pos - c.start;
      const n = Math.min(c.bytes.length - skip, maxBytes - taken);
      pieces.push({ start: pos, bytes: c.bytes.subarray(skip, skip + n) });
      taken += n;
      pos += n;
    }
    return { pieces, offset: from, nextOffset: pos, dropped };
  }

  /** Index of the live chunk holding absolute offset `at` (binary search: chunks are in offset order). */
  private chunkIndexAt(at: number): number {
    let lo = this.head;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = this.chunks[mid];
      if (c.start + c.bytes.length <= at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Empty the ring and go on from absolute offset `at`, as if everything before it had been dropped: a durable
   * job restored after a restart refills from its output file on the host, where `at` is the file's offset.
   */
  restartAt(at: number): void {
    this.chunks = [];
    this.head = 0;
    this.kept = 0;
    this.total = at;
    this.streamBytes.stdout = at;
    this.streamBytes.stderr = 0;
  }

  /** Bytes held in memory now. */
  get keptBytes(): number {
    return this.kept;
  }
}
