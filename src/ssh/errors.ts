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
