// The one place where ssh2, socket and SFTP failures become Scout error codes. ssh2 tags its errors with
// `err.level` (client-socket, client-timeout, client-authentication, handshake, …) and sockets with
// `err.code` (ECONNREFUSED, …); we map those, never the message text.
import { ScoutError } from '../protocol/errors.js';

/** What was being attempted when the error happened. */
export type Stage = 'connect' | 'session';

const CONNECT_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED', 'EADDRNOTAVAIL',
]);

interface SshLikeError extends Error {
  level?: string;
  code?: string | number;
  description?: string;
}

/** Map an error raised while connecting to `host` (`addr` like `127.0.0.1:22`). */
export function mapConnectError(err: unknown, host: string, addr: string): ScoutError {
  if (err instanceof ScoutError) return err;
  const e = err as SshLikeError;
  const why = e?.message ?? String(err);
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (e?.level === 'client-authentication') {
    return new ScoutError('AUTH_FAILED', `authentication to ${host} (${addr}) failed: the server accepted none of the keys offered`, { host, addr });
  }
  if (e?.level === 'client-timeout') {
    return new ScoutError('CONNECT_TIMEOUT', `connecting to ${host} (${addr}) timed out during the SSH handshake`, { host, addr });
  }
  if (code && CONNECT_CODES.has(code)) {
    return new ScoutError('CONNECT_FAILED', `cannot connect to ${host} (${addr}): ${code}`, { host, addr, errno: code });
  }
  if (e?.level === 'client-dns') {
    return new ScoutError('CONNECT_FAILED', `cannot resolve ${host}: ${why}`, { host, addr });
  }
  return new ScoutError('CONNECT_FAILED', `cannot connect to ${host} (${addr}): ${why}`, { host, addr, level: e?.level });
}

/** A connection that was up went away (socket closed, keepalive timeout, protocol error). */
export function connectionLost(host: string, reason: string): ScoutError {
  return new ScoutError('CONNECTION_LOST', `connection to ${host} was lost: ${reason}`, { host });
}

/** SFTP status codes (draft-ietf-secsh-filexfer-02 §7), as ssh2 puts them in `err.code`. */
const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;
/** Later filexfer drafts (-05 on) add these; OpenSSH speaks version 3 and reports them as FAILURE (4). */
const SFTP_NO_SPACE_ON_FILESYSTEM = 14;
const SFTP_QUOTA_EXCEEDED = 15;

/**
 * Map an SFTP failure on `host` at `path`. A request that failed because the connection went away reports
 * the connection's own reason (`lost`), so a killed server reads CONNECTION_LOST, not a vague I/O error.
 */
export function mapSftpError(err: unknown, host: string, path: string, lost?: AbortSignal): ScoutError {
  if (err instanceof ScoutError) return err;
  if (lost?.aborted && lost.reason instanceof ScoutError) return lost.reason;
  const e = err as SshLikeError;
  const why = e?.message ?? String(err);
  if (e?.code === SFTP_NO_SUCH_FILE) return new ScoutError('REMOTE_NOT_FOUND', `${path} not found on ${host}`, { host, path });
  if (e?.code === SFTP_PERMISSION_DENIED) return new ScoutError('REMOTE_PERMISSION_DENIED', `permission denied on ${host}: ${path}`, { host, path });
  if (e?.code === SFTP_NO_SPACE_ON_FILESYSTEM || e?.code === SFTP_QUOTA_EXCEEDED) {
    return new ScoutError('TOO_LARGE', `${host}:${path}: ${e.code === SFTP_QUOTA_EXCEEDED ? 'quota exceeded' : 'no space left on the filesystem'}`, { host, path, sftpCode: e.code });
  }
  return new ScoutError('REMOTE_IO', `${host}:${path}: ${why}`, { host, path, sftpCode: e?.code });
}

/** Map a local filesystem failure (the daemon reads and writes local paths itself) to LOCAL_PATH. */
export function mapLocalError(err: unknown, path: string): ScoutError {
  if (err instanceof ScoutError) return err;
  const e = err as NodeJS.ErrnoException;
  const errno = typeof e?.code === 'string' ? e.code : undefined;
  const what: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOTDIR: 'a parent is not a directory',
    EISDIR: 'is a directory',
    ENOSPC: 'no space left on the device',
    EROFS: 'read-only file system',
    EEXIST: 'already exists',
  };
  const why = (errno && what[errno]) ?? e?.message ?? String(err);
  return new ScoutError('LOCAL_PATH', `local ${path}: ${why}`, { path, errno });
}
