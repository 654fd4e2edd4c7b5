// Binding the control socket safely: a private directory (0700, ours, not a symlink), a socket only the
// owner can use (0600), a clear error when another daemon is live, and a stale socket replaced.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { MAX_SOCKET_PATH } from '../protocol/paths.js';
import { makeSocketDir, socketDirProblem } from '../protocol/socket-trust.js';
import { encodeLine } from '../protocol/ndjson.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';

/** How long a probe of an existing socket waits for `daemon.hello` before calling its owner unresponsive. */
const PROBE_TIMEOUT_MS = 2_000;

/** A start-up failure with a message for the person who ran scoutd (exit code 1, or 2 for "already running"). */
export class StartupError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * Create or check the socket directory, by the rule every client applies too (protocol/socket-trust.ts).
 * Refuses directories a different user could tamper with.
 */
export function ensurePrivateDir(dir: string): void {
  const notMade = makeSocketDir(dir);
  if (notMade) throw new StartupError(notMade.message);
  const problem = socketDirProblem(dir, fs.lstatSync(dir));
  if (problem) throw new StartupError(problem.message);
}

/** Ask whatever listens on `socketPath` for `daemon.hello`. */
export function probeSocket(socketPath: string): Promise<{ state: 'none' } | { state: 'stale' } | { state: 'live'; pid?: number; version?: string } | { state: 'unresponsive' }> {
  return new Promise((resolve) => {
    const sock = net.connect(socketPath);
    let buf = '';
    const done = (v: Parameters<typeof resolve>[0]) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done({ state: 'unresponsive' }), PROBE_TIMEOUT_MS);
    sock.on('connect', () => sock.write(encodeLine({ jsonrpc: '2.0', id: 1, method: 'daemon.hello', params: { client: 'scoutd-probe', protocol: PROTOCOL_VERSION } })));
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      try {
        const msg = JSON.parse(buf.slice(0, nl));
        const r = msg.result ?? {};
        const pid = r.pid ?? msg.error?.data?.pid;
        done({ state: 'live', pid, version: r.version });
      } catch {
        done({ state: 'live' });
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') done({ state: 'none' });
      else if (err.code === 'ECONNREFUSED') done({ state: 'stale' });
      else done({ state: 'unresponsive' });
    });
  });
}

/** Check the path, take over a stale socket, and listen with mode 0600. */
export async function bindSocket(server: net.Server, socketPath: string): Promise<void> {
  const bytes = Buffer.byteLength(socketPath);
  if (bytes > MAX_SOCKET_PATH) {
    throw new StartupError(`socket path too long: ${socketPath} is ${bytes} bytes, the limit is ${MAX_SOCKET_PATH}; set SCOUT_SOCKET to a shorter path`);
  }
  ensurePrivateDir(path.dirname(socketPath));
  const existing = await probeSocket(socketPath);
  if (existing.state === 'live') {
    throw new StartupError(`scoutd is already running${existing.pid ? ` (pid ${existing.pid})` : ''} on ${socketPath}; stop it first with 'scoutctl stop'`, 2);
  }
  if (existing.state === 'unresponsive') {
    throw new StartupError(`something is listening on ${socketPath} but does not answer; stop it or set SCOUT_SOCKET to another path`, 2);
  }
  if (existing.state === 'stale') {
    const st = fs.lstatSync(socketPath);
    if (!st.isSocket()) throw new StartupError(`${socketPath} exists and is not a socket: refusing to replace it`);
    fs.unlinkSync(socketPath);
  }
  await listen(server, socketPath);
}

function listen(server: net.Server, socketPath: string): Promise<void> {
  // The umask makes the socket 0600 from the moment it exists; chmod afterwards is belt and braces.
  const old = process.umask(0o177);
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      process.umask(old);
      if (err.code === 'EADDRINUSE') reject(new StartupError(`another scoutd took ${socketPath} while this one was starting`, 2));
      else reject(err);
    };
    server.once('error', onError);
    server.listen(socketPath, () => {
      process.umask(old);
      server.removeListener('error', onError);
      fs.chmodSync(socketPath, 0o600);
      resolve();
    });
  });
}

/** sd_listen_fds(3): the first passed descriptor is always 3 (SD_LISTEN_FDS_START). */
const SD_LISTEN_FDS_START = 3;

/**
 * The listening socket systemd passed us (socket activation), like sd_listen_fds(3): LISTEN_PID must be our
 * pid (the variables may have leaked from a parent that was activated, and its fd 3 is not ours) and
 * LISTEN_FDS at least 1. The variables are removed from `env` so nothing this process starts inherits them.
 * Returns undefined when scoutd was not socket-activated.
 */
export function inheritedListenFd(env: NodeJS.ProcessEnv, pid = process.pid): number | undefined {
  const fds = env.LISTEN_FDS;
  const forPid = env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_PID;
  delete env.LISTEN_FDNAMES;
  if (fds === undefined || forPid === undefined || Number(forPid) !== pid) return undefined;
  const n = Number(fds);
  if (!Number.isInteger(n) || n < 1) return undefined;
  if (n > 1) throw new StartupError(`systemd passed ${n} sockets (LISTEN_FDS=${n}); scoutd serves exactly one: give its .socket unit a single ListenStream=`);
  let st: fs.Stats;
  try {
    st = fs.fstatSync(SD_LISTEN_FDS_START);
  } catch (err) {
    throw new StartupError(`LISTEN_FDS=1 but file descriptor ${SD_LISTEN_FDS_START} is not open (${(err as NodeJS.ErrnoException).code})`);
  }
  if (!st.isSocket()) throw new StartupError(`LISTEN_FDS=1 but file descriptor ${SD_LISTEN_FDS_START} is not a socket`);
  return SD_LISTEN_FDS_START;
}

/** Serve on a socket that is already bound and listening (socket activation): no path checks, no bind. */
export function listenOnFd(server: net.Server, fd: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}
