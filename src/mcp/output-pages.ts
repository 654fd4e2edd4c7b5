// Large command output for agents: the text keeps the head and the tail (errors are at the end) with an
// explicit omission line, and the whole output stays readable as `scout-output://ID/PAGE` resources for a while.
// Before, a query kept only the first SCOUT_MAX_OUTPUT_BYTES, and an error printed last was lost.
import { randomBytes } from 'node:crypto';
import { completeUtf8Length } from '../protocol/text.js';

/** Output up to this size is shown whole in the text. */
export const TEXT_WHOLE_BYTES = 64 * 1024;
/** Above it, this much of the head and of the tail is shown. */
export const TEXT_HEAD_BYTES = 16 * 1024;
export const TEXT_TAIL_BYTES = 16 * 1024;
/** One resource page. */
export const PAGE_BYTES = 1024 * 1024;
/** Bytes of one stream kept for paging; past it only the head and the tail remain (and the text says so). */
export const KEEP_STREAM_BYTES = 64 * 1024 * 1024;
/** All kept output of this shim, oldest dropped first; and how long one is kept. */
const STORE_MAX_BYTES = 256 * 1024 * 1024;
const KEEP_MS = 30 * 60 * 1000;

/** One stream of a command as it arrives: every byte up to KEEP_STREAM_BYTES, and always the last tail. */
export class StreamCapture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  total = 0;
  private tail = Buffer.alloc(0);
  private readonly whole: number;
  private readonly headBytes: number;
  private readonly tailBytes: number;

  /** `budget`: the most bytes of this stream the text shows (the call's byte budget); the default keeps 64 KiB whole, else 16 KiB head and tail. */
  constructor(budget?: number) {
    this.whole = budget ?? TEXT_WHOLE_BYTES;
    this.headBytes = budget === undefined ? TEXT_HEAD_BYTES : Math.floor(budget / 2);
    this.tailBytes = budget === undefined ? TEXT_TAIL_BYTES : budget - this.headBytes;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.kept < KEEP_STREAM_BYTES) {
      const piece = chunk.subarray(0, KEEP_STREAM_BYTES - this.kept);
      this.chunks.push(piece);
      this.kept += piece.length;
    }
    const t = Buffer.concat([this.tail, chunk]);
    this.tail = t.length > this.tailBytes ? t.subarray(t.length - this.tailBytes) : t;
  }

  /** Everything kept (the whole output when `complete`). */
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** The text shows every byte: no page link is needed. */
  get shownWhole(): boolean {
    return this.total <= this.whole;
  }

  get complete(): boolean {
    return this.kept === this.total;
  }

  /**
   * The text for a person or an agent: the whole output when small, else head, an omission line and the tail,
   * cut on character boundaries.
   */
  text(): { text: string; omitted: number } {
    const all = this.bytes();
    if (this.total <= this.whole) return { text: all.toString('utf8'), omitted: 0 };
    const head = all.subarray(0, completeUtf8Length(all.subarray(0, this.headBytes)));
    let tail = this.tail;
    // Start the tail at a character boundary: skip continuation bytes (10xxxxxx).
    let i = 0;
    while (i < tail.length && i < 4 && (tail[i] & 0xc0) === 0x80) i++;
    tail = tail.subarray(i);
    const omitted = this.total - head.length - tail.length;
    return { text: `${head.toString('utf8')}\n[… ${omitted} bytes omitted …]\n${tail.toString('utf8')}`, omitted };
  }
}

interface Saved {
  data: Buffer;
  total: number;
  expires: number;
}

/** Kept outputs, by id, readable in pages until they expire or room is needed. */
export class OutputPages {
  private readonly saved = new Map<string, Saved>();
  private bytes = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Keep `data` (of a stream that produced `total` bytes); its id. */
  save(data: Buffer, total: number): string {
    this.expire();
    while (this.bytes + data.length > STORE_MAX_BYTES && this.saved.size) this.drop(this.saved.keys().next().value as string);
    const id = randomBytes(9).toString('base64url');
    this.saved.set(id, { data, total, expires: this.now() + KEEP_MS });
    this.bytes += data.length;
    return id;
  }

  /** Page `n` (0-based) of an output, with how many pages there are; undefined when unknown or expired. */
  page(id: string, n: number): { data: Buffer; pages: number; total: number; kept: number } | undefined {
    this.expire();
    const s = this.saved.get(id);
    if (!s || !Number.isInteger(n) || n < 0) return undefined;
    const pages = Math.max(1, Math.ceil(s.data.length / PAGE_BYTES));
    if (n >= pages) return undefined;
    return { data: s.data.subarray(n * PAGE_BYTES, (n + 1) * PAGE_BYTES), pages, total: s.total, kept: s.data.length };
  }

  private expire(): void {
    const now = this.now();
    for (const [id, s] of this.saved) if (s.expires <= now) this.drop(id);
  }

  private drop(id: string): void {
    const s = this.saved.get(id);
    if (!s) return;
    this.bytes -= s.data.length;
    this.saved.delete(id);
  }
}

/** The shim's kept outputs (one shim process serves one client session). */
export const outputPages = new OutputPages();

/** A link to a kept output: what a tool result puts in its content as a `resource_link`. */
export interface OutputLink {
  uri: string;
  name: string;
  description: string;
}

/** Keep a large stream's bytes and describe its first page; undefined when the text already holds it all. */
export function linkFor(stream: 'stdout' | 'stderr', c: StreamCapture): OutputLink | undefined {
  if (c.shownWhole) return undefined;
  const data = c.bytes();
  const id = outputPages.save(data, c.total);
  const pages = Math.max(1, Math.ceil(data.length / PAGE_BYTES));
  return {
    uri: `scout-output://${id}/0`,
    name: `${stream} (${c.total} bytes)`,
    description: `the whole ${stream} in ${pages} page${pages === 1 ? '' : 's'} of ${PAGE_BYTES} bytes: scout-output://${id}/0 … /${pages - 1}${c.complete ? '' : ` (only the first ${data.length} bytes were kept)`}; kept 30 minutes`,
  };
}
