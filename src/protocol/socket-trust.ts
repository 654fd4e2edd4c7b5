// Who may own the control socket and its directory: the one rule scoutd applies before it binds and every
// client applies before it connects (or starts a daemon). The socket is a door to everything its owner can do
// on every host, and the default directory (/tmp/scout-$UID) has a guessable name in a world-writable place:
// another local user who creates it first, open to all, with a fake daemon in it, would receive the user's
// commands and `--stdin` secrets and could answer with forged output. So the directory must be a real
// directory, ours, with no access for group or others, and the socket in it ours. Only judgements live here
// (sentences naming the path and the fix); the daemon turns them into start-up errors, the client into
// SOCKET_UNTRUSTED errors.
import fs from 'node:fs';
import path from 'node:path';

/** What is wrong with a socket's directory or the socket itself; `message` names the path and the fix. */
export interface SocketProblem {
  reason: 'symlink' | 'not-directory' | 'foreign-owner' | 'open-mode' | 'unsafe-parent';
  /** The path judged (the directory, the socket, or the ancestor under which a directory would be made). */
  path: string;
  message: string;
  ownerUid?: number;
  mode?: string;
}

/** The uid that owns what this process creates (and that must own the socket and its directory). */
export function currentUid(): number | undefined {
  return typeof process.geteuid === 'function' ? process.geteuid() : undefined;
}

/** Judge the socket's directory from its lstat (or fstat of an O_NOFOLLOW descriptor). */
export function socketDirProblem(dir: string, st: fs.Stats, uid = currentUid()): SocketProblem | undefined {
  if (st.isSymbolicLink()) return { reason: 'symlink', path: dir, message: `socket directory ${dir} is a symlink: refusing to use it (remove it or set SCOUT_SOCKET elsewhere)` };
  if (!st.isDirectory()) return { reason: 'not-directory', path: dir, message: `socket directory ${dir} is not a directory` };
  if (uid !== undefined && st.uid !== uid) {
    return {
      reason: 'foreign-owner',
      path: dir,
      ownerUid: st.uid,
      message: `socket directory ${dir} is owned by uid ${st.uid}, not by you (uid ${uid}): refusing to use it (set SCOUT_SOCKET to a path in a directory you own)`,
    };
  }
  const mode = (st.mode & 0o777).toString(8);
  if ((st.mode & 0o077) !== 0) {
    return {
      reason: 'open-mode',
      path: dir,
      mode,
      message: `socket directory ${dir} has mode ${mode}: other users could reach the socket or put their own in its place; run 'chmod 700 ${dir}' or set SCOUT_SOCKET to a path in a private directory`,
    };
  }
  return undefined;
}

/**
 * Judge the socket file from its lstat. In a directory that passed `socketDirProblem` only its owner (or root)
 * can create or replace entries, so what this judged is what a connect right after it reaches.
 */
export function socketFileProblem(socketPath: string, st: fs.Stats, uid = currentUid()): SocketProblem | undefined {
  if (uid !== undefined && st.uid !== uid) {
    return {
      reason: 'foreign-owner',
      path: socketPath,
      ownerUid: st.uid,
      message: `socket ${socketPath} is owned by uid ${st.uid}, not by you (uid ${uid}): refusing to use it (remove it, or set SCOUT_SOCKET to a path in a directory you own)`,
    };
  }
  return undefined;
}

/**
 * Create the socket's directory (mode 0700, and any missing parents 0700 too) when it does not exist, but only
 * below an existing directory that is ours or root's and that other users cannot write to (a sticky one such
 * as /tmp is fine: others cannot rename or remove what we made there). Elsewhere another user could swap the
 * new directory for theirs, so nothing is created. Returns the problem, or undefined when `dir` exists (it is
 * not judged here: see `socketDirProblem`) or was made.
 */
export function makeSocketDir(dir: string, uid = currentUid()): SocketProblem | undefined {
  if (fs.existsSync(dir) || isLink(dir)) return undefined;
  let ancestor = path.dirname(dir);
  while (!fs.existsSync(ancestor) && path.dirname(ancestor) !== ancestor) ancestor = path.dirname(ancestor);
  // Followed on purpose: /var/run → /run, macOS /var → /private/var; what counts is who can write the target.
  const st = fs.statSync(ancestor);
  const sticky = (st.mode & 0o1000) !== 0;
  const mode = (st.mode & 0o7777).toString(8);
  const fix = `create it yourself ('mkdir -m 700 ${dir}') or set SCOUT_SOCKET to a path in a directory you own`;
  if (uid !== undefined && st.uid !== uid && st.uid !== 0) {
    return { reason: 'unsafe-parent', path: ancestor, ownerUid: st.uid, message: `not creating socket directory ${dir}: ${ancestor} is owned by uid ${st.uid}, who could replace it; ${fix}` };
  }
  if ((st.mode & 0o022) !== 0 && !sticky) {
    return { reason: 'unsafe-parent', path: ancestor, mode, message: `not creating socket directory ${dir}: ${ancestor} has mode ${mode}, so other users could replace it; ${fix}` };
  }
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    // Someone made it meanwhile: it exists now, and the caller judges it like any existing directory.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return undefined;
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
