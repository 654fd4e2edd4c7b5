// Long strings of a message sent as raw UTF-8 after its line instead of inside its JSON ("blobs"), for a
// client that asked in daemon.hello (`blobs: true`); every other client gets plain JSON-RPC lines.
//
// Why: a 1 MiB fs.read as one JSON line cost ~11 ms of encoding and parsing on these machines (stringify
// 1.1 ms, the socket's UTF-8 write, the client's concat, latin1 copy and JSON.parse 3.6 ms: escapes are
// searched both ways) against ~3 ms for the SFTP reads themselves. As bytes after the line, the client does
// one copy into a reused buffer and decodes it in 64 KiB pieces (decodePieces), and JSON sees a short line.
//
// The wire: the line carries each long string as "" and says where each belongs and how many bytes it is,
//   {"jsonrpc":"2.0","id":7,"result":{"content":"","bytes":1048576},"$blobs":[{"at":["result","content"],"bytes":1048576}]}\n
// followed at once by those bytes, in the order listed. A line without `$blobs` is an ordinary message, so a
// client that asked still reads a daemon that never sends them.
import { isAscii } from 'node:buffer';
import { decodeText } from './text.js';

/**
 * UTF-8 text a handler answers with as the bytes it has (an SFTP read, a command's output) where the protocol
 * says string: a blob as it is for a client that reads blobs, the string it decodes to for any other
 * (JSON.stringify calls toJSON). Measured, 1 MiB: decoding to a string and encoding it back for the socket
 * cost the daemon ~9 ms of CPU per read, most of it page faults on fresh large strings. The bytes must be the
 * answer's own: they are written to the socket after the handler returns.
 */
export class Utf8Bytes {
  /** `release`: called once the bytes are written (blobs only), e.g. to give a pooled buffer back. */
  constructor(
    readonly bytes: Buffer,
    readonly release?: () => void,
  ) {}
  toJSON(): string {
    return decodeText(this.bytes);
  }
}

/** What a handler may answer where the protocol's type says `string`: the string, or Utf8Bytes. */
export type Wire<T> = T extends string ? (string extends T ? T | Utf8Bytes : T) : T extends readonly (infer U)[] ? Wire<U>[] : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;

/**
 * Valid UTF-8 `bytes` (text.ts isWireText) as a handler answers them: Utf8Bytes when a blob could carry them,
 * else the string (and `release` is called at once: the bytes are no longer needed).
 */
export function wireText(bytes: Buffer, release?: () => void): string | Utf8Bytes {
  if (bytes.length >= BLOB_MIN_CHARS) return new Utf8Bytes(bytes, release);
  const s = decodeText(bytes);
  release?.();
  return s;
}

/** Strings shorter than this stay in the JSON: below ~64 KiB the extra bookkeeping wins nothing measurable. */
export const BLOB_MIN_CHARS = 64 * 1024;

/** Where one long string goes back: keys and array indexes from the top of the message. */
export interface BlobRef {
  at: Array<string | number>;
  bytes: number;
}

export interface Extracted {
  /** The message with each long string replaced by "" (copied where changed; the input is never mutated). */
  message: unknown;
  refs: BlobRef[];
  data: Buffer[];
  /** To call once `data` is written (Utf8Bytes.release). */
  written: Array<() => void>;
}

/**
 * Take the long strings out of `message`: null when there are none (send it as it is). Only plain objects and
 * arrays are walked (a Date or anything with toJSON is left to JSON.stringify), and only well-formed strings
 * are taken: UTF-8 cannot carry a lone surrogate, which JSON keeps as an escape.
 */
export function extractBlobs(message: unknown, minChars = BLOB_MIN_CHARS): Extracted | null {
  const refs: BlobRef[] = [];
  const data: Buffer[] = [];
  const written: Array<() => void> = [];
  const at: Array<string | number> = [];
  const walk = (v: unknown): unknown => {
    if (v instanceof Utf8Bytes) {
      if (v.bytes.length < minChars) return v.toJSON();
      refs.push({ at: [...at], bytes: v.bytes.length });
      data.push(v.bytes);
      if (v.release) written.push(v.release);
      return '';
    }
    if (typeof v === 'string') {
      if (v.length < minChars || !(v as string & { isWellFormed(): boolean }).isWellFormed()) return v;
      const b = Buffer.from(v, 'utf8');
      refs.push({ at: [...at], bytes: b.length });
      data.push(b);
      return '';
    }
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        at.push(i);
        const w = walk(v[i]);
        at.pop();
        if (w !== v[i]) (copy ??= v.slice())[i] = w;
      }
      return copy ?? v;
    }
    if (Object.getPrototypeOf(v) !== Object.prototype) return v;
    let copy: Record<string, unknown> | undefined;
    for (const [k, x] of Object.entries(v)) {
      at.push(k);
      const w = walk(x);
      at.pop();
      if (w !== x) (copy ??= { ...(v as Record<string, unknown>) })[k] = w;
    }
    return copy ?? v;
  };
  const out = walk(message);
  return refs.length ? { message: out, refs, data, written } : null;
}

/**
 * The refs a received line announces, checked: a malformed list or one whose bytes add up past `maxBytes` is
 * a broken peer (the caller hangs up: it cannot know where the next line starts).
 */
export function blobRefs(msg: unknown, maxBytes: number): BlobRef[] | null {
  if (msg === null || typeof msg !== 'object' || !('$blobs' in msg)) return null;
  const list = (msg as { $blobs: unknown }).$blobs;
  if (!Array.isArray(list) || list.length === 0) throw new Error('$blobs is not a non-empty list');
  let total = 0;
  for (const r of list as Array<Partial<BlobRef>>) {
    const ok =
      r !== null &&
      typeof r === 'object' &&
      Array.isArray(r.at) &&
      r.at.length > 0 &&
      r.at.every((k) => typeof k === 'string' || (Number.isInteger(k) && (k as number) >= 0)) &&
      Number.isSafeInteger(r.bytes) &&
      (r.bytes as number) >= 0;
    if (!ok) throw new Error('$blobs holds an entry that is not {at: [key…], bytes}');
    total += r.bytes as number;
  }
  if (total > maxBytes) throw new Error(`$blobs announces ${total} bytes, over the ${maxBytes} a message may have`);
  return list as BlobRef[];
}

/** Put the strings back: `raw` is every blob's bytes, in the order of `refs`. Mutates and returns `msg`. */
export function restoreBlobs(msg: Record<string, unknown>, refs: BlobRef[], raw: Buffer): Record<string, unknown> {
  let off = 0;
  for (const r of refs) {
    const b = raw.subarray(off, off + r.bytes);
    off += r.bytes;
    let parent: unknown = msg;
    for (const k of r.at.slice(0, -1)) parent = own(parent, k) ? parent[k] : undefined;
    const last = r.at[r.at.length - 1];
    if (!own(parent, last) || typeof parent[last] !== 'string') throw new Error(`$blobs points at ${JSON.stringify(r.at)}, which is not a string of the message`);
    parent[last] = decodePieces(b);
  }
  delete msg.$blobs;
  return msg;
}

/** Own properties only, down to a string: a blob's path never reaches a prototype. */
function own(o: unknown, k: string | number): o is Record<string | number, unknown> {
  return o !== null && typeof o === 'object' && Object.hasOwn(o, k);
}

/** Piece size when a blob becomes a string: small enough for V8's young generation (regular objects). */
const PIECE_BYTES = 64 * 1024;

/**
 * UTF-8 bytes as a string built from PIECE_BYTES pieces (a rope, V8's string for `a + b`). Measured, 1 MiB,
 * p50: one flat string 2.9–3.1 ms (latin1, utf8 or TextDecoder alike: a fresh large allocation, page faults),
 * sixteen 64 KiB pieces 0.05 ms; a consumer that needs it flat later pays the flat cost then, once. ASCII (most
 * text) decodes as latin1, a copy; other text is cut before a UTF-8 lead byte, so no character is split.
 */
function decodePieces(b: Buffer): string {
  if (b.length <= PIECE_BYTES) return decodeText(b);
  const ascii = isAscii(b);
  let s = '';
  for (let at = 0; at < b.length; ) {
    let end = Math.min(at + PIECE_BYTES, b.length);
    if (!ascii) while (end < b.length && end > at + 1 && (b[end] & 0xc0) === 0x80) end--;
    const piece = b.subarray(at, end);
    s += ascii ? piece.toString('latin1') : piece.toString('utf8');
    at = end;
  }
  return s;
}
