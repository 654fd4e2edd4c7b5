// Per-host policy from the Scout config file: what an agent may do on a host, checked in the daemon before any
// remote work. Without a file (or without an entry for a host) everything stays allowed, as before.
//
//   { "hosts": { "db1": { "readOnly": true },
//                "web*": { "deny": ["rm -rf *", "shutdown*"], "roots": ["/srv/app", "/var/log"] },
//                "ci":   { "allow": ["make *", "git status"] } } }
//
// A host takes the entry named by its exact alias, else the first glob entry (file order) matching it; entries
// are not merged. `readOnly` refuses exec, jobs, uploads, writes, shells and forwards; `forwards: false` refuses forwards. `deny` globs refuse a command when they
// match it whole or any of its simple commands (split at ; && || | & and newlines): a guard against mistakes,
// not a sandbox. `allow` globs are the strict form: the command must match one whole, and may not contain shell
// control characters (; & | ` $ ( ) < > newline) that could append something the pattern never vouched for.
// `roots` limit the remote paths Scout reads and writes (fs.*, transfer.*, the cwd of exec and jobs) to these
// prefixes, judged on the path as the remote resolves it (`..`, symlinks); a command itself can still reach
// anything its shell can, which is what `allow` is for.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ScoutError } from '../protocol/errors.js';
import { DIALECTS, compileGlob, isGlob, type Glob } from '../protocol/glob.js';
import type { ApprovalKind, PolicyView } from '../protocol/methods/index.js';

const GlobList = z.array(z.string().min(1).max(4096)).max(1000);

const HostPolicySchema = z
  .object({
    readOnly: z.boolean().optional(),
    /** false: no port forwards to or from this host (read-only hosts get none either). */
    forwards: z.boolean().optional(),
    allow: GlobList.optional(),
    deny: GlobList.optional(),
    /**
     * Ask a person first (approvals): commands matching these globs (matched as deny patterns are), and/or
     * every write, transfer, background job or forward on the host.
     */
    confirm: z
      .object({
        commands: GlobList.optional(),
        writes: z.boolean().optional(),
        transfers: z.boolean().optional(),
        jobs: z.boolean().optional(),
        forwards: z.boolean().optional(),
      })
      .strict()
      .optional(),
    /**
     * sudo on this host (ssh.exec `sudo: true`); without this entry it is refused. `commands`: globs the whole
     * command must match (default every command); `confirm` (default true): a person approves each; `password`:
     * where the password comes from, a file only you can read or a command that prints it (no shell).
     */
    sudo: z
      .object({
        commands: GlobList.optional(),
        confirm: z.boolean().optional(),
        password: z.union([z.object({ file: z.string().min(1).max(4096) }).strict(), z.object({ command: z.array(z.string().min(1).max(4096)).min(1).max(100) }).strict()]).optional(),
      })
      .strict()
      .optional(),
    roots: z
      .array(
        z
          .string()
          .max(4096)
          .refine((r) => r.startsWith('/'), 'roots must be absolute paths'),
      )
      .min(1, 'roots, when given, must list at least one directory')
      .max(100)
      .optional(),
  })
  .strict();

const ConfigSchema = z.object({ hosts: z.record(z.string().min(1).max(255), HostPolicySchema).optional() }).passthrough();

export interface HostPolicy {
  /** The entry that applies (an alias or a glob). */
  entry: string;
  readOnly: boolean;
  forwards: boolean;
  allow: string[];
  deny: string[];
  roots: string[];
  confirm: { commands: Glob[]; writes: boolean; transfers: boolean; jobs: boolean; forwards: boolean };
  sudo?: SudoPolicy;
  /** `allow` and `deny` compiled once, at load: `*` and `?` only (`[` and `\` are common in commands). */
  allowGlobs: Glob[];
  denyGlobs: Glob[];
}

const commandGlob = (g: string): Glob => compileGlob(g, DIALECTS.command);

export interface SudoPolicy {
  commands: Glob[];
  confirm: boolean;
  password?: { file: string } | { command: string[] };
}

/** Resolves a remote path the way the remote kernel would (`..`, symlinks); used only for hosts with roots. */
export type RemoteResolver = (host: string, p: string) => Promise<string>;

/** The config file: `$SCOUT_CONFIG`, else `$XDG_CONFIG_HOME/scout/config.json`, else `~/.config/scout/config.json`. */
export function configPath(env: NodeJS.ProcessEnv, home: string): string {
  if (env.SCOUT_CONFIG) return path.resolve(env.SCOUT_CONFIG);
  return path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'scout', 'config.json');
}

export class Policy {
  private constructor(
    readonly file: string,
    /** False when the file does not exist (everything allowed). */
    readonly present: boolean,
    private readonly entries: Array<[string, HostPolicy]>,
    /** Entry names that are globs (`web*`, `db[12]`: read as fleet patterns are), compiled. */
    private readonly hostGlobs = new Map<string, Glob>(),
  ) {}

  /** Read and validate the file. A missing file is no policy; a malformed one throws an Error naming the field. */
  static load(file: string): Policy {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Policy(file, false, []);
      throw new Error(`cannot read Scout config ${file}: ${(err as Error).message}`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new Error(`Scout config ${file} is not valid JSON: ${(err as Error).message}`);
    }
    const parsed = ConfigSchema.safeParse(raw);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new Error(`Scout config ${file}: '${i.path.join('.')}' ${i.message}`);
    }
    const entries = Object.entries(parsed.data.hosts ?? {}).map(([entry, p]): [string, HostPolicy] => [
      entry,
      {
        entry,
        readOnly: p.readOnly ?? false,
        forwards: p.forwards ?? true,
        allow: p.allow ?? [],
        deny: p.deny ?? [],
        roots: (p.roots ?? []).map((r) => path.posix.normalize(r).replace(/(.)\/$/, '$1')),
        confirm: {
          commands: (p.confirm?.commands ?? []).map(commandGlob),
          writes: p.confirm?.writes ?? false,
          transfers: p.confirm?.transfers ?? false,
          jobs: p.confirm?.jobs ?? false,
          forwards: p.confirm?.forwards ?? false,
        },
        ...(p.sudo ? { sudo: { commands: (p.sudo.commands ?? ['*']).map(commandGlob), confirm: p.sudo.confirm ?? true, ...(p.sudo.password ? { password: p.sudo.password } : {}) } } : {}),
        allowGlobs: (p.allow ?? []).map(commandGlob),
        denyGlobs: (p.deny ?? []).map(commandGlob),
      },
    ]);
    const globs = entries.flatMap(([name]): Array<[string, Glob]> => {
      try {
        return isGlob(name, HOST_GLOB) ? [[name, compileGlob(name, HOST_GLOB)]] : [];
      } catch {
        // Refused, never read as text: `db[z-a]` would protect no host and say nothing.
        throw new Error(`Scout config ${file}: host entry '${name}' is not a valid pattern (a class such as [z-a] is reversed); write the aliases it should cover, e.g. db[1-2] or db*`);
      }
    });
    return new Policy(file, true, entries, new Map(globs));
  }

  /** The policy for a host alias, or undefined when it is unrestricted. */
  forHost(host: string): HostPolicy | undefined {
    const exact = this.entries.find(([name]) => name === host);
    const hit = exact ?? this.entries.find(([name]) => this.hostGlobs.get(name)?.test(host));
    if (!hit) return undefined;
    const p = hit[1];
    const c = p.confirm;
    return p.readOnly || !p.forwards || p.allow.length || p.deny.length || p.roots.length || c.commands.length || c.writes || c.transfers || c.jobs || c.forwards || p.sudo ? p : undefined;
  }

  /**
   * Why `what` (a command, a path, a forward) of this kind on `host` needs a person's approval, or undefined
   * when it does not. A background job's command is judged by the command rules as well as by `jobs`.
   */
  confirmReason(host: string, kind: ApprovalKind, what: string): string | undefined {
    const c = this.forHost(host)?.confirm;
    if (!c) return undefined;
    if (kind === 'command' || kind === 'job') {
      const cmd = what.trim();
      const ranges = commandRanges(cmd);
      const hit = c.commands.find((g) => g.test(cmd) || g.testAnyRange(cmd, ranges))?.source;
      if (hit !== undefined) return `commands on ${host} matching '${hit}' need a person's approval`;
      return kind === 'job' && c.jobs ? `background jobs on ${host} need a person's approval` : undefined;
    }
    if (kind === 'sudo') return this.forHost(host)?.sudo?.confirm === false ? undefined : `sudo on ${host} needs a person's approval`;
    if (kind === 'write' && c.writes) return `writes on ${host} need a person's approval`;
    if (kind === 'transfer' && c.transfers) return `transfers to and from ${host} need a person's approval`;
    if (kind === 'forward' && c.forwards) return `port forwards with ${host} need a person's approval`;
    return undefined;
  }

  /** Restricted hosts among `aliases`, for status. */
  view(aliases: string[]): PolicyView[] {
    return aliases.flatMap((host) => {
      const p = this.forHost(host);
      if (!p) return [];
      const c = p.confirm;
      const confirm = [...(c.commands.length ? ['commands'] : []), ...(['writes', 'transfers', 'jobs', 'forwards'] as const).filter((k) => c[k]), ...(p.sudo?.confirm ? ['sudo'] : [])];
      return [{ host, entry: p.entry, readOnly: p.readOnly, allow: p.allow.length, deny: p.deny.length, roots: p.roots, confirm, sudo: p.sudo !== undefined }];
    });
  }

  /** May `command` run on `host` (ssh.exec, fleet.exec, jobs.start)? Throws POLICY_DENIED otherwise. */
  checkExec(host: string, command: string): void {
    const p = this.forHost(host);
    if (!p) return;
    if (p.readOnly) throw denied(host, p, `host ${host} is read-only by policy: commands are not run`, { reason: 'read-only' });
    const cmd = command.trim();
    const ranges = commandRanges(cmd);
    const hit = p.denyGlobs.find((g) => g.test(cmd) || g.testAnyRange(cmd, ranges))?.source;
    if (hit !== undefined) throw denied(host, p, `command refused by policy on ${host}: it matches deny pattern '${hit}'`, { reason: 'deny', pattern: hit });
    if (p.allow.length) {
      if (SHELL_CONTROL.test(cmd)) {
        throw denied(host, p, `command refused by policy on ${host}: with an allow list, commands may not contain ; & | \` $ ( ) < > or newlines`, { reason: 'shell-control' });
      }
      if (!p.allowGlobs.some((g) => g.test(cmd))) throw denied(host, p, `command refused by policy on ${host}: it matches no allow pattern`, { reason: 'not-allowed' });
    }
  }

  /** May `command` run through sudo on `host`? Refused unless its policy has a `sudo` entry whose commands match. */
  checkSudo(host: string, command: string): SudoPolicy {
    const p = this.forHost(host);
    if (!p?.sudo) throw new ScoutError('POLICY_DENIED', `sudo is not allowed on ${host} by policy (its entry has no "sudo")`, { host, ...(p ? { policy: p.entry } : {}), reason: 'sudo' });
    const cmd = command.trim();
    if (!p.sudo.commands.some((g) => g.test(cmd))) throw denied(host, p, `sudo on ${host}: the command matches none of its sudo.commands patterns`, { reason: 'sudo' });
    return p.sudo;
  }

  /**
   * May an interactive session open on `host` (shell.open)? What a person types cannot be checked against
   * allow or deny patterns, so a host with any command rule, or read-only, gets none.
   */
  checkShell(host: string): void {
    const p = this.forHost(host);
    if (!p) return;
    if (p.readOnly) throw denied(host, p, `host ${host} is read-only by policy: no interactive sessions`, { reason: 'read-only' });
    if (p.allow.length || p.deny.length)
      throw denied(host, p, `no interactive sessions on ${host}: its policy has command rules, and what is typed in a session cannot be checked against them`, { reason: 'shell' });
  }

  /** May a port forward go to or from `host` (forward.open)? Not on read-only hosts, nor with `forwards: false`. */
  checkForward(host: string): void {
    const p = this.forHost(host);
    if (!p) return;
    if (p.readOnly) throw denied(host, p, `host ${host} is read-only by policy: no port forwards`, { reason: 'read-only' });
    if (!p.forwards) throw denied(host, p, `port forwards to and from ${host} are off by policy (forwards: false)`, { reason: 'forwards' });
  }

  /** May `host` be written to (uploads, fs.write, the destination of a copy)? */
  checkWrite(host: string, what: string): void {
    const p = this.forHost(host);
    if (p?.readOnly) throw denied(host, p, `host ${host} is read-only by policy: ${what} refused`, { reason: 'read-only' });
  }

  /**
   * Check a remote path against the host's roots, resolved on the remote side. Returns the resolved path
   * (or `p` unchanged when the host has no roots: no extra round trip).
   */
  async checkPath(host: string, p: string, resolve: RemoteResolver): Promise<string> {
    const pol = this.forHost(host);
    if (!pol?.roots.length) return p;
    const real = await resolveRemote(p, (q) => resolve(host, q));
    for (const root of pol.roots) {
      const realRoot = await resolve(host, root).catch(() => root);
      if (inside(real, realRoot)) return real;
    }
    throw denied(host, pol, `path ${p} on ${host} is outside the roots allowed by policy (${pol.roots.join(', ')})${real !== p ? `: it resolves to ${real}` : ''}`, {
      reason: 'outside-roots',
      path: p,
      resolved: real,
      roots: pol.roots,
    });
  }

  /** The cwd an exec or job runs in: checked against roots; the first root when none is given and roots are set. */
  async execCwd(host: string, cwd: string | undefined, resolve: RemoteResolver): Promise<string | undefined> {
    const pol = this.forHost(host);
    if (!pol?.roots.length) return cwd;
    return this.checkPath(host, cwd ?? pol.roots[0], resolve);
  }
}

/** Characters that let one command line carry another (or redirect output to a file). */
const SHELL_CONTROL = /[;&|`$()<>\n\r]/;

/**
 * Where the simple commands of a command line are: [start, end) pairs, trimmed, split at ; && || | & newline
 * $( ` ( ). One pass by hand and no substrings: `String.split` with the equivalent RegExp took 138 ms of the
 * daemon's thread for a 1 MiB command of 270,000 pieces.
 */
export function commandRanges(cmd: string): Int32Array {
  // Non-empty pieces are separated by at least one character, so there are at most (n + 1) / 2 of them.
  const out = new Int32Array(cmd.length + 2);
  let count = 0;
  let start = 0;
  for (let i = 0; i <= cmd.length; i++) {
    const c = i < cmd.length ? cmd.charCodeAt(i) : 0x3b; // the end closes the last piece
    // ; \n ` ( ) | &, and `$(` as one separator (`&&` and `||` are two separators with nothing between).
    const dollarParen = c === 0x24 && cmd.charCodeAt(i + 1) === 0x28;
    if (!(dollarParen || c === 0x3b || c === 0x0a || c === 0x60 || c === 0x28 || c === 0x29 || c === 0x7c || c === 0x26)) continue;
    let a = start;
    let b = i;
    while (a < b && isSpace(cmd.charCodeAt(a))) a++;
    while (b > a && isSpace(cmd.charCodeAt(b - 1))) b--;
    if (a < b) {
      out[count++] = a;
      out[count++] = b;
    }
    if (dollarParen) i++;
    start = i + 1;
  }
  return out.subarray(0, count);
}

/** What String.prototype.trim removes (ECMAScript WhiteSpace and LineTerminator). */
function isSpace(c: number): boolean {
  return (
    c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/** Policy entry names are host patterns, read like fleet patterns; a class that is not one is text. */
const HOST_GLOB = DIALECTS.hostSetting;

function inside(p: string, root: string): boolean {
  return root === '/' || p === root || p.startsWith(root + '/');
}

/**
 * Resolve like realpath(3), also for a path that does not exist yet (an upload's target): the deepest existing
 * ancestor is resolved remotely and the missing rest appended; missing components cannot be symlinks, so
 * treating their `..` lexically is exact.
 */
export async function resolveRemote(p: string, realpath: (p: string) => Promise<string>): Promise<string> {
  try {
    return await realpath(p);
  } catch (err) {
    if (!(err instanceof ScoutError && err.code === 'REMOTE_NOT_FOUND')) throw err;
    const parent = path.posix.dirname(p);
    if (parent === p) throw err;
    const base = path.posix.basename(p);
    const realParent = await resolveRemote(parent, realpath);
    return base === '..' ? path.posix.dirname(realParent) : base === '.' ? realParent : path.posix.join(realParent, base);
  }
}

function denied(host: string, p: HostPolicy, message: string, data: Record<string, unknown>): ScoutError {
  return new ScoutError('POLICY_DENIED', message, { host, policy: p.entry, ...data });
}
