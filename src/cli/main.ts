// scoutctl's command table. Each command lives in its own module, loaded only when it runs.
import { suggest } from '../protocol/suggest.js';
import { GLOBAL_OPTIONS, UsageError, flag, parseArgs, type OptionSpec, type Parsed } from './args.js';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

export interface CommandContext {
  args: Parsed;
  io: Io;
  json: boolean;
  socket: string | undefined;
}

type Command = {
  summary: string;
  usage: string;
  options?: OptionSpec[];
  /** Positional words after which the rest is the remote command (exec: HOST; fleet: exec PATTERN). */
  commandAfter?: number;
  /** Extra lines for `--help`. */
  notes?: string;
  load: () => Promise<{ run: (ctx: CommandContext) => Promise<number> }>;
};

const TIMEOUT: OptionSpec = { name: 'timeout', value: 'SECONDS', help: 'stop the command after this long', default: 'SCOUT_COMMAND_TIMEOUT (see scoutctl status)' };
const CWD: OptionSpec = { name: 'cwd', value: 'DIR', help: 'run in DIR on the host', default: 'the login directory' };
const RECURSIVE: OptionSpec = { name: 'recursive', short: 'r', help: 'copy a directory tree' };
const ALL: OptionSpec = { name: 'all', short: 'a', help: 'include dot entries' };
const PROBE: OptionSpec = { name: 'probe', help: 'log in to every host to check it' };
const REMOTE_NOTE =
  'As with ssh, everything after the host is the remote command, its own flags included; scoutctl options\ngo before the host (or between the host and a --). The words are joined with spaces and run by the remote shell.';

const COMMANDS: Record<string, Command> = {
  status: { summary: 'show the daemon, its settings and the pool (exit 3 when the daemon is down)', usage: 'status', load: () => import('./commands/status.js') },
  hosts: { summary: 'list hosts from ssh config (--probe checks reachability)', usage: 'hosts [--probe]', options: [PROBE], load: () => import('./commands/hosts.js') },
  exec: {
    summary: 'run a command on a host; exits with its exit code; streams every byte as it comes, Ctrl-C stops it (--stdin: send ours; --detach: background job)',
    usage: 'exec [--cwd DIR] [--timeout SECONDS] [--stdin] [--detach [--no-durable]] HOST COMMAND [ARGS...]',
    options: [
      CWD,
      TIMEOUT,
      { name: 'stdin', help: "send scoutctl's stdin to the command (up to 9 MiB)" },
      { name: 'detach', help: 'start a background job and print its id (see scoutctl jobs); it runs detached on the host and survives dropped links and scoutd restarts' },
      { name: 'no-durable', help: 'with --detach: a job scoutd runs on its own channel instead (ends with the link or scoutd; stdout and stderr kept apart)' },
    ],
    commandAfter: 1,
    notes: REMOTE_NOTE,
    load: () => import('./commands/exec.js'),
  },
  shell: {
    summary: 'an interactive shell (or COMMAND) on a host over its pooled connection; exits with the remote exit code',
    usage: 'shell [--cwd DIR] HOST [COMMAND [ARGS...]]',
    options: [{ name: 'cwd', value: 'DIR', help: 'start in DIR on the host', default: 'the login directory' }],
    commandAfter: 1,
    notes: 'With a terminal it is like ssh -t (your TERM and window size; Ctrl-C, Ctrl-Z and Ctrl-D go to the remote\nside); without one, like ssh -T. The session ends when the remote shell exits.',
    load: () => import('./commands/shell.js'),
  },
  forward: {
    summary: 'port forwards scoutd owns (they outlive this command): -L local, -R remote, -D SOCKS5; list; close ID',
    usage: 'forward HOST -L [bind:]port:host:hostport | forward HOST -R [bind:]port:host:hostport | forward HOST -D [bind:]port | forward list | forward close ID',
    options: [
      { name: 'local', short: 'L', value: '[bind:]port:host:hostport', help: 'listen here (127.0.0.1 unless bind says otherwise); the host connects to host:hostport' },
      { name: 'remote', short: 'R', value: '[bind:]port:host:hostport', help: 'the host listens (on its 127.0.0.1 by default); scoutd connects to host:hostport' },
      { name: 'dynamic', short: 'D', value: '[bind:]port', help: 'a SOCKS5 proxy here; the host makes the connections' },
    ],
    notes: 'A forward rides the host pooled connection; when the link drops, the listener stays and the forward comes\nback by itself once the host answers again.',
    load: () => import('./commands/forward.js'),
  },
  jobs: {
    summary: "background jobs: list; logs ID [-f] (follow, exit with the job's code); kill ID [--signal SIG]; forget ID",
    usage: 'jobs [--host HOST] | jobs logs ID [-f] [--stream stdout|stderr] | jobs kill ID [--signal SIG] | jobs forget ID',
    options: [
      { name: 'host', value: 'HOST', help: 'list only the jobs on HOST' },
      { name: 'follow', short: 'f', help: 'logs: keep printing until the job ends, then exit with its code' },
      { name: 'stream', value: 'stdout|stderr', help: 'logs: one stream only (not for durable jobs, whose streams are one)', default: 'both' },
      { name: 'signal', value: 'SIG', help: 'kill: the signal to send', default: 'TERM' },
    ],
    load: () => import('./commands/jobs.js'),
  },
  pool: { summary: 'list pooled connections and per-host counters', usage: 'pool', load: () => import('./commands/pool.js') },
  drop: { summary: "close a host's pooled connection", usage: 'drop HOST', load: () => import('./commands/drop.js') },
  get: { summary: 'copy a remote file (or tree with -r) to a local path, atomically, with progress', usage: 'get [-r] HOST:PATH LOCAL', options: [RECURSIVE], load: () => copy('get') },
  put: { summary: 'copy a local file (or tree with -r) to a host, atomically, with progress', usage: 'put [-r] LOCAL HOST:PATH', options: [RECURSIVE], load: () => copy('put') },
  cp: { summary: 'copy between two hosts through scoutd, streamed', usage: 'cp [-r] HOST:PATH HOST:PATH', options: [RECURSIVE], load: () => copy('cp') },
  cat: {
    summary: 'print a remote file (up to SCOUT_MAX_FILE_SIZE; --max-bytes, --offset)',
    usage: 'cat HOST:PATH [--max-bytes N] [--offset N]',
    options: [
      { name: 'max-bytes', value: 'N', help: 'print at most N bytes', default: 'SCOUT_MAX_FILE_SIZE' },
      { name: 'offset', value: 'N', help: 'start at byte N', default: '0' },
    ],
    load: () => files('cat'),
  },
  ls: { summary: 'list a remote directory: mode, size, mtime, name; directories first (-a: dot entries too)', usage: 'ls [-a] HOST:PATH', options: [ALL], load: () => files('ls') },
  stat: { summary: 'type, size, mode, mtime of a remote path (a symlink itself, with its target)', usage: 'stat HOST:PATH', load: () => files('stat') },
  tree: {
    summary: 'a remote directory as a tree (default depth 3, 1000 entries)',
    usage: 'tree [-a] HOST:PATH [--depth N] [--max-entries N]',
    options: [ALL, { name: 'depth', value: 'N', help: 'levels below PATH', default: '3' }, { name: 'max-entries', value: 'N', help: 'stop after N entries', default: '1000' }],
    load: () => files('tree'),
  },
  find: {
    summary: "remote paths whose name matches a glob, like find -name (quote it: '*.log')",
    usage: 'find HOST:PATH PATTERN [--type f|d|l] [--depth N] [--max-results N]',
    options: [
      { name: 'type', value: 'f|d|l', help: 'files, directories or symlinks only' },
      { name: 'depth', value: 'N', help: 'levels below PATH to search' },
      { name: 'max-results', value: 'N', help: 'stop after N matches' },
    ],
    load: () => files('find'),
  },
  write: {
    summary: 'write stdin to a remote file atomically (temp file + rename; -p creates directories)',
    usage: 'write [-p] HOST:PATH [--mode 644] < FILE',
    options: [
      { name: 'create-dirs', short: 'p', help: 'create missing parent directories' },
      { name: 'mode', value: 'OCTAL', help: 'permission bits of a new file', default: '644, or the mode of the file replaced' },
    ],
    load: () => files('write'),
  },
  fleet: {
    summary: 'run a command on many hosts (glob or a,b,c); exit 0 only if all succeed',
    usage: 'fleet exec [--concurrency N] [--timeout SECONDS] [--cwd DIR] PATTERN COMMAND [ARGS...]',
    options: [{ name: 'concurrency', value: 'N', help: 'hosts worked on at once', default: '10' }, TIMEOUT, CWD],
    commandAfter: 2,
    notes: REMOTE_NOTE.replace('the host', 'the PATTERN'),
    load: () => import('./commands/fleet.js'),
  },
  trust: {
    summary: "show the host key a host offers and record it in known_hosts after confirmation (like a first 'ssh HOST')",
    usage: 'trust HOST [--yes]',
    options: [{ name: 'yes', short: 'y', help: 'record the key without asking (check the fingerprint some other way first)' }],
    load: () => import('./commands/trust.js'),
  },
  audit: {
    summary: 'calls that touched hosts: time, client, method, host, command or path, outcome',
    usage: 'audit [--host HOST] [--since 10m|ISO-TIME] [--limit N]',
    options: [
      { name: 'host', value: 'HOST', help: 'only calls that touched HOST' },
      { name: 'since', value: '10m|ISO-TIME', help: 'only calls since then' },
      { name: 'limit', value: 'N', help: 'the newest N entries', default: '1000' },
    ],
    load: () => import('./commands/audit.js'),
  },
  approvals: { summary: "calls waiting for a person's approval (policy confirm rules)", usage: 'approvals', load: () => import('./commands/approvals.js') },
  approve: {
    summary: 'let a pending call run (--for: the same action on that host runs without asking until then)',
    usage: 'approve ID [--for 10m]',
    options: [{ name: 'for', value: '30s|10m|2h', help: 'also approve the same action on the same host for this long', default: 'this call only' }],
    load: () => import('./commands/approvals.js'),
  },
  deny: { summary: 'refuse a pending call (it fails with POLICY_DENIED)', usage: 'deny ID', load: () => import('./commands/approvals.js') },
  keys: {
    summary: 'API keys for scout-mcp --http: add NAME (shows the secret once), list, remove NAME',
    usage: 'keys list | keys add NAME [--hosts web1,db*] [--read-only] [--tools scout,scout_read] [--rate N] [--burst N] | keys remove NAME',
    options: [
      { name: 'hosts', value: 'LIST', help: 'aliases or patterns the key may reach', default: '* (every host)' },
      { name: 'read-only', help: 'reads only: no command, write, job or forward' },
      { name: 'tools', value: 'LIST', help: 'MCP tools the key is offered', default: 'all' },
      { name: 'rate', value: 'N', help: 'requests per minute', default: 'SCOUT_RATE_LIMIT_PER_MINUTE (60)' },
      { name: 'burst', value: 'N', help: 'requests at once before the rate applies', default: 'SCOUT_RATE_LIMIT_BURST (10)' },
    ],
    notes: 'Only a hash of each key is stored (in $SCOUT_HTTP_KEYS, else ~/.config/scout/http-keys.json); a running\nscout-mcp --http sees a change from its next request, so remove revokes at once.',
    load: () => import('./commands/keys.js'),
  },
  stop: { summary: 'stop the daemon gracefully', usage: 'stop', load: () => import('./commands/stop.js') },
  reload: { summary: 're-read ssh config (like SIGHUP): lists hosts added, removed, changed; unchanged connections stay warm', usage: 'reload', load: () => import('./commands/reload.js') },
  doctor: {
    summary: 'check daemon, socket, ssh config, agent and known_hosts (--probe: log in to every host); exit 1 on a problem',
    usage: 'doctor [--probe]',
    options: [PROBE],
    load: () => import('./commands/doctor.js'),
  },
  logs: {
    summary: "the daemon's log (journal, launchd log or auto-start log); -f follows; pretty on a terminal (--pretty / --raw to choose)",
    usage: 'logs [-f] [--lines N] [--pretty|--raw]',
    options: [
      { name: 'follow', short: 'f', help: 'keep printing new lines' },
      { name: 'lines', short: 'n', value: 'N', help: 'how many of the last lines', default: '100' },
      { name: 'pretty', help: 'one readable line per entry' },
      { name: 'raw', help: 'the JSON lines as written' },
    ],
    load: () => import('./commands/logs.js'),
  },
  service: {
    summary: 'run scoutd as a systemd user service (Linux) or launchd agent (macOS); --dry-run prints what it would write and run',
    usage: 'service install [--http [--host H] [--port P]]|uninstall|status [--dry-run]',
    options: [
      { name: 'dry-run', help: 'print the files and commands, change nothing' },
      { name: 'platform', value: 'linux|macos', help: 'with --dry-run: plan for this platform', default: 'this machine' },
      { name: 'http', help: 'install: also run scout-mcp --http (MCP over HTTP) as a second service, after scoutd' },
      { name: 'host', value: 'H', help: 'with --http: the address scout-mcp listens on (beyond loopback only with a key)', default: '127.0.0.1' },
      { name: 'port', value: 'P', help: 'with --http: its port, 1-65535', default: '8000' },
    ],
    notes:
      "A plain 'service install' leaves an installed scout-mcp --http service as it is; 'install --http' installs or\nupdates both; 'uninstall' removes both. Keys for the HTTP service: scoutctl keys add NAME (never in the unit).",
    load: () => import('./commands/service.js'),
  },
};

/** get, put and cp share one module. */
function copy(name: 'get' | 'put' | 'cp') {
  return import('./commands/copy.js').then((m) => ({ run: m[name] }));
}

/** The fs commands share one module. */
function files(name: 'cat' | 'ls' | 'stat' | 'tree' | 'find' | 'write') {
  return import('./commands/files.js').then((m) => ({ run: m[name] }));
}

/** Usages up to this long share a line with their summary. */
const USAGE_COLUMN = 48;

/** Every command's name, in the order of the usage page (for the man page). */
export function commandNames(): string[] {
  return Object.keys(COMMANDS);
}

export function usage(): string {
  // A long usage (forward, jobs) gets its summary on the next line rather than widening every line.
  const width = Math.min(USAGE_COLUMN, Math.max(...Object.values(COMMANDS).map((c) => c.usage.length)));
  const lines = Object.values(COMMANDS).map((c) => (c.usage.length > width ? `  scoutctl ${c.usage}\n  ${' '.repeat(width + 9)}  ${c.summary}` : `  scoutctl ${c.usage.padEnd(width)}  ${c.summary}`));
  return `scoutctl — talk to scoutd, Scout's warm SSH connection pool

Usage:
${lines.join('\n')}

Global options:
  --json           machine-readable output (one JSON document)
  --socket PATH    daemon socket (default: $SCOUT_SOCKET, $XDG_RUNTIME_DIR/scout/scoutd.sock, /tmp/scout-$UID/scoutd.sock)
  --help, -h       this help (scoutctl COMMAND --help: the command's options); --version, -V  the version

Exit codes: exec returns the remote command's code (128+N when killed by signal N, 255 on a Scout error);
status returns 3 when the daemon is not running; other commands 0 on success, 1 on error, 2 on bad usage.
`;
}

/** `scoutctl CMD --help`: usage, summary, and each option with its meaning and default, from the declaration. */
export function commandHelp(name: string): string {
  const cmd = COMMANDS[name];
  const opts = cmd.options ?? [];
  const label = (o: OptionSpec) => `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.value ? ` ${o.value}` : ''}`;
  const width = Math.max(0, ...[...opts, ...GLOBAL_OPTIONS].map((o) => label(o).length));
  const line = (o: OptionSpec) => `  ${label(o).padEnd(width)}  ${o.help}${o.default ? ` (default: ${o.default})` : ''}`;
  return [
    `Usage: scoutctl ${cmd.usage}`,
    `  ${cmd.summary}`,
    ...(cmd.notes ? ['', cmd.notes] : []),
    ...(opts.length ? ['', 'Options:', ...opts.map(line)] : []),
    '',
    'Global options:',
    ...GLOBAL_OPTIONS.map(line),
    '',
  ].join('\n');
}

export async function main(argv: string[], io: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): Promise<number> {
  let args: Parsed;
  try {
    args = parseArgs(argv, (name) => {
      const c = COMMANDS[name];
      return c ? { options: c.options ?? [], commandAfter: c.commandAfter } : undefined;
    });
  } catch (err) {
    const cmd = argv.find((a) => COMMANDS[a]);
    io.err(`scoutctl: ${(err as Error).message}\n${cmd ? `Usage: scoutctl ${COMMANDS[cmd].usage} (scoutctl ${cmd} --help for more)\n` : ''}`);
    return 2;
  }
  if (args.flags.has('version')) {
    const { packageVersion } = await import('../protocol/version.js');
    io.out(`scoutctl ${packageVersion()}\n`);
    return 0;
  }
  if (args.command === 'help' && args.positional[0] && COMMANDS[args.positional[0]]) {
    io.out(commandHelp(args.positional[0]));
    return 0;
  }
  if (!args.command || args.command === 'help' || (args.flags.has('help') && !args.command)) {
    io.out(usage());
    return args.command || args.flags.has('help') ? 0 : 2;
  }
  const cmd = COMMANDS[args.command];
  if (!cmd) {
    const near = suggest(args.command, Object.keys(COMMANDS));
    io.err(`scoutctl: unknown command '${args.command}'${near ? ` (did you mean ${near}?)` : ''}; 'scoutctl --help' lists them\n`);
    return 2;
  }
  if (args.flags.has('help')) {
    io.out(commandHelp(args.command));
    return 0;
  }
  try {
    const mod = await cmd.load();
    return await mod.run({ args, io, json: args.flags.has('json'), socket: flag(args, 'socket') });
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`scoutctl: ${err.message}\nUsage: scoutctl ${cmd.usage} (scoutctl ${args.command} --help for more)\n`);
      return 2;
    }
    return reportError(err, io, args.flags.has('json'));
  }
}

/** Print a Scout error as a sentence with its code (or as JSON), and pick the exit code. */
export function reportError(err: unknown, io: Io, json: boolean): number {
  const e = err as { code?: string; message?: string; details?: unknown };
  if (json) io.out(JSON.stringify({ error: { code: e.code ?? 'ERROR', message: e.message, data: e.details } }, null, 2) + '\n');
  else io.err(`scoutctl: ${e.message ?? String(err)}${e.code ? ` [${e.code}]` : ''}\n`);
  return 1;
}
