// Newline-delimited JSON framing. Knows nothing of JSON-RPC or SSH: it turns a byte stream into lines and
// enforces a line-length bound so one client cannot make the daemon buffer without limit.

/** Default bound on one message: large enough for a 1 MiB file read encoded as base64 plus JSON overhead many times over. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

export interface LineHandlers {
  line(text: string): void;
  /** A line went over the bound; its bytes up to the next newline are discarded. */
  oversized(bytes: number): void;
}

/** Splits chunks into lines. Feeding partial chunks is fine; `\r\n` is accepted. */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  private discarding = false;
  private discarded = 0;

  constructor(private readonly handlers: LineHandlers, private readonly maxBytes = MAX_LINE_BYTES) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) {
        this.append(chunk.subarray(start));
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
      this.discarding = false;
      this.discarded = 0;
      this.handlers.oversized(n);
      return;
    }
    const buf = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    let text = buf.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim().length > 0) this.handlers.line(text);
  }
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
      if (c === 0x5c) i++; // backslash: skip the escaped character
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
