// Auto-start: when no daemon answers, start `scoutd` detached and wait for its socket, so that
// `claude mcp add scout -- scout-mcp` and `scoutctl exec` work with no service installed. Loaded lazily by
// ScoutClient (only on the path where the daemon is missing), so it costs nothing on a normal start-up.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScoutError } from '../protocol/errors.js';
import { stateDir } from '../protocol/paths.js';
import { makeSocketDir, socketDirProblem } from '../protocol/socket-trust.js';
import { dialTrusted, untrustedSocket } from './dial.js';

/** Bound on a started daemon becoming reachable (it binds its socket and reads ssh config: ~100 ms normally). */
export const START_WAIT_MS = 10_000;
/** Bound on waiting for another client's start-up (it holds the lock while its daemon starts). */
const LOCK_WAIT_MS = START_WAIT_MS + 2_000;
/** How often to look for the socket while a daemon starts: socket creation has no event we can wait on. */
const POLL_MS = 25;

export interface AutoStartOptions {
  socket: string;
  env: NodeJS.ProcessEnv;
  /** scoutd's entry point; default: dist/bin/scoutd.js next to this compiled file. */
  scoutdPath?: string;
}

/** The compiled scoutd beside this module (dist/client → dist/bin). Under tsx (src/) it is the package's dist/. */
export function defaultScoutdPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const sibling = path.resolve(here, '..', 'bin', 'scoutd.js');
  if (fs.existsSync(sibling)) return sibling;
  return path.resolve(here, '..', '..', 'dist', 'bin', 'scoutd.js');
}

/** Where an auto-started daemon writes its logs. */
export function autoStartLogPath(env: NodeJS.ProcessEnv): string {
  return path.join(stateDir(env), 'scoutd.log');
}

/**
 * True when something accepts connections on the socket. Dialled like every client connection, so a socket
 * that is not ours throws SOCKET_UNTRUSTED rather than being probed (or waited for).
 */
export function socketAnswers(socket: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let s: net.Socket;
    try {
      s = dialTrusted(socket);
    } catch (err) {
      if (err instanceof ScoutError) reject(err);
      else resolve(false);
      return;
    }
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the pid exists but belongs to someone else (still alive).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Make sure a daemon answers on `socket`, starting one if none does. Two clients racing here start one
 * daemon: the start is done under a lock file beside the socket (created O_EXCL with our pid; a lock whose
 * pid is dead is stale and removed). scoutd itself also refuses to start on a live socket, so even a lock
 * lost to a crash cannot produce two daemons.
 */
export async function ensureDaemon(opts: AutoStartOptions): Promise<void> {
  const lockPath = `${opts.socket}.lock`;
  const dir = path.dirname(opts.socket);
  // Made (0700) only where no other user could swap it, and judged before anything is written into it (the
  // lock) or started for it: the daemon applies the same rule, so a refusal here is what it would say.
  const problem = makeSocketDir(dir) ?? socketDirProblem(dir, fs.lstatSync(dir));
  if (problem) throw untrustedSocket(opts.socket, problem);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    if (await socketAnswers(opts.socket)) return;
    if (takeLock(lockPath)) {
      try {
        // Someone may have finished starting one between our probe and the lock.
        if (await socketAnswers(opts.socket)) return;
        await spawnAndWait(opts);
        return;
      } finally {
        fs.rmSync(lockPath, { force: true });
      }
    }
    if (Date.now() > deadline) {
      throw new ScoutError('DAEMON_UNAVAILABLE', `scoutd did not come up on ${opts.socket}: another client holds the start lock ${lockPath}; if no scoutd is starting, remove that file`, {
        socket: opts.socket,
      });
    }
    await sleep(POLL_MS);
  }
}

function takeLock(lockPath: string): boolean {
  try {
    const fd = fs.openSync(lockPath, 'wx', 0o600);
    fs.writeSync(fd, `${process.pid}\n`);
    fs.closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  let pid = NaN;
  try {
    pid = Number.parseInt(fs.readFileSync(lockPath, 'utf8'), 10);
  } catch {
    return false; // removed meanwhile: the next round tries again
  }
  // An empty lock is one being written right now (open and write are two steps): not stale.
  if (Number.isInteger(pid) && pid > 0 && !pidAlive(pid)) fs.rmSync(lockPath, { force: true });
  return false;
}

async function spawnAndWait(opts: AutoStartOptions): Promise<void> {
  const scoutd = opts.scoutdPath ?? defaultScoutdPath();
  const logPath = autoStartLogPath(opts.env);
  fs.mkdirSync(path.dirname(logPath), { recursive: true, mode: 0o700 });
  const logFd = fs.openSync(logPath, 'a', 0o600);
  let exited: { code: number | null; signal: string | null } | undefined;
  try {
    // Detached in its own session with no terminal: it outlives this client (that is the point) and a
    // Ctrl-C in the client's terminal does not reach it.
    // SCOUT_SOCKET names the socket this client will dial (`--socket` included), so the daemon serves exactly
    // that one rather than its default and the client is not left waiting on a socket nobody binds.
    const env = { ...opts.env, SCOUT_SOCKET: opts.socket };
    const child = spawn(process.execPath, [scoutd], { detached: true, stdio: ['ignore', logFd, logFd], env });
    child.once('exit', (code, signal) => (exited = { code, signal }));
    child.once('error', () => (exited = { code: null, signal: null }));
    child.unref();
  } finally {
    fs.closeSync(logFd);
  }
  const deadline = Date.now() + START_WAIT_MS;
  while (Date.now() < deadline) {
    if (await socketAnswers(opts.socket)) return;
    // Exit 2 is "already running": a daemon started outside our lock (by hand, a service) won the race.
    if (exited && exited.code !== 2) break;
    await sleep(POLL_MS);
  }
  if (await socketAnswers(opts.socket)) return;
  const why = exited ? `it exited (${exited.code ?? exited.signal})` : `its socket did not appear within ${START_WAIT_MS / 1000} s`;
  throw new ScoutError('DAEMON_UNAVAILABLE', `started scoutd (${scoutd}) but ${why}; see its log: ${logPath}${logTail(logPath)}`, { socket: opts.socket, log: logPath });
}

function logTail(logPath: string): string {
  try {
    const lines = fs.readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-3);
    return lines.length && lines[0] ? `\n${lines.join('\n')}` : '';
  } catch {
    return '';
  }
}
