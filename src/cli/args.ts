// scoutctl's argument parser, driven by each command's declared options (main.ts's command table): an unknown option or a
// missing value is a usage error with a suggestion, never ignored (`--timout 5` once ran with the default
// timeout, no word said). For `exec HOST` and `fleet exec PATTERN`, as with ssh, everything after the host is
// the remote command, its flags included.
import { suggest } from '../protocol/suggest.js';

/** One option a command takes. `name` is the long form; `short` a one-letter alias. */
export interface OptionSpec {
  name: string;
  short?: string;
  /** The value's name in help (`SECONDS`); absent for a switch. */
  value?: string;
  help: string;
  default?: string;
}

export interface Parsed {
  command: string | undefined;
  positional: string[];
  /** Words after `--` (or, for a remote command, after the host), untouched. */
  rest: string[] | undefined;
  flags: Map<string, string | true>;
}

export class UsageError extends Error {}

/** Options every command takes. */
export const GLOBAL_OPTIONS: OptionSpec[] = [
  { name: 'json', help: 'machine-readable output (one JSON document)' },
  { name: 'socket', value: 'PATH', help: 'daemon socket', default: '$SCOUT_SOCKET, $XDG_RUNTIME_DIR/scout/scoutd.sock, /tmp/scout-$UID/scoutd.sock' },
  { name: 'help', short: 'h', help: 'this help' },
  { name: 'version', short: 'V', help: 'the version' },
];

/** What the parser needs to know of a command. */
export interface ParseSpec {
  options: OptionSpec[];
  /**
   * The positional word after which the rest is a remote command (exec: 1, the HOST; fleet: 2, `exec PATTERN`).
   * Options for scoutctl go before it; right after it, options are read only up to a `--` that must follow.
   */
  commandAfter?: number;
}

/**
 * Parse `argv`: global options, the command word, then its options and words. `specOf` gives a command's
 * declaration (undefined for an unknown command: the caller reports it).
 */
export function parseArgs(argv: string[], specOf: (command: string) => ParseSpec | undefined = () => undefined): Parsed {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  let command: string | undefined;
  let rest: string[] | undefined;
  let spec: ParseSpec = { options: [] };
  const options = () => [...spec.options, ...GLOBAL_OPTIONS];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest = argv.slice(i + 1);
      break;
    }
    if (a.startsWith('-') && a.length > 1) {
      i = readOption(argv, i, options(), flags, command);
      continue;
    }
    if (command === undefined) {
      command = a;
      spec = specOf(a) ?? { options: [] };
      continue;
    }
    positional.push(a);
    if (spec.commandAfter !== undefined && positional.length === spec.commandAfter) {
      rest = remoteCommand(argv, i + 1, options(), flags, command);
      break;
    }
  }
  return { command, positional, rest, flags };
}

/**
 * The words after the host: the remote command verbatim, unless they start with options, which then run up
 * to a `--` (the old `exec HOST --timeout 5 -- CMD` form). `ls -h /`, `tail -n 1 f`, `echo -- hi` stay whole.
 */
function remoteCommand(argv: string[], from: number, options: OptionSpec[], flags: Map<string, string | true>, command: string): string[] | undefined {
  if (from >= argv.length) return undefined;
  if (argv[from] === '--') return argv.slice(from + 1);
  if (!argv[from].startsWith('-')) return argv.slice(from);
  const end = argv.indexOf('--', from);
  if (end < 0) {
    throw new UsageError(`'${argv[from]}' after the host: scoutctl options go before the host (or end them with --); the remote command starts with its first word`);
  }
  for (let i = from; i < end; i++) {
    if (!argv[i].startsWith('-')) throw new UsageError(`'${argv[i]}' between the host and --: only scoutctl options go there`);
    i = readOption(argv, i, options, flags, command);
  }
  return argv.slice(end + 1);
}

/** Read the option at argv[i] (`--name`, `--name=v`, `--name v`, `-x`, `-x v`); returns the last index used. */
function readOption(argv: string[], i: number, options: OptionSpec[], flags: Map<string, string | true>, command: string | undefined): number {
  const a = argv[i];
  const long = a.startsWith('--');
  const eq = long ? a.indexOf('=') : -1;
  const given = long ? (eq > 0 ? a.slice(2, eq) : a.slice(2)) : a.slice(1);
  const opt = options.find((o) => (long ? o.name === given : o.short === given));
  if (!opt) {
    const shown = long ? `--${given}` : `-${given}`;
    const near = suggest(
      given,
      options.flatMap((o) => (long ? [o.name] : o.short ? [o.short] : [])),
    );
    const hint = near ? ` (did you mean ${long ? '--' : '-'}${near}?)` : '';
    throw new UsageError(`unknown option ${shown}${command ? ` for ${command}` : ''}${hint}`);
  }
  if (!opt.value) {
    if (eq > 0) throw new UsageError(`--${opt.name} takes no value`);
    flags.set(opt.name, true);
    return i;
  }
  if (eq > 0) {
    flags.set(opt.name, a.slice(eq + 1));
    return i;
  }
  const v = argv[i + 1];
  if (v === undefined || v === '--') throw new UsageError(`--${opt.name} needs a value (${opt.value})`);
  flags.set(opt.name, v);
  return i + 1;
}

export function flag(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

/** Longest --timeout, in seconds: the daemon's bound on a call (24 h). */
const MAX_TIMEOUT_SECONDS = 24 * 3600;

/** `--timeout SECONDS` as the milliseconds the API takes, checked here so the message speaks of seconds. */
export function timeoutMs(p: Parsed): number | undefined {
  const raw = flag(p, 'timeout');
  if (raw === undefined) return undefined;
  const s = Number(raw);
  if (!(s > 0) || s > MAX_TIMEOUT_SECONDS) throw new UsageError(`--timeout takes seconds, more than 0 and at most ${MAX_TIMEOUT_SECONDS} (24 h), got '${raw}'`);
  return Math.max(1, Math.round(s * 1000));
}
