// A small argument parser: global flags, then a command, its options, and everything after `--` verbatim.

export interface Parsed {
  command: string | undefined;
  positional: string[];
  /** Words after `--`, untouched. */
  rest: string[] | undefined;
  flags: Map<string, string | true>;
}

/** Flags that take a value (`--socket PATH` or `--socket=PATH`). */
const VALUE_FLAGS = new Set(['socket', 'cwd', 'timeout', 'concurrency', 'host', 'signal', 'stream', 'since', 'limit']);
// fs commands (cat, ls, tree, find, write).
for (const f of ['max-bytes', 'offset', 'depth', 'max-entries', 'max-results', 'type', 'mode']) VALUE_FLAGS.add(f);

export function parseArgs(argv: string[]): Parsed {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  let rest: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest = argv.slice(i + 1);
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (eq > 0) flags.set(name, a.slice(eq + 1));
      else if (VALUE_FLAGS.has(name)) {
        const v = argv[++i];
        if (v === undefined) throw new UsageError(`--${name} needs a value`);
        flags.set(name, v);
      } else flags.set(name, true);
      continue;
    }
    if (a === '-h') { flags.set('help', true); continue; }
    if (a === '-V') { flags.set('version', true); continue; }
    if (a === '-f') { flags.set('follow', true); continue; }
    positional.push(a);
  }
  return { command: positional.shift(), positional, rest, flags };
}

// service (--platform), logs (--lines).
for (const f of ['platform', 'lines']) VALUE_FLAGS.add(f);

export class UsageError extends Error {}

export function flag(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}
