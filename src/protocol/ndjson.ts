// Newline-delimited JSON framing. Knows nothing of JSON-RPC or SSH: it turns a byte stream into lines and
// enforces a line-length bound so one client cannot make the daemon buffer without limit.
import { isAscii } from 'node:buffer';

/**
 * Bound on one request line (client → daemon): the largest valid request, an fs.write of 12 MiB as base64
 * (16 MiB) with its JSON around it, fits; the client measures every request before sending it.
 */
export const MAX_LINE_BYTES = 20 * 1024 * 1024;
/**
 * Bound on one answer line (daemon → client). Every result the schemas allow fits (two 12 MiB output streams
 * as base64 are 32 MiB; a fleet call's outputs share a budget); the daemon measures each answer and sends
 * TOO_LARGE for its id instead of anything longer, so a client never meets a line it cannot read.
 */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** Largest raw payload read into the splitter's reused buffer; a larger one gets a buffer of its own. */
const RAW_SCRATCH_MAX = 4 * 1024 * 1024;
/** How much of an oversized line is kept, to find its id: clients put `jsonrpc` and `id` first. */
export const OVERSIZED_HEAD_BYTES = 256;

export interface LineHandlers {
  line(text: string): void;
  /** A line went over the bound; its bytes up to the next newline are discarded. `head` is its beginning. */
  oversized(bytes: number, head: string): void;
}

/** Splits chunks into lines. Feeding partial chunks is fine; `\r\n` is accepted. */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private discarding = false;
  private discarded = 0;
  private head = '';

  /**
   * `reusedChunks`: the caller reuses each chunk's memory once push() returns (a socket's onread buffer), so
   * a line that goes on past the chunk is kept as a copy.
   */
  constructor(
    private readonly handlers: LineHandlers,
    private readonly maxBytes = MAX_LINE_BYTES,
    private readonly reusedChunks = false,
  ) {}

  /** Raw bytes of the line just read (blobs.ts): where they go, how many are in, and who takes them. */
  private raw: Buffer | undefined;
  private rawIn = 0;
  private rawDone: ((bytes: Buffer) => void) | undefined;
  /** Reused for raw payloads up to RAW_SCRATCH_MAX: a fresh 1 MiB buffer per read cost page faults (blobs.ts). */
  private scratch: Buffer | undefined;

  /**
   * Called from a `line` handler: the next `bytes` bytes are not lines but that line's raw payload (blobs);
   * `done` gets them in one buffer, valid only during the call (it is reused), then splitting goes on.
   */
  takeRaw(bytes: number, done: (bytes: Buffer) => void): void {
    if (bytes > RAW_SCRATCH_MAX) this.raw = Buffer.allocUnsafe(bytes);
    else {
      if (!this.scratch || this.scratch.length < bytes) this.scratch = Buffer.allocUnsafe(Math.max(bytes, 64 * 1024));
      this.raw = this.scratch.subarray(0, bytes);
    }
    this.rawIn = 0;
    this.rawDone = done;
    if (bytes === 0) this.finishRaw();
  }

  private finishRaw(): void {
    const done = this.rawDone!;
    const raw = this.raw!;
    this.raw = this.rawDone = undefined;
    done(raw);
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      if (this.raw) {
        const n = Math.min(this.raw.length - this.rawIn, chunk.length - start);
        chunk.copy(this.raw, this.rawIn, start, start + n);
        start += n;
        this.rawIn += n;
        if (this.rawIn < this.raw.length) return;
        this.finishRaw();
        continue;
      }
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) {
        this.append(this.reusedChunks ? Buffer.from(chunk.subarray(start)) : chunk.subarray(start));
        return;
      }
      this.append(chunk.subarray(start, nl));
      this.finishLine();
      start = nl + 1;
    }
  }

  private append(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.discarding) {
      this.discarded += piece.length;
      return;
    }
    if (this.size + piece.length > this.maxBytes) {
      this.discarding = true;
      this.discarded = this.size + piece.length;
      this.head = headOf([...this.parts, piece]);
      this.parts = [];
      this.size = 0;
      return;
    }
    this.parts.push(piece);
    this.size += piece.length;
  }

  private finishLine(): void {
    if (this.discarding) {
      const n = this.discarded;
      const head = this.head;
      this.discarding = false;
      this.discarded = 0;
      this.head = '';
      this.handlers.oversized(n, head);
      return;
    }
    const buf = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    // ASCII (most lines: JSON of ASCII text, base64) decodes as latin1, the same string: a copy instead of UTF-8
    // decoding, and past ~1 MB Node makes it an external string, not fresh V8 heap (fs.read of 1 MiB, measured).
    let text = isAscii(buf) ? buf.toString('latin1') : buf.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim().length > 0) this.handlers.line(text);
  }
}

/** The first OVERSIZED_HEAD_BYTES of a line held in pieces, however small the first pieces were. */
function headOf(pieces: Buffer[]): string {
  const first: Buffer[] = [];
  let n = 0;
  for (const p of pieces) {
    if (n >= OVERSIZED_HEAD_BYTES) break;
    first.push(p);
    n += p.length;
  }
  return Buffer.concat(first).subarray(0, OVERSIZED_HEAD_BYTES).toString('utf8');
}

/**
 * Deepest nesting a message may have. Protocol messages nest three or four levels; JSON.parse of a line of
 * 200,000 '[' takes ~190 ms of the daemon's only thread (measured), so a 16 MiB one would stall every client
 * for seconds. Checked by a linear scan before parsing.
 */
export const MAX_JSON_DEPTH = 64;

/** True when `text` nests arrays/objects deeper than `limit` (brackets inside strings do not count). */
export function nestingExceeds(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** One message as a line. JSON.stringify never emits a raw newline, so the framing is safe. */
export function encodeLine(message: unknown): string {
  return JSON.stringify(message) + '\n';
}

/**
 * The id of a request line too large to parse, read from its head when it starts the way every client of ours
 * writes one (`{"jsonrpc":"2.0","id":…`, or `{"id":…`), so the refusal reaches the call that made it; else null.
 */
export function idFromHead(head: string): string | number | null {
  const m = /^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*(-?\d{1,15}(?![\d.eE])|"(?:[^"\\]|\\.){0,64}")\s*[,}]/.exec(head);
  if (!m) return null;
  try {
    return JSON.parse(m[1]) as string | number;
  } catch {
    return null;
  }
}
