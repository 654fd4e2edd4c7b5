// scoutctl's command table. Each command lives in its own module, loaded only when it runs.
import { UsageError, flag, parseArgs, type Parsed } from './args.js';

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

type Command = { summary: string; usage: string; load: () => Promise<{ run: (ctx: CommandContext) => Promise<number> }> };

const COMMANDS: Record<string, Command> = {
  status: { summary: 'show the daemon, its settings and the pool (exit 3 when the daemon is down)', usage: 'status', load: () => import('./commands/status.js') },
  hosts: { summary: 'list hosts from ssh config (--probe checks reachability)', usage: 'hosts [--probe]', load: () => import('./commands/hosts.js') },
  exec: { summary: 'run a command on a host; exits with its exit code; streams every byte as it comes, Ctrl-C stops it (--stdin: send ours; --detach: background job)', usage: 'exec HOST [--cwd DIR] [--timeout SECONDS] [--stdin] [--detach] -- COMMAND [ARGS...]', load: () => import('./commands/exec.js') },
  jobs: { summary: 'background jobs: list; logs ID [-f] (follow, exit with the job\'s code); kill ID [--signal SIG]; forget ID', usage: 'jobs [--host HOST] | jobs logs ID [-f] [--stream stdout|stderr] | jobs kill ID [--signal SIG] | jobs forget ID', load: () => import('./commands/jobs.js') },
  pool: { summary: 'list pooled connections and per-host counters', usage: 'pool', load: () => import('./commands/pool.js') },
  drop: { summary: "close a host's pooled connection", usage: 'drop HOST', load: () => import('./commands/drop.js') },
  get: { summary: 'copy a remote file (or tree with -r) to a local path, atomically, with progress', usage: 'get [-r] HOST:PATH LOCAL', load: () => import('./commands/get.js') },
  put: { summary: 'copy a local file (or tree with -r) to a host, atomically, with progress', usage: 'put [-r] LOCAL HOST:PATH', load: () => import('./commands/put.js') },
  cp: { summary: 'copy between two hosts through scoutd, streamed', usage: 'cp [-r] HOST:PATH HOST:PATH', load: () => import('./commands/cp.js') },
  cat: { summary: 'print a remote file (up to SCOUT_MAX_FILE_SIZE; --max-bytes, --offset)', usage: 'cat HOST:PATH [--max-bytes N] [--offset N]', load: () => files('cat') },
  ls: { summary: 'list a remote directory: mode, size, mtime, name; directories first (-a: dot entries too)', usage: 'ls [-a] HOST:PATH', load: () => files('ls') },
  stat: { summary: 'type, size, mode, mtime of a remote path (a symlink itself, with its target)', usage: 'stat HOST:PATH', load: () => files('stat') },
  tree: { summary: 'a remote directory as a tree (default depth 3, 1000 entries)', usage: 'tree [-a] HOST:PATH [--depth N] [--max-entries N]', load: () => files('tree') },
  find: { summary: "remote paths whose name matches a glob, like find -name (quote it: '*.log')", usage: 'find HOST:PATH PATTERN [--type f|d|l] [--depth N] [--max-results N]', load: () => files('find') },
  write: { summary: 'write stdin to a remote file atomically (temp file + rename; -p creates directories)', usage: 'write [-p] HOST:PATH [--mode 644] < FILE', load: () => files('write') },
  fleet: { summary: 'run a command on many hosts (glob or a,b,c); exit 0 only if all succeed', usage: 'fleet exec PATTERN [--concurrency N] [--timeout SECONDS] -- COMMAND', load: () => import('./commands/fleet.js') },
  trust: { summary: "show the host key a host offers and record it in known_hosts after confirmation (like a first 'ssh HOST')", usage: 'trust HOST [--yes]', load: () => import('./commands/trust.js') },
  audit: { summary: 'calls that touched hosts: time, client, method, host, command or path, outcome', usage: 'audit [--host HOST] [--since 10m|ISO-TIME] [--limit N]', load: () => import('./commands/audit.js') },
  stop: { summary: 'stop the daemon gracefully', usage: 'stop', load: () => import('./commands/stop.js') },
  reload: { summary: 're-read ssh config (like SIGHUP): lists hosts added, removed, changed; unchanged connections stay warm', usage: 'reload', load: () => import('./commands/reload.js') },
  doctor: { summary: 'check daemon, socket, ssh config, agent and known_hosts (--probe: log in to every host); exit 1 on a problem', usage: 'doctor [--probe]', load: () => import('./commands/doctor.js') },
  logs: { summary: "the daemon's log (journal, launchd log or auto-start log); -f follows; pretty on a terminal (--pretty / --raw to choose)", usage: 'logs [-f] [--lines N] [--pretty|--raw]', load: () => import('./commands/logs.js') },
  service: { summary: 'run scoutd as a systemd user service (Linux) or launchd agent (macOS); --dry-run prints what it would write and run', usage: 'service install|uninstall|status [--dry-run]', load: () => import('./commands/service.js') },
};

/** The fs commands share one module. */
function files(name: 'cat' | 'ls' | 'stat' | 'tree' | 'find' | 'write') {
  return import('./commands/files.js').then((m) => ({ run: m[name] }));
}

export function usage(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.usage.length));
  const lines = Object.values(COMMANDS).map((c) => `  scoutctl ${c.usage.padEnd(width)}  ${c.summary}`);
  return `scoutctl — talk to scoutd, Scout's warm SSH connection pool

Usage:
${lines.join('\n')}

Global options:
  --json           machine-readable output (one JSON document)
  --socket PATH    daemon socket (default: $SCOUT_SOCKET, $XDG_RUNTIME_DIR/scout/scoutd.sock, /tmp/scout-$UID/scoutd.sock)
  --help, -h       this help; --version, -V  the version

Exit codes: exec returns the remote command's code (128+N when killed by signal N, 255 on a Scout error);
status returns 3 when the daemon is not running; other commands 0 on success, 1 on error, 2 on bad usage.
`;
}

export async function main(argv: string[], io: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): Promise<number> {
  let args: Parsed;
  try {
    args = parseArgs(argv);
  } catch (err) {
    io.err(`scoutctl: ${(err as Error).message}\n`);
    return 2;
  }
  if (args.flags.has('version')) {
    const { packageVersion } = await import('../protocol/version.js');
    io.out(`scoutctl ${packageVersion()}\n`);
    return 0;
  }
  if (!args.command || args.command === 'help' || (args.flags.has('help') && !args.command)) {
    io.out(usage());
    return args.command || args.flags.has('help') ? 0 : 2;
  }
  const cmd = COMMANDS[args.command];
  if (!cmd) {
    io.err(`scoutctl: unknown command '${args.command}'\n\n${usage()}`);
    return 2;
  }
  if (args.flags.has('help')) {
    io.out(`Usage: scoutctl ${cmd.usage}\n  ${cmd.summary}\n`);
    return 0;
  }
  try {
    const mod = await cmd.load();
    return await mod.run({ args, io, json: args.flags.has('json'), socket: flag(args, 'socket') });
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`scoutctl: ${err.message}\nUsage: scoutctl ${cmd.usage}\n`);
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
