// The one table of Scout error codes, shared by the daemon, scoutctl and scout-mcp.
// Kept free of dependencies so every client can import it without cost.

/** Standard JSON-RPC 2.0 error codes. */
export const RpcCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
} as const;

/** Scout error names and their numeric JSON-RPC codes (-32000…-32099). The name travels in `error.data.code`. */
export const ScoutCodes = {
  UNKNOWN_HOST: -32001,
  CONNECT_FAILED: -32002,
  CONNECT_TIMEOUT: -32003,
  AUTH_FAILED: -32004,
  HOST_KEY_UNKNOWN: -32005,
  HOST_KEY_MISMATCH: -32006,
  CONNECTION_LOST: -32007,
  COMMAND_TIMEOUT: -32008,
  CANCELLED: -32009,
  REMOTE_NOT_FOUND: -32010,
  REMOTE_PERMISSION_DENIED: -32011,
  REMOTE_IO: -32012,
  TOO_LARGE: -32013,
  LOCAL_PATH: -32014,
  BUSY: -32015,
  PROTOCOL_MISMATCH: -32016,
  SHUTTING_DOWN: -32017,
  POLICY_DENIED: -32018,
  HOST_KEY_REVOKED: -32019,
  CHANNEL_FAILED: -32020,
  NOT_FOUND: -32021,
  LIMIT_REACHED: -32022,
  /** Client side: no daemon answers on the socket, or it went away mid-call. */
  DAEMON_UNAVAILABLE: -32023,
  /** Client side: the socket or its directory could belong to another user; nothing was sent to it. */
  SOCKET_UNTRUSTED: -32024,
  /** A reload found a configuration file it cannot honour; what was in force stays. */
  CONFIG_INVALID: -32025,
} as const;

export type ScoutCode = keyof typeof ScoutCodes;

/** Names for the standard codes, so every error has a name in `data.code`. */
const standardNames: Record<number, string> = {
  [RpcCode.PARSE_ERROR]: 'PARSE_ERROR',
  [RpcCode.INVALID_REQUEST]: 'INVALID_REQUEST',
  [RpcCode.METHOD_NOT_FOUND]: 'METHOD_NOT_FOUND',
  [RpcCode.INVALID_PARAMS]: 'INVALID_PARAMS',
  [RpcCode.INTERNAL_ERROR]: 'INTERNAL_ERROR',
};

const namesByNumber: Record<number, string> = Object.fromEntries(
  Object.entries(ScoutCodes).map(([name, num]) => [num, name]),
);

/** The stable name of a numeric code (`-32006` → `HOST_KEY_MISMATCH`). */
export function codeName(code: number): string {
  return namesByNumber[code] ?? standardNames[code] ?? 'ERROR';
}

/** Structured details that cross the wire in `error.data`. `code` is always the stable name. */
export interface ScoutErrorData {
  code: string;
  [key: string]: unknown;
}

/** An error with a stable code, a message a person can act on, and structured data. */
export class ScoutError extends Error {
  /** Stable name, e.g. `UNKNOWN_HOST` or `INVALID_PARAMS`. */
  readonly code: string;
  /** Numeric JSON-RPC code. */
  readonly rpcCode: number;
  /** Extra structured details (host, path, fingerprints…). Never secrets. */
  readonly details: Record<string, unknown>;

  constructor(code: ScoutCode | string, message: string, details: Record<string, unknown> = {}, rpcCode?: number) {
    super(message);
    this.name = 'ScoutError';
    this.code = code;
    this.rpcCode = rpcCode ?? (ScoutCodes as Record<string, number>)[code] ?? RpcCode.INTERNAL_ERROR;
    this.details = details;
  }

  /** The `error` member of a JSON-RPC response. */
  toJSON(): { code: number; message: string; data: ScoutErrorData } {
    return { code: this.rpcCode, message: this.message, data: { ...this.details, code: this.code } };
  }

  /** Rebuild from a JSON-RPC error object received on the wire. */
  static fromRpc(err: { code: number; message: string; data?: unknown }): ScoutError {
    const data = (err.data && typeof err.data === 'object' ? err.data : {}) as Record<string, unknown>;
    const name = typeof data.code === 'string' ? data.code : codeName(err.code);
    const { code: _ignored, ...details } = data;
    return new ScoutError(name, err.message, details, err.code);
  }
}

/** True when `err` is a ScoutError, optionally with the given code. */
export function isScoutError(err: unknown, code?: ScoutCode | string): err is ScoutError {
  return err instanceof ScoutError && (code === undefined || err.code === code);
}
