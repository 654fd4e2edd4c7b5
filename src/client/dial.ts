// Dialling the daemon's socket only once it is known to be ours. Every connection a client makes (calls, the
// auto-start probes) goes through `dialTrusted`, so nothing — not even a connect — reaches a socket or
// directory another local user could have planted (protocol/socket-trust.ts has the rule and the reasons).
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ScoutError } from '../protocol/errors.js';
import { MAX_SOCKET_PATH } from '../protocol/paths.js';
import { socketDirProblem, socketFileProblem, type SocketProblem } from '../protocol/socket-trust.js';

/** The SOCKET_UNTRUSTED error for a problem found before connecting: nothing was sent. */
export function untrustedSocket(socketPath: string, problem: SocketProblem): ScoutError {
  const { message, ...details } = problem;
  return new ScoutError('SOCKET_UNTRUSTED', message, { socket: socketPath, ...details });
}

/**
 * Connect to `socketPath` after checking its directory and the socket itself. Throws SOCKET_UNTRUSTED when
 * either could belong to someone else, and the OS error (ENOENT when the directory or socket is absent) when
 * there is nothing to connect to; connection errors after that arrive on the returned socket as usual.
 *
 * Time of check and time of use: the directory is opened (O_NOFOLLOW) and judged by fstat of that descriptor,
 * and on Linux the connect goes through /proc/self/fd/N/<name>, which resolves through the very directory
 * judged even if its path is renamed or replaced meanwhile. Inside a directory that is ours with mode 0700 only
 * we (or root) can create or replace the socket, so an lstat of it followed by the connect reaches what was
 * judged. Without /proc (macOS) the connect uses the path: a swap of the directory itself then needs write
 * access to its parent, which the default locations (sticky /tmp, the user's own runtime directory) deny.
 */
export function dialTrusted(socketPath: string, onread?: net.OnReadOpts): net.Socket {
  const dir = path.dirname(socketPath);
  let fd: number;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
    // A symlink (ELOOP/ENOTDIR), a file, or another user's private directory (EACCES): say which.
    const problem = describeDir(dir);
    if (problem) throw untrustedSocket(socketPath, problem);
    throw err;
  }
  let open = true;
  const release = () => {
    if (open) fs.closeSync(fd);
    open = false;
  };
  try {
    const dirProblem = socketDirProblem(dir, fs.fstatSync(fd));
    if (dirProblem) throw untrustedSocket(socketPath, dirProblem);
    const throughFd = `/proc/self/fd/${fd}/${path.basename(socketPath)}`;
    const target = Buffer.byteLength(throughFd) <= MAX_SOCKET_PATH && fs.existsSync(`/proc/self/fd/${fd}`) ? throughFd : socketPath;
    const fileProblem = socketFileProblem(socketPath, fs.lstatSync(target));
    if (fileProblem) throw untrustedSocket(socketPath, fileProblem);
    const sock = onread ? net.connect({ path: target, onread }) : net.connect(target);
    sock.once('connect', release);
    sock.once('error', release);
    sock.once('close', release);
    return sock;
  } catch (err) {
    release();
    throw err;
  }
}

function describeDir(dir: string): SocketProblem | undefined {
  try {
    return socketDirProblem(dir, fs.lstatSync(dir));
  } catch {
    return undefined;
  }
}
