// The one place where ssh2, socket and SFTP failures become Scout error codes. ssh2 tags its errors with
// `err.level` (client-socket, client-timeout, client-authentication, handshake, …) and sockets with
// `err.code` (ECONNREFUSED, …); we map those, never the message text.
import { ScoutError } from '../protocol/errors.js';

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED', 'EADDRNOTAVAIL']);

interface SshLikeError extends Error {
  level?: string;
  code?: string | number;
  description?: string;
  /** Channel open failure reason (RFC 4254 §5.1), set by ssh2 on a refused channel open. */
  reason?: number | string;
}

/** Errno codes for "no file descriptor left": this process's limit, or the system's. */
const NO_DESCRIPTOR = new Set(['EMFILE', 'ENFILE']);

/** Whether `err` (an errno error, or one that kept its `code`) says the process has no descriptor left. */
export function outOfDescriptors(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && NO_DESCRIPTOR.has(code);
}

/**
 * LIMIT_REACHED for a connect that found no file descriptor free. The pool first closes an idle connection to
 * make room (pool.ts); this is what a caller sees when every connection is busy.
 */
export function descriptorLimit(host: string, errno: string): ScoutError {
  return new ScoutError(
    'LIMIT_REACHED',
    `scoutd has no file descriptor left to connect to ${host} (${errno}) and no idle connection to close for one: wait for calls to end, close connections (scoutctl drop HOST), lower SCOUT_MAX_POOL_SIZE, or raise the limit (LimitNOFILE in the service unit)`,
    { host, errno, resource: 'file-descriptors' },
  );
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
  if (code && NO_DESCRIPTOR.has(code)) return descriptorLimit(host, code);
  if (code && CONNECT_CODES.has(code)) {
    return new ScoutError('CONNECT_FAILED', `cannot connect to ${host} (${addr}): ${code}`, { host, addr, errno: code });
  }
  if (e?.level === 'client-dns') {
    return new ScoutError('CONNECT_FAILED', `cannot resolve ${host}: ${why}`, { host, addr });
  }
  return new ScoutError('CONNECT_FAILED', `cannot connect to ${host} (${addr}): ${why}`, { host, addr, level: e?.level });
}

/**
 * A ProxyJump target could not be reached because of its jump host `hop` (the hop's own connect failed, or
 * it could not open the forwarded channel). The code is the hop's; the message and `data.hop` name the hop.
 * The hop's own connect was already retried by the pool, so this is never retried again at the target.
 */
export function jumpFailed(host: string, hop: string, err: unknown): ScoutError {
  if (err instanceof ScoutError) {
    return new ScoutError(err.code, `cannot reach ${host} through jump host ${hop}: ${err.message}`, { ...err.details, host, hop, transient: false });
  }
  const e = err as SshLikeError;
  // A refused `direct-tcpip` open: the jump host is up but cannot (or may not) connect to the target.
  const why = e?.message ?? String(err);
  return new ScoutError('CONNECT_FAILED', `cannot reach ${host}: jump host ${hop} could not open a connection to it: ${why}`, {
    host,
    hop,
    transient: false,
    ...(typeof e?.reason === 'number' ? { openFailure: e.reason } : {}),
  });
}

/** A connection that was up went away (socket closed, keepalive timeout, protocol error). */
export function connectionLost(host: string, reason: string, details: Record<string, unknown> = {}): ScoutError {
  return new ScoutError('CONNECTION_LOST', `connection to ${host} was lost: ${reason}`, { host, ...details });
}

/**
 * Errnos and ssh2 levels of connect failures worth another try: the host may be restarting, a listener
 * backlog overflowed, a handshake was cut (sshd's MaxStartups drops it: level 'protocol', "connection lost
 * before handshake"). DNS names that do not exist, auth and host-key failures are final.
 */
const TRANSIENT_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const TRANSIENT_LEVELS = new Set(['protocol', 'client-socket']);

/** Whether a failed connect (already mapped) may succeed if tried again shortly. */
export function isTransientConnectError(err: unknown): boolean {
  if (!(err instanceof ScoutError) || err.details.transient === false) return false;
  if (err.code === 'CONNECT_TIMEOUT') return true;
  if (err.code !== 'CONNECT_FAILED') return false;
  if (typeof err.details.errno === 'string') return TRANSIENT_ERRNOS.has(err.details.errno);
  return typeof err.details.level === 'string' && TRANSIENT_LEVELS.has(err.details.level);
}

/**
 * Whether a failed connect looks like the server cutting the handshake short (sshd's MaxStartups drops
 * pending connections that way: reset, or closed before the key exchange), rather than being down, slow or
 * refusing us: what makes startups.ts lower its limit for that server.
 */
export function isDroppedHandshake(err: unknown): boolean {
  if (!(err instanceof ScoutError) || err.code !== 'CONNECT_FAILED') return false;
  if (typeof err.details.errno === 'string') return ['ECONNRESET', 'EPIPE', 'ECONNABORTED'].includes(err.details.errno);
  return typeof err.details.level === 'string' && TRANSIENT_LEVELS.has(err.details.level);
}

/**
 * Why a ready connection went away. ssh2 reports unanswered keepalives as level 'client-timeout'
 * ("Keepalive timeout"): the peer stopped answering without closing TCP.
 */
export function mapLostError(host: string, err: unknown, keepalive: { intervalMs: number; countMax: number }): ScoutError {
  const e = err as SshLikeError;
  if (e?.level === 'client-timeout') {
    return new ScoutError('CONNECTION_LOST', `connection to ${host} was lost: no answer to ${keepalive.countMax} keepalives ${keepalive.intervalMs} ms apart`, { host, keepalive: true });
  }
  return connectionLost(host, e?.message ?? String(err));
}

/**
 * A channel that never opened (the command did not run). `refused` when the server answered the open
 * with a failure (RFC 4254 §5.1), as sshd does above MaxSessions, as opposed to the connection dying.
 */
export function channelOpenFailed(host: string, what: string, err: unknown): ScoutError {
  if (err instanceof ScoutError) return err;
  const e = err as SshLikeError;
  const refused = typeof e?.reason === 'number';
  return new ScoutError('CHANNEL_FAILED', `could not open ${what} on ${host}: ${e?.message ?? String(err)}`, { host, ran: false, refused, ...(refused ? { openFailure: e.reason } : {}) });
}

/** Whether an error is a channel open the server refused (retried on a freed slot, never shown to callers). */
export function isRefusedOpen(err: unknown): boolean {
  return err instanceof ScoutError && err.code === 'CHANNEL_FAILED' && err.details.refused === true;
}

/**
 * Whether a failed channel open was the server's answer (SSH_MSG_CHANNEL_OPEN_FAILURE, which ssh2 reports
 * with a numeric `reason`) rather than a lost connection. sshd answers "open failed" when a session would
 * exceed MaxSessions, which it can do while we are within the limit (see SshConnection.exec).
 */
export function isOpenRefusal(err: unknown): boolean {
  return typeof (err as { reason?: unknown })?.reason === 'number';
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
