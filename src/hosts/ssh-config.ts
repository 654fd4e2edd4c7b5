// Host resolution from an OpenSSH client config, with OpenSSH's own semantics (checked against `ssh -G` in
// the tests). The `ssh-config` package is used as the lexer only (`SSHConfig.parse`): its `compute()` is not
// right for us, because it
//   - ignores `Include` (it is kept as an ordinary directive),
//   - lets `?` match zero characters (`bar?` matches `bar`; OpenSSH requires exactly one),
//   - runs `Match exec` commands through a shell by default,
//   - matches `Match host` against a hostname it only updates when the keyword is spelt exactly `HostName`.
// So resolution below follows readconf.c instead: lines are read in order, a `Host`/`Match` line switches the
// "active" flag, the first value obtained for an option wins (IdentityFile accumulates), and `Include` reads
// files in place, inheriting the active flag (an Include inside a non-matching block can never activate).
//
// Deliberately not supported (documented so nobody is surprised):
//   - `Match` criteria `exec`, `canonical`, `final`, `localnetwork`, `address`, `localaddress`, `localport`,
//     `rport`, `tagged`: such a block never matches. `exec` is never run (no shell from a config file);
//     there is no canonicalization or final re-parse pass. `all`, `host`, `originalhost`, `user`,
//     `localuser` (and their `!` negations) are evaluated.
//   - Unknown keywords are ignored, not fatal (OpenSSH refuses them unless listed in IgnoreUnknown).
//   - The system-wide /etc/ssh/ssh_config is not read; `~user/` paths are left as written; Include files
//     are not permission-checked.
//   - `UserKnownHostsFile none` resolves to ['/dev/null'] so "no file" stays distinguishable from "not set".
//   - A relative IdentityFile is made absolute against the home directory (OpenSSH uses its working directory,
//     which for a daemon is meaningless).
//   - `Ciphers`, `MACs`, `KexAlgorithms`, `HostKeyAlgorithms` are kept as written (first value wins) and
//     assembled by `assembleAlgorithms` (kex.c's kex_assemble_names) against the SSH library's lists, not
//     OpenSSH's: `+`/`-`/`^` change what ssh2 would offer. OpenSSH refuses at load a name it does not know;
//     here a name is judged at connect, per host, against what ssh2 supports (src/ssh/algorithms.ts): an
//     unsupported one is dropped with a warning, and a list left with nothing ssh2 supports fails that
//     host's connect (CONFIG_INVALID) instead of the whole file. Only syntax (`!` outside a `-` list, more
//     than one argument) fails at load, as in ssh. With HostKeyAlgorithms set, ssh offers the list as is;
//     Scout still puts the algorithms of key types known_hosts holds for the host first (src/daemon/dialer.ts).
import { globIn, matchOpensshList, type Glob } from '../protocol/glob.js';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SSHConfig, { LineType, type Line } from 'ssh-config';

export type StrictMode = 'yes' | 'accept-new' | 'no';

export interface HostEntry {
  /** What was asked for: the alias as written in `Host` (or a ProxyJump hop such as `user@host:port`). */
  name: string;
  /** HostName (with %h expanded) or the alias, lowercased as OpenSSH does. */
  hostname: string;
  /** User, else the local user name passed in (never root by default). */
  user: string;
  /** Port, else 22. */
  port: number;
  /** IdentityFile values, ~ and %-tokens expanded, absolute; [] when none set. */
  identityFiles: string[];
  identitiesOnly: boolean;
  /** IdentityAgent: a socket path; '' means "no agent" (`none`, or an unset environment variable). */
  identityAgent?: string;
  /** ProxyJump hops in order; undefined when absent or `none`. */
  proxyJump?: string[];
  /** ProxyCommand as written, when it won over ProxyJump; Scout cannot run it, so callers should refuse. */
  proxyCommand?: string;
  connectTimeoutMs?: number;
  serverAliveIntervalMs?: number;
  serverAliveCountMax?: number;
  strictHostKeyChecking?: StrictMode;
  /** UserKnownHostsFile list, expanded; [] when not set. */
  userKnownHostsFiles: string[];
  hostKeyAlias?: string;
  /** Ciphers, MACs, KexAlgorithms, HostKeyAlgorithms as written; absent when none is set. */
  algorithms?: AlgorithmSpecs;
}

/**
 * An algorithm keyword's value as written: a comma-separated list of names (patterns with `*`/`?` allowed),
 * replacing the defaults, or one starting with `+` (append to the defaults), `-` (remove matching names from
 * them) or `^` (put first). `assembleAlgorithms` turns it into a list.
 */
export interface AlgorithmSpecs {
  ciphers?: string;
  macs?: string;
  kexAlgorithms?: string;
  hostKeyAlgorithms?: string;
}

/** ssh_config keyword (lowercase) → AlgorithmSpecs field. */
const ALGORITHM_KEYWORDS: Record<string, keyof AlgorithmSpecs> = {
  ciphers: 'ciphers',
  macs: 'macs',
  kexalgorithms: 'kexAlgorithms',
  hostkeyalgorithms: 'hostKeyAlgorithms',
};

export interface SshConfigOptions {
  home: string;
  localUser: string;
  /** Environment for IdentityAgent `$VAR`/`SSH_AUTH_SOCK` (default: process.env). */
  env?: Record<string, string | undefined>;
}

export interface SshHosts {
  /** Concrete aliases (no wildcard/negated patterns), in file order, de-duplicated; wildcard blocks only contribute settings. */
  aliases: string[];
  /** Resolve an alias (any string; a name not listed as alias still resolves like `ssh name` would, but callers decide whether to allow it). */
  resolve(alias: string): HostEntry;
  /** Every file read (main + includes), for reload/watch. */
  files: string[];
}

/** OpenSSH's READCONF_MAX_DEPTH: also what stops a file that includes itself. */
const MAX_INCLUDE_DEPTH = 16;
const DEFAULT_PORT = 22;

interface Loc {
  file: string;
  line: number;
}
type Node =
  | ({ kind: 'host'; patterns: string[] } & Loc)
  | ({ kind: 'match'; args: string[] } & Loc)
  | ({ kind: 'include'; files: ConfigFile[] } & Loc)
  | ({ kind: 'option'; key: string; args: string[] } & Loc);
interface ConfigFile {
  path: string;
  nodes: Node[];
}

interface Ctx extends SshConfigOptions {
  /** Directory that relative Include paths are taken from (~/.ssh for a user config). */
  includeDir: string;
  /** Every file read, in order. */
  files: string[];
}

export function loadSshConfig(file: string, opts: SshConfigOptions): SshHosts {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (isMissing(err)) return buildHosts([], [], opts);
    throw new Error(`cannot read ssh config ${file}: ${(err as Error).message}`);
  }
  const ctx: Ctx = { ...opts, includeDir: path.join(opts.home, '.ssh'), files: [file] };
  const root = parseFile(text, file, ctx, 0);
  return buildHosts(root.nodes, ctx.files, opts);
}

export function parseSshConfigText(text: string, opts: SshConfigOptions & { baseDir?: string }): SshHosts {
  const ctx: Ctx = { ...opts, includeDir: opts.baseDir ?? path.join(opts.home, '.ssh'), files: [] };
  const root = parseFile(text, '<text>', ctx, 0);
  return buildHosts(root.nodes, ctx.files, opts);
}

function buildHosts(nodes: Node[], files: string[], opts: SshConfigOptions): SshHosts {
  return {
    aliases: concreteAliases(nodes),
    files,
    resolve: (alias) => resolveHost(nodes, alias, opts),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Reading: text → nodes (with Include expanded in place), validated so a bad value fails at load, like ssh.

function parseFile(text: string, file: string, ctx: Ctx, depth: number): ConfigFile {
  if (depth > MAX_INCLUDE_DEPTH) {
    throw new Error(`${file}: too many nested Include levels (over ${MAX_INCLUDE_DEPTH}); is a file including itself?`);
  }
  let parsed: SSHConfig;
  try {
    parsed = SSHConfig.parse(text);
  } catch (err) {
    throw locateParseError(text, file, err);
  }
  const nodes: Node[] = [];
  let newlines = 0;
  // Walk in the order the text was written (a section line, then its body) counting newlines, because the
  // parser keeps no line numbers and errors should name one.
  const visit = (line: Line): void => {
    newlines += countNewlines(line.before);
    if (line.type === LineType.DIRECTIVE) {
      const node = toNode(line.param, valuesOf(line.value), { file, line: newlines + 1 }, ctx, depth);
      if (node) nodes.push(node);
    }
    newlines += countNewlines(line.after);
    if ('config' in line) line.config.forEach(visit);
  };
  parsed.forEach(visit);
  return { path: file, nodes };
}

function toNode(param: string, args: string[], loc: Loc, ctx: Ctx, depth: number): Node | undefined {
  const key = param.toLowerCase();
  if (args.length === 0 || args[0] === '') throw configError(loc, `${param} needs a value`);
  if (key === 'host') return { kind: 'host', patterns: args, ...loc };
  if (key === 'match') return { kind: 'match', args, ...loc };
  if (key === 'include') return { kind: 'include', files: readIncludes(args, loc, ctx, depth), ...loc };
  const parse = OPTION_PARSERS[key];
  if (parse) {
    try {
      parse(args);
    } catch (err) {
      throw configError(loc, `${param}: ${(err as Error).message}`);
    }
  }
  return { kind: 'option', key, args, ...loc };
}

function readIncludes(args: string[], loc: Loc, ctx: Ctx, depth: number): ConfigFile[] {
  const out: ConfigFile[] = [];
  for (const arg of args) {
    const expanded = expandTilde(arg, ctx.home);
    const pattern = path.isAbsolute(expanded) ? expanded : path.join(ctx.includeDir, expanded);
    for (const file of globFiles(pattern)) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw configError(loc, `cannot read included file ${file}: ${(err as Error).message}`);
      }
      ctx.files.push(file);
      out.push(parseFile(text, file, ctx, depth + 1));
    }
  }
  return out;
}

function valuesOf(value: string | { val: string }[]): string[] {
  return typeof value === 'string' ? [value] : value.map((v) => v.val);
}

/** The parser's errors carry no position: find the first line that fails on its own. */
function locateParseError(text: string, file: string, err: unknown): Error {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    try {
      SSHConfig.parse(lines[i]);
    } catch (lineErr) {
      return new Error(`${file} line ${i + 1}: cannot parse '${lines[i].trim()}': ${(lineErr as Error).message}`);
    }
  }
  return new Error(`${file}: cannot parse ssh config: ${(err as Error).message}`);
}

function configError(loc: Loc, message: string): Error {
  return new Error(`${loc.file} line ${loc.line}: ${message}`);
}

function countNewlines(s: string): number {
  let n = 0;
  for (const ch of s) if (ch === '\n') n++;
  return n;
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

// ---------------------------------------------------------------------------------------------------------
// Include globbing, as glob(3) does it for OpenSSH: `*`, `?`, `[...]` per path segment, dot files only when
// the segment pattern starts with a dot, results sorted, no match is not an error.

function globFiles(pattern: string): string[] {
  const segments = pattern.split('/').filter((s) => s !== '');
  let candidates = ['/'];
  for (const segment of segments) {
    candidates = candidates.flatMap((dir) => expandSegment(dir, segment));
    if (candidates.length === 0) return [];
  }
  return candidates.filter(isRegularFile).sort();
}

function expandSegment(dir: string, segment: string): string[] {
  if (!/[*?[]/.test(segment)) return [path.join(dir, segment)];
  const re = segmentGlob(segment);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => re.test(n) && (segment.startsWith('.') || !n.startsWith('.'))).map((n) => path.join(dir, n));
}

function segmentGlob(segment: string): Glob {
  return globIn('file', segment);
}

function isRegularFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Listing.

function concreteAliases(nodes: Node[]): string[] {
  const seen = new Set<string>();
  const walk = (list: Node[]): void => {
    for (const node of list) {
      if (node.kind === 'include') for (const f of node.files) walk(f.nodes);
      if (node.kind !== 'host') continue;
      for (const p of node.patterns) if (!/[*?]/.test(p) && !p.startsWith('!')) seen.add(p);
    }
  };
  walk(nodes);
  return [...seen];
}

// ---------------------------------------------------------------------------------------------------------
// Resolution: one pass over the nodes, as readconf.c does it.

/** Raw first values, keyed by lowercase keyword, plus the accumulated IdentityFiles. */
interface Settings {
  first: Map<string, string[]>;
  identityFiles: string[];
}

interface Target {
  /** The host part, matched against `Host` patterns. */
  alias: string;
  user?: string;
  port?: number;
}

function resolveHost(nodes: Node[], name: string, opts: SshConfigOptions): HostEntry {
  const target = parseTarget(name);
  const settings: Settings = { first: new Map(), identityFiles: [] };
  // A user or port given with the name works like `ssh -l user -p port`: it beats the config.
  if (target.user !== undefined) settings.first.set('user', [target.user]);
  if (target.port !== undefined) settings.first.set('port', [String(target.port)]);
  applyNodes(nodes, { active: true, neverMatch: false }, target.alias, settings, opts);
  return toEntry(name, target.alias, settings, opts);
}

/** `[user@]host[:port]`, `[user@][v6addr]:port` or `ssh://[user@]host[:port]` (ProxyJump hop syntax). */
function parseTarget(name: string): Target {
  let rest = name.startsWith('ssh://') ? name.slice('ssh://'.length) : name;
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at > 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracketed) return { alias: bracketed[1], user, port: portOf(bracketed[2]) };
  const withPort = /^([^:]+):(\d+)$/.exec(rest);
  if (withPort) return { alias: withPort[1], user, port: portOf(withPort[2]) };
  return { alias: rest, user };
}

function portOf(s: string | undefined): number | undefined {
  return s === undefined ? undefined : parsePort([s]);
}

interface Activity {
  active: boolean;
  neverMatch: boolean;
}

function applyNodes(nodes: Node[], state: Activity, alias: string, settings: Settings, opts: SshConfigOptions): void {
  for (const node of nodes) {
    switch (node.kind) {
      case 'host':
        state.active = !state.neverMatch && hostLineMatches(node.patterns, alias);
        break;
      case 'match':
        state.active = !state.neverMatch && matchLineMatches(node.args, alias, settings, opts);
        break;
      case 'include': {
        // readconf.c: the included file starts with the current activity; inside a non-matching block its
        // own Host lines can never match (SSHCONF_NEVERMATCH); afterwards the outer activity is restored.
        const outer = state.active;
        for (const f of node.files) {
          applyNodes(f.nodes, { active: outer, neverMatch: state.neverMatch || !outer }, alias, settings, opts);
        }
        state.active = outer;
        break;
      }
      case 'option':
        if (state.active) setOption(settings, node.key, node.args);
        break;
    }
  }
}

function setOption(settings: Settings, key: string, args: string[]): void {
  if (key === 'identityfile') {
    settings.identityFiles.push(args.join(' '));
    return;
  }
  // ProxyJump and ProxyCommand exclude each other: whichever comes first wins (readconf.c).
  if ((key === 'proxyjump' && settings.first.has('proxycommand')) || (key === 'proxycommand' && settings.first.has('proxyjump'))) return;
  if (!settings.first.has(key)) settings.first.set(key, args);
}

/** `Host` patterns are matched one by one against the alias as typed (case-sensitive, like ssh); a matching
 *  negated pattern rules the whole line out. */
function hostLineMatches(patterns: string[], alias: string): boolean {
  return matchOpensshList(patterns, alias);
}

function matchLineMatches(args: string[], alias: string, settings: Settings, opts: SshConfigOptions): boolean {
  let i = 0;
  let all = true;
  while (i < args.length) {
    const raw = args[i++];
    const negate = raw.startsWith('!');
    const keyword = (negate ? raw.slice(1) : raw).toLowerCase();
    let result: boolean;
    if (keyword === 'all') result = true;
    else if (keyword === 'canonical' || keyword === 'final')
      result = false; // no canonical/final pass
    else {
      const value = args[i++] ?? '';
      result = matchCriterion(keyword, value, alias, settings, opts);
    }
    if (negate ? result : !result) all = false;
  }
  return all;
}

function matchCriterion(keyword: string, value: string, alias: string, settings: Settings, opts: SshConfigOptions): boolean {
  switch (keyword) {
    case 'host':
      return patternListMatches(value, currentHostname(alias, settings), true);
    case 'originalhost':
      return patternListMatches(value, alias, true);
    case 'user':
      return patternListMatches(value, settings.first.get('user')?.[0] ?? opts.localUser, false);
    case 'localuser':
      return patternListMatches(value, opts.localUser, false);
    default:
      return false; // exec, localnetwork, address, tagged…: unsupported, so the block never applies
  }
}

function currentHostname(alias: string, settings: Settings): string {
  const hostName = settings.first.get('hostname')?.[0];
  return hostName === undefined ? alias : expandHostName(hostName, alias);
}

/** OpenSSH's match_pattern_list: comma-separated, `!` negates and vetoes. */
function patternListMatches(list: string, subject: string, caseless: boolean): boolean {
  return caseless ? matchOpensshList(list.toLowerCase().split(','), subject.toLowerCase()) : matchOpensshList(list.split(','), subject);
}

// ---------------------------------------------------------------------------------------------------------
// Values: raw first values → HostEntry. The parsers also validate at load time (see toNode).

const OPTION_PARSERS: Record<string, (args: string[]) => unknown> = {
  port: parsePort,
  connecttimeout: parseTimeOrNone,
  serveraliveinterval: parseTimeOrNone,
  serveralivecountmax: parseCount,
  stricthostkeychecking: parseStrict,
  identitiesonly: parseYesNo,
  ...Object.fromEntries(Object.keys(ALGORITHM_KEYWORDS).map((k) => [k, parseAlgorithmSpec])),
};

function parsePort(args: string[]): number {
  const n = /^\d+$/.test(args[0]) ? Number(args[0]) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new Error(`bad port number '${args[0]}'`);
  return n;
}

/** OpenSSH's convtime: `90`, `1m30s`, `2h`…; `none` (ConnectTimeout) means unset. */
function parseTimeOrNone(args: string[]): number | undefined {
  const v = args[0].toLowerCase();
  if (v === 'none') return undefined;
  if (!/^(\d+[smhdw]?)+$/.test(v)) throw new Error(`bad time value '${args[0]}'`);
  const unit: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let seconds = 0;
  for (const [, num, u] of v.matchAll(/(\d+)([smhdw]?)/g)) seconds += Number(num) * unit[u];
  return seconds;
}

function parseCount(args: string[]): number {
  if (!/^\d+$/.test(args[0])) throw new Error(`bad number '${args[0]}'`);
  return Number(args[0]);
}

function parseStrict(args: string[]): StrictMode {
  switch (args[0].toLowerCase()) {
    case 'yes':
    case 'true':
    case 'ask':
      return 'yes';
    case 'accept-new':
      return 'accept-new';
    case 'no':
    case 'false':
    case 'off':
      return 'no';
    default:
      throw new Error(`expected yes, ask, accept-new, no or off, got '${args[0]}'`);
  }
}

function parseYesNo(args: string[]): boolean {
  switch (args[0].toLowerCase()) {
    case 'yes':
    case 'true':
      return true;
    case 'no':
    case 'false':
      return false;
    default:
      throw new Error(`expected yes or no, got '${args[0]}'`);
  }
}

/** What readconf.c and kex_assemble_names refuse whatever the names: a second argument, `!` outside a `-` list. */
function parseAlgorithmSpec(args: string[]): string {
  // The lexer hands a multi-word value over as one string.
  const words = args.join(' ').trim().split(/\s+/);
  if (words.length > 1) throw new Error(`one comma-separated list expected, got ${words.length} words: '${words.join(' ')}' (no spaces after the commas)`);
  const spec = words[0];
  if (!spec.startsWith('-')) {
    const negated = spec
      .replace(/^[+^]/, '')
      .split(',')
      .find((n) => n.startsWith('!'));
    if (negated !== undefined) throw new Error(`'${negated}': a negated name is only allowed in a list that starts with '-'`);
  }
  return spec;
}

/**
 * OpenSSH's kex_assemble_names (kex.c): the list a spec stands for, given the client's default list and every
 * name it supports (in its own order). A plain list replaces the defaults, `+list` appends, `^list` puts first
 * (both keep the defaults' order and drop repeats), `-list` removes the default names the patterns match
 * (`*`, `?`, `!` as in match_pattern_list). Outside `-`, each entry is a pattern expanded over `supported` in
 * its order, and a name `supported` lacks is dropped; `unmatched` lists those entries, so a caller can say so.
 * `+list` is read up to its first empty entry, as kex_names_cat does (`+a,,b` appends only a).
 */
export function assembleAlgorithms(spec: string, defaults: readonly string[], supported: readonly string[]): { names: string[]; unmatched: string[] } {
  const op = spec[0];
  const body = op === '+' || op === '-' || op === '^' ? spec.slice(1) : spec;
  const patterns = body.split(',');
  if (op === '-') return { names: defaults.filter((n) => !matchOpensshList(patterns, n)), unmatched: [] };
  let list: string[];
  if (op === '+') {
    const empty = patterns.indexOf('');
    list = [...defaults, ...(empty < 0 ? patterns : patterns.slice(0, empty))];
  } else if (op === '^') list = [...patterns, ...defaults];
  else list = patterns;
  const names: string[] = [];
  const unmatched: string[] = [];
  for (const pattern of list) {
    if (pattern === '') continue;
    const matching = supported.filter((n) => matchOpensshList([pattern], n));
    if (matching.length === 0 && !unmatched.includes(pattern)) unmatched.push(pattern);
    for (const n of matching) if (!names.includes(n)) names.push(n);
  }
  return { names, unmatched };
}

function toEntry(name: string, alias: string, s: Settings, opts: SshConfigOptions): HostEntry {
  const get = (key: string): string[] | undefined => s.first.get(key);
  const hostname = currentHostname(alias, s).toLowerCase();
  const user = get('user')?.[0] ?? opts.localUser;
  const port = get('port') ? parsePort(get('port')!) : DEFAULT_PORT;
  const tokens = pathTokens({ alias, hostname, user, port, opts, hostKeyAlias: get('hostkeyalias')?.[0], jump: get('proxyjump')?.[0] });
  const entry: HostEntry = {
    name,
    hostname,
    user,
    port,
    identityFiles: s.identityFiles.filter((f) => f.toLowerCase() !== 'none').map((f) => expandPath(f, tokens, opts.home)),
    identitiesOnly: get('identitiesonly') ? parseYesNo(get('identitiesonly')!) : false,
    userKnownHostsFiles: knownHostsFiles(get('userknownhostsfile'), tokens, opts.home),
  };
  const agent = get('identityagent')?.[0];
  if (agent !== undefined) entry.identityAgent = identityAgent(agent, tokens, opts);
  const jump = get('proxyjump')?.[0];
  if (jump !== undefined && jump.toLowerCase() !== 'none')
    entry.proxyJump = jump
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean);
  const command = get('proxycommand');
  if (command !== undefined && command.join(' ').toLowerCase() !== 'none') entry.proxyCommand = command.join(' ');
  setIfDefined(entry, 'connectTimeoutMs', secondsToMs(get('connecttimeout')));
  setIfDefined(entry, 'serverAliveIntervalMs', secondsToMs(get('serveraliveinterval')));
  setIfDefined(entry, 'serverAliveCountMax', get('serveralivecountmax') && parseCount(get('serveralivecountmax')!));
  setIfDefined(entry, 'strictHostKeyChecking', get('stricthostkeychecking') && parseStrict(get('stricthostkeychecking')!));
  setIfDefined(entry, 'hostKeyAlias', get('hostkeyalias')?.[0]);
  const algorithms: AlgorithmSpecs = {};
  for (const [keyword, field] of Object.entries(ALGORITHM_KEYWORDS)) {
    const value = get(keyword);
    if (value) algorithms[field] = parseAlgorithmSpec(value);
  }
  if (Object.keys(algorithms).length > 0) entry.algorithms = algorithms;
  return entry;
}

/** Keeps optional fields absent rather than `undefined`, so entries compare and print cleanly. */
function setIfDefined<K extends keyof HostEntry>(entry: HostEntry, key: K, value: HostEntry[K] | undefined): void {
  if (value !== undefined) entry[key] = value;
}

function secondsToMs(args: string[] | undefined): number | undefined {
  const s = args && parseTimeOrNone(args);
  return s === undefined ? undefined : s * 1000;
}

function knownHostsFiles(args: string[] | undefined, tokens: Record<string, string>, home: string): string[] {
  if (!args) return [];
  if (args.length === 1 && args[0].toLowerCase() === 'none') return ['/dev/null'];
  return args.map((f) => expandPath(f, tokens, home));
}

/** IdentityAgent: `none` → '' (no agent); `SSH_AUTH_SOCK` or `$VAR` → that environment variable; else a path. */
function identityAgent(value: string, tokens: Record<string, string>, opts: SshConfigOptions): string {
  const env = opts.env ?? process.env;
  if (value.toLowerCase() === 'none') return '';
  if (value === 'SSH_AUTH_SOCK') return env.SSH_AUTH_SOCK ?? '';
  const variable = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(value);
  if (variable) return env[variable[1]] ?? '';
  return expandPath(value, tokens, opts.home);
}

// ---------------------------------------------------------------------------------------------------------
// Tokens: ssh_config(5) TOKENS, the subset meaningful for paths. An unknown token is left as written
// (ssh refuses it; we would rather show the odd path in an error than drop the host).

interface TokenInput {
  alias: string;
  hostname: string;
  user: string;
  port: number;
  opts: SshConfigOptions;
  hostKeyAlias?: string;
  jump?: string;
}

function pathTokens(t: TokenInput): Record<string, string> {
  const local = os.hostname();
  return {
    '%': '%',
    d: t.opts.home,
    u: t.opts.localUser,
    h: t.hostname,
    n: t.alias,
    r: t.user,
    p: String(t.port),
    l: local,
    L: local.split('.')[0],
    i: String(process.getuid?.() ?? ''),
    k: t.hostKeyAlias ?? t.hostname,
    j: t.jump ?? '',
  };
}

function expandTokens(s: string, tokens: Record<string, string>): string {
  return s.replace(/%(.)/g, (whole, key: string) => tokens[key] ?? whole);
}

function expandTilde(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return path.join(home, p.slice(2));
  return p;
}

function expandPath(p: string, tokens: Record<string, string>, home: string): string {
  const expanded = expandTokens(expandTilde(p, home), tokens);
  return path.resolve(home, expanded);
}

/** `%h` and `%%` are the only tokens HostName takes. */
function expandHostName(hostName: string, alias: string): string {
  return hostName.replace(/%([%h])/g, (_, k: string) => (k === 'h' ? alias : '%'));
}
