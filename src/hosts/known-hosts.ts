// OpenSSH known_hosts semantics (hostfile.c / match.c), checked against ssh-keygen in the tests.
//
// A line is `[@marker] patterns keytype base64 [comment]`. Patterns are a comma list of names with `*`/`?`
// wildcards and `!` negation, matched case-insensitively against `host` or `[host]:port` (port ≠ 22), or one
// hashed `|1|salt|hmac` entry (HMAC-SHA1 of that same name keyed with the salt).
//
// Verdict for an offered key, over the lines whose patterns match the host:
//   1. an `@revoked` line carrying the key          → revoked (wins over everything)
//   2. a plain line carrying the key                → ok
//   3. plain lines exist, none carries the key      → mismatch. Stricter than OpenSSH, which calls a host
//      known only under *other* key types "new": accepting that under accept-new would let a
//      man-in-the-middle pick a key type the user never verified. Callers avoid the false alarm by offering
//      knownKeyTypes() first in the host key algorithm list, as ssh does.
//   4. only `@cert-authority` lines match           → cert-authority-unsupported (Scout does not verify host
//      certificates; saying so beats calling a CA-trusted host "unknown")
//   5. nothing matches                              → unknown
// The key type always comes from the blob itself (its first length-prefixed string), never from the caller.
// Malformed lines (bad base64, type field disagreeing with the blob, unknown marker) are skipped, as ssh does.
import { matchOpensshList } from '../protocol/glob.js';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { constants as fsc, promises as fsp, readFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

export type HostKeyVerdict =
  | { status: 'ok' }
  | { status: 'unknown' }
  | { status: 'mismatch'; expected: string[] /* SHA256 fingerprints of keys on file for this host */ }
  | { status: 'revoked' }
  | { status: 'cert-authority-unsupported' };

type Marker = 'revoked' | 'cert-authority' | undefined;

interface KnownHostLine {
  marker: Marker;
  /** The patterns field as written (a comma list, or one `|1|salt|hash`). */
  patterns: string;
  keyType: string;
  blob: Buffer;
  source: string;
  line: number;
}

/** 'SHA256:' + unpadded base64 of sha256(blob), exactly as `ssh-keygen -l -E sha256` prints it. */
export function fingerprint(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** The name a host is filed under: `[host]:port`, or plain `host` for port 22 (OpenSSH put_host_port). */
export function hostPatternName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The key type inside an SSH wire-format public key blob; '' when the blob is too short to hold one. */
export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) return '';
  const len = blob.readUInt32BE(0);
  if (len === 0 || 4 + len > blob.length) return '';
  return blob.subarray(4, 4 + len).toString('latin1');
}

export class KnownHosts {
  private constructor(private readonly lines: KnownHostLine[]) {}

  /** Reads every file in order; a missing file counts as empty, an unreadable one throws. */
  static load(files: string[]): KnownHosts {
    const lines: KnownHostLine[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') continue;
        // The errno stays on the error: EMFILE means scoutd is out of descriptors, not a broken file.
        throw Object.assign(new Error(`cannot read known_hosts file ${file}: ${(err as Error).message}`), { code });
      }
      lines.push(...parseLines(text, file));
    }
    return new KnownHosts(lines);
  }

  static parse(text: string, source = '<text>'): KnownHosts {
    return new KnownHosts(parseLines(text, source));
  }

  /** `keyType` is accepted for symmetry with ssh2's callback but not trusted: the blob's own type is used. */
  check(host: string, port: number, _keyType: string, keyBlob: Buffer): HostKeyVerdict {
    const lines = this.linesFor(host, port);
    const sameKey = (l: KnownHostLine): boolean => l.blob.equals(keyBlob);
    if (lines.some((l) => l.marker === 'revoked' && sameKey(l))) return { status: 'revoked' };
    const plain = lines.filter((l) => l.marker === undefined);
    if (plain.some(sameKey)) return { status: 'ok' };
    if (plain.length > 0) return { status: 'mismatch', expected: unique(plain.map((l) => fingerprint(l.blob))) };
    if (lines.some((l) => l.marker === 'cert-authority')) return { status: 'cert-authority-unsupported' };
    return { status: 'unknown' };
  }

  /** Key types on file (plain lines) for this host, in file order, for host key algorithm preference. */
  knownKeyTypes(host: string, port: number): string[] {
    return unique(
      this.linesFor(host, port)
        .filter((l) => l.marker === undefined)
        .map((l) => l.keyType),
    );
  }

  private linesFor(host: string, port: number): KnownHostLine[] {
    // ssh looks hosts up lowercased (its hostname is lowercased after config processing).
    const name = hostPatternName(host.toLowerCase(), port);
    return this.lines.filter((l) => patternsMatch(l.patterns, name));
  }
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

// ---------------------------------------------------------------------------------------------------------
// Parsing.

function parseLines(text: string, source: string): KnownHostLine[] {
  const out: KnownHostLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const parsed = parseLine(raw, source, i + 1);
    if (parsed) out.push(parsed);
  });
  return out;
}

function parseLine(raw: string, source: string, line: number): KnownHostLine | undefined {
  const fields = raw.trim().split(/[ \t]+/);
  if (fields[0] === '' || fields[0].startsWith('#')) return undefined;
  let marker: Marker;
  if (fields[0].startsWith('@')) {
    const m = fields.shift();
    if (m === '@revoked') marker = 'revoked';
    else if (m === '@cert-authority') marker = 'cert-authority';
    else return undefined; // unknown marker: ssh skips the line
  }
  const [patterns, keyType, base64] = fields;
  if (!patterns || !keyType || !base64) return undefined;
  const blob = decodeBlob(base64);
  if (!blob || keyTypeOfBlob(blob) !== keyType) return undefined;
  return { marker, patterns, keyType, blob, source, line };
}

function decodeBlob(base64: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const blob = Buffer.from(base64, 'base64');
  return blob.length > 0 ? blob : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Matching.

function patternsMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith('|')) return hashedMatch(patterns, name);
  return patternListMatches(patterns, name);
}

/** OpenSSH match_hostname: case-insensitive; a matching negated pattern excludes the line outright. */
function patternListMatches(list: string, name: string): boolean {
  return matchOpensshList(list.toLowerCase().split(','), name);
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, as written by `ssh-keygen -H` / HashKnownHosts. */
function hashedMatch(field: string, name: string): boolean {
  const parts = field.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2], 'base64');
  const want = Buffer.from(parts[3], 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

// ---------------------------------------------------------------------------------------------------------
// Appending.

/**
 * Append `[host]:port type base64` to `file`.
 *
 * Concurrency: one `write` on an O_APPEND descriptor, so entries from several processes land whole (the kernel
 * sets the offset and writes under the inode lock; a line is far below any split size).
 *
 * Symlinks: `file` itself may be a symlink only if the link is owned by us — that is the user's own
 * dotfiles setup (known_hosts → a managed file), while a link planted by someone else (say in a shared
 * directory named by SCOUT_KNOWN_HOSTS) would redirect our writes. Whatever we open must be a regular file
 * owned by us (checked on the open descriptor, so it cannot be swapped in between). New files are 0600 and a
 * missing parent directory is created 0700.
 */
export async function appendKnownHost(file: string, host: string, port: number, keyType: string, keyBlob: Buffer): Promise<void> {
  const blobType = keyTypeOfBlob(keyBlob);
  if (!blobType) throw new Error(`refusing to record host key for ${host}: not an SSH public key blob`);
  if (keyType && keyType !== blobType) {
    throw new Error(`refusing to record host key for ${host}: key type ${keyType} does not match the key itself (${blobType})`);
  }
  await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const handle = await openForAppend(file);
  try {
    const prefix = (await endsWithNewline(handle)) ? '' : '\n';
    const entry = `${prefix}${hostPatternName(host, port)} ${blobType} ${keyBlob.toString('base64')}\n`;
    await handle.write(entry);
  } finally {
    await handle.close();
  }
}

async function openForAppend(file: string): Promise<FileHandle> {
  const uid = process.geteuid?.();
  const link = await fsp.lstat(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  const isLink = link?.isSymbolicLink() ?? false;
  if (isLink && uid !== undefined && link!.uid !== uid) {
    throw new Error(`refusing to write known_hosts through ${file}: it is a symlink owned by uid ${link!.uid}, not by us`);
  }
  const flags = fsc.O_RDWR | fsc.O_APPEND | fsc.O_CREAT | (isLink ? 0 : fsc.O_NOFOLLOW);
  const handle = await fsp.open(file, flags, 0o600);
  const st = await handle.stat();
  if (!st.isFile() || (uid !== undefined && st.uid !== uid)) {
    await handle.close();
    throw new Error(`refusing to write known_hosts ${file}: not a regular file owned by us`);
  }
  return handle;
}

/** True for an empty file or one ending in '\n', so an entry never glues onto a hand-edited last line. */
async function endsWithNewline(handle: FileHandle): Promise<boolean> {
  const { size } = await handle.stat();
  if (size === 0) return true;
  const last = Buffer.alloc(1);
  await handle.read(last, 0, 1, size - 1);
  return last[0] === 0x0a;
}
