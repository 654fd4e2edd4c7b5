// API keys for scout-mcp --http: a file of hashed keys, each with a name and its own rights (hosts, read-only,
// tools, rate). The secret is shown once by `scoutctl keys add` and never stored: only its SHA-256 (a key is 32
// random bytes, so a fast hash is enough; there is nothing to guess). Presented keys are compared against every
// stored hash in constant time. scout-mcp re-reads the file when it changes, so `scoutctl keys remove` revokes at once.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { commaList } from '../protocol/values.js';
import { z } from 'zod';

/** `$SCOUT_HTTP_KEYS`, else `$XDG_CONFIG_HOME/scout/http-keys.json`, else `~/.config/scout/http-keys.json`. */
export function keysPath(env: NodeJS.ProcessEnv): string {
  if (env.SCOUT_HTTP_KEYS) return path.resolve(env.SCOUT_HTTP_KEYS);
  return path.join(env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config'), 'scout', 'http-keys.json');
}

const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a key name is 1-64 letters, digits, dots, dashes or underscores');

const KeyEntry = z
  .object({
    name: Name,
    /** `sha256:` and the hex digest of the secret. */
    hash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
    /** Aliases or fleet patterns this key may reach; `["*"]` is every host. */
    hosts: z.array(z.string().min(1).max(255)).max(1000),
    readOnly: z.boolean(),
    /** MCP tools it is offered; absent: all of them. */
    tools: z.array(z.string().min(1).max(100)).max(100).optional(),
    /** Its own rate, instead of SCOUT_RATE_LIMIT_PER_MINUTE / SCOUT_RATE_LIMIT_BURST. */
    rate: z
      .object({ perMinute: z.number().int().min(0).max(1_000_000), burst: z.number().int().min(1).max(1_000_000) })
      .strict()
      .optional(),
    created: z.string().optional(),
  })
  .strict();
export type KeyEntry = z.infer<typeof KeyEntry>;

const KeyFile = z.object({ keys: z.array(KeyEntry).max(10_000) }).strict();

/** Who made a request: an API key's entry, as authenticated. */
export type KeyHolder = Omit<KeyEntry, 'hash'>;

export function hashSecret(secret: string): string {
  return `sha256:${crypto.createHash('sha256').update(secret, 'utf8').digest('hex')}`;
}

/** A new secret: `scout_` and 32 random bytes, base64url (43 characters). */
export function newSecret(): string {
  return `scout_${crypto.randomBytes(32).toString('base64url')}`;
}

/** Read the key file; absent is no keys. A file others may write is refused (it decides who reaches what). */
export function readKeys(file: string): KeyEntry[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  if ((st.mode & 0o022) !== 0 || (typeof process.getuid === 'function' && st.uid !== process.getuid()))
    throw new Error(`${file} must belong to you and be writable by you alone (chmod 600 ${file}): it decides who reaches which host`);
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = KeyFile.safeParse(data);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`${file}: ${i.path.join('.') || 'the file'}: ${i.message}`);
  }
  const names = new Set<string>();
  for (const k of parsed.data.keys) {
    if (names.has(k.name)) throw new Error(`${file}: the key name '${k.name}' is used twice`);
    names.add(k.name);
  }
  return parsed.data.keys;
}

/** Write the key file atomically, 0600 in a 0700 directory. */
export function writeKeys(file: string, keys: KeyEntry[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  fs.renameSync(tmp, file);
}

/** The keys of one file, re-read when the file changes. */
export class KeyStore {
  private keys: Array<{ entry: KeyEntry; hash: Buffer }> = [];
  private seen = '';

  constructor(
    readonly file: string,
    /** Keys from SCOUT_API_KEYS (the Python Scout MCP's way): named env-1, env-2…, every host, read-write. */
    private readonly envKeys: KeyEntry[] = [],
    private readonly onReload: (count: number, err?: Error) => void = () => {},
  ) {
    this.refresh(true);
  }

  /** How many keys there are now (file and environment). */
  get size(): number {
    this.refresh();
    return this.keys.length;
  }

  /** The holder of `secret`, or undefined. Every stored hash is compared, in constant time each. */
  find(secret: string): KeyHolder | undefined {
    this.refresh();
    const presented = Buffer.from(hashSecret(secret));
    let found: KeyEntry | undefined;
    for (const k of this.keys) if (k.hash.length === presented.length && crypto.timingSafeEqual(k.hash, presented)) found = k.entry;
    if (!found) return undefined;
    const { hash: _hash, ...holder } = found;
    return holder;
  }

  /** One stat per request (microseconds): a key added or removed counts from the next request. */
  private refresh(first = false): void {
    let stamp = 'absent';
    try {
      const st = fs.statSync(this.file);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}:${st.mode}`;
    } catch {}
    if (stamp === this.seen) return;
    this.seen = stamp;
    try {
      const entries = [...readKeys(this.file), ...this.envKeys];
      this.keys = entries.map((entry) => ({ entry, hash: Buffer.from(entry.hash) }));
      this.onReload(this.keys.length);
    } catch (err) {
      // At start-up a bad file stops the server; later the file's keys stop working until it is mended (a key
      // being revoked by a hand edit must not live on because the edit was botched), and the reason is logged.
      if (first) throw err;
      this.keys = this.envKeys.map((entry) => ({ entry, hash: Buffer.from(entry.hash) }));
      this.onReload(this.keys.length, err as Error);
    }
  }
}

/** SCOUT_API_KEYS (comma-separated secrets), as the Python Scout MCP reads it: each becomes env-N, every host. */
export function envKeys(env: NodeJS.ProcessEnv): KeyEntry[] {
  return commaList(env.SCOUT_API_KEYS).map((s, i) => ({ name: `env-${i + 1}`, hash: hashSecret(s), hosts: ['*'], readOnly: false }));
}
