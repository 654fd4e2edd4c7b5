import os from 'node:os';
import path from 'node:path';

/** Unix socket path limits (sun_path minus the terminating NUL). */
export const MAX_SOCKET_PATH = process.platform === 'darwin' ? 103 : 107;

/**
 * The daemon's socket path: `$SCOUT_SOCKET`, else `$XDG_RUNTIME_DIR/scout/scoutd.sock`, else
 * `$TMPDIR/scout/scoutd.sock` on macOS, else `/tmp/scout-$UID/scoutd.sock`.
 */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SCOUT_SOCKET) return path.resolve(env.SCOUT_SOCKET);
  if (env.XDG_RUNTIME_DIR) return path.join(env.XDG_RUNTIME_DIR, 'scout', 'scoutd.sock');
  if (process.platform === 'darwin') return path.join(env.TMPDIR || os.tmpdir(), 'scout', 'scoutd.sock');
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return path.join('/tmp', `scout-${uid}`, 'scoutd.sock');
}

/** The user's state directory for logs and locks (`$XDG_STATE_HOME/scout`, else `~/.local/state/scout`). */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SCOUT_STATE_DIR) return path.resolve(env.SCOUT_STATE_DIR);
  const home = env.HOME || os.homedir();
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Logs', 'scout');
  return path.join(env.XDG_STATE_HOME || path.join(home, '.local', 'state'), 'scout');
}

/**
 * A remote path as a person writes it: `~` and `~/x` mean the remote home, which SFTP and `cd` take as
 * relative paths (`.`, `x`). Shared by scoutctl's HOST:PATH and scout-mcp's targets.
 */
export function remotePath(raw: string): string {
  if (raw === '~' || raw === '~/') return '.';
  if (raw.startsWith('~/')) return raw.slice(2);
  return raw;
}
