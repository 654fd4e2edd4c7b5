// scoutctl logs [-f] [--lines N] [--pretty|--raw]: the daemon's log, wherever it goes — the journal when
// the systemd user service is installed, the LaunchAgent's log file on macOS, else the auto-start log under
// the state directory. pino JSON lines become readable text (pino-pretty) on a terminal.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { autoStartLogPath } from '../../client/autostart.js';
import { UsageError, flag } from '../args.js';
import type { CommandContext } from '../main.js';
import { launchAgentPath, launchdLogDir, systemdUnitDir } from '../service/plan.js';

/** Lines shown before following, like `journalctl -n` / `tail -n`. */
const DEFAULT_LINES = 100;
/** At most this much of a log file is read to find its last lines. */
const TAIL_WINDOW_BYTES = 4 * 1024 * 1024;

type Source = { kind: 'journal'; unit: string } | { kind: 'file'; path: string; what: string };

/** Where this user's scoutd logs go. */
export function logSource(env: NodeJS.ProcessEnv, platform = process.platform): Source {
  if (platform === 'linux' && fs.existsSync(path.join(systemdUnitDir(env), 'scoutd.service'))) return { kind: 'journal', unit: 'scoutd.service' };
  if (platform === 'darwin' && fs.existsSync(launchAgentPath(env))) return { kind: 'file', path: path.join(launchdLogDir(env), 'scoutd.log'), what: 'launchd agent log' };
  return { kind: 'file', path: autoStartLogPath(env), what: 'auto-start log' };
}

export async function run(ctx: CommandContext): Promise<number> {
  const raw = flag(ctx.args, 'lines');
  const lines = raw === undefined ? DEFAULT_LINES : Number(raw);
  if (!Number.isInteger(lines) || lines < 0) throw new UsageError(`--lines must be a whole number, got '${raw}'`);
  const follow = ctx.args.flags.has('follow');
  const pretty = ctx.args.flags.has('pretty') || (!ctx.args.flags.has('raw') && !ctx.json && process.stdout.isTTY === true);
  const format = pretty ? await prettifier(process.stdout.isTTY === true) : (line: string) => `${line}\n`;
  const write = (line: string) => ctx.io.out(format(line));
  const source = logSource(process.env);
  if (source.kind === 'journal') return journal(source.unit, lines, follow, write, ctx);
  if (process.stderr.isTTY) ctx.io.err(`# ${source.what}: ${source.path}\n`);
  if (!fs.existsSync(source.path)) {
    ctx.io.err(`scoutctl: no log at ${source.path} yet (scoutd has not been auto-started here; a scoutd you started by hand logs to its own terminal)\n`);
    if (!follow) return 1;
  }
  const tail = lastLines(source.path, lines);
  for (const l of tail.lines) write(l);
  if (!follow) return 0;
  // From where the tail ended: a line written in between is neither lost nor printed twice.
  await followFile(source.path, tail.end, write);
  return 0;
}

/** pino JSON → one readable line; anything that is not JSON passes through unchanged. */
async function prettifier(colorize: boolean): Promise<(line: string) => string> {
  const { prettyFactory } = (await import('pino-pretty')).default;
  const pretty = prettyFactory({ colorize, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'hostname' });
  return (line) => {
    const t = line.trimStart();
    if (!t.startsWith('{')) return `${line}\n`;
    try {
      JSON.parse(t);
    } catch {
      return `${line}\n`;
    }
    return pretty(t);
  };
}

function journal(unit: string, lines: number, follow: boolean, write: (l: string) => void, ctx: CommandContext): Promise<number> {
  // -o cat: the message only (pino's JSON line), which carries its own time and level.
  const args = ['--user', '-u', unit, '-o', 'cat', '--no-pager', '-n', String(lines), ...(follow ? ['-f'] : [])];
  return new Promise((resolve) => {
    const p = spawn('journalctl', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    p.stdout.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      for (const l of parts) write(l);
    });
    p.once('error', (err) => {
      ctx.io.err(`scoutctl: cannot run journalctl (${(err as NodeJS.ErrnoException).code ?? err.message}); the service logs to the user journal\n`);
      resolve(1);
    });
    p.once('close', (code) => {
      if (buf) write(buf);
      resolve(code ?? 1);
    });
  });
}

/**
 * The last `n` complete lines of a file (reading at most TAIL_WINDOW_BYTES from its end), and the offset
 * just after the last complete line, where following continues.
 */
function lastLines(file: string, n: number): { lines: string[]; end: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return { lines: [], end: 0 };
  }
  try {
    const size = fs.fstatSync(fd).size;
    const start = Math.max(0, size - TAIL_WINDOW_BYTES);
    const buf = Buffer.alloc(size - start);
    const got = fs.readSync(fd, buf, 0, buf.length, start);
    const lastNl = buf.subarray(0, got).lastIndexOf(0x0a);
    const end = lastNl < 0 ? start : start + lastNl + 1;
    let text = buf.subarray(0, Math.max(0, lastNl)).toString('utf8');
    if (start > 0) text = text.slice(text.indexOf('\n') + 1); // drop the partial first line
    const all = lastNl < 0 ? [] : text.split('\n');
    return { lines: n === 0 ? [] : all.slice(-n), end };
  } finally {
    fs.closeSync(fd);
  }
}

/** Print what is appended to `file` until interrupted; starts over if the file is truncated or replaced. */
function followFile(file: string, from: number, write: (l: string) => void): Promise<void> {
  let offset = from;
  let partial = '';
  const readMore = () => {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      return; // not there (yet): wait for it
    }
    if (st.size < offset) offset = 0; // truncated or rotated
    if (st.size === offset) return;
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(st.size - offset);
      const n = fs.readSync(fd, buf, 0, buf.length, offset);
      offset += n;
      const parts = (partial + buf.subarray(0, n).toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const l of parts) write(l);
    } finally {
      fs.closeSync(fd);
    }
  };
  // Watch the directory, not the file: the file may not exist yet, or be replaced by a new one.
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const watcher = fs.watch(path.dirname(file), (_event, name) => {
    if (name === null || name === path.basename(file)) readMore();
  });
  readMore();
  return new Promise((resolve) => {
    const stop = () => {
      watcher.close();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
