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
  /**
   * A configuration file asks for what scoutd cannot honour: at reload (what was in force stays), or a host's
   * ssh config (e.g. Ciphers with no name ssh2 supports: connects to that host are refused, `data.keyword`).
   */
  CONFIG_INVALID: -32025,
  /** scout-mcp --http: this key (or address) sent more than its rate allows; retry after `retryAfterSeconds`. */
  RATE_LIMITED: -32026,
  /** The policy wants a person to confirm this call and the caller could not wait: decide `approvalId`, retry. */
  APPROVAL_PENDING: -32027,
  /** sudo refused the password, or asked something Scout did not expect; nothing ran as root. */
  SUDO_FAILED: -32028,
} as const;

export type ScoutCode = keyof typeof ScoutCodes;

/** Every code an error can carry: Scout's and the standard ones. A closed union: a typo fails tsc. */
export type ErrorCode = ScoutCode | keyof typeof RpcCode;

/** Numeric JSON-RPC code of every name, standard ones included: INVALID_PARAMS is -32602 by itself. */
const NUMBERS: Record<ErrorCode, number> = { ...RpcCode, ...ScoutCodes };
const NAMES: Record<number, ErrorCode> = Object.fromEntries(Object.entries(NUMBERS).map(([name, num]) => [num, name as ErrorCode]));

/** The stable name of a numeric code (`-32006` → `HOST_KEY_MISMATCH`); an unknown number is INTERNAL_ERROR. */
export function codeName(code: number): ErrorCode {
  return NAMES[code] ?? 'INTERNAL_ERROR';
}

function isErrorCode(name: unknown): name is ErrorCode {
  return typeof name === 'string' && Object.hasOwn(NUMBERS, name);
}

/** Structured details that cross the wire in `error.data`. `code` is always the stable name. */
export interface ScoutErrorData {
  code: string;
  [key: string]: unknown;
}

/** The `error` member of a JSON-RPC response, as every Scout error leaves the daemon. */
export interface WireError {
  code: number;
  message: string;
  data: ScoutErrorData;
}

/** An error with a stable code, a message a person can act on, and structured data. */
export class ScoutError extends Error {
  /** Stable name, e.g. `UNKNOWN_HOST` or `INVALID_PARAMS`. */
  readonly code: ErrorCode;
  /** Extra structured details (host, path, fingerprints…). Never secrets. */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ScoutError';
    this.code = code;
    this.details = details;
  }

  /** Numeric JSON-RPC code, from the name. */
  get rpcCode(): number {
    return NUMBERS[this.code];
  }

  /** The one serializer: the `error` member of a JSON-RPC response. */
  toJSON(): WireError {
    return { code: this.rpcCode, message: this.message, data: { ...this.details, code: this.code } };
  }

  /** Rebuild from a JSON-RPC error object received on the wire. */
  static fromRpc(err: { code: number; message: string; data?: unknown }): ScoutError {
    const data = (err.data && typeof err.data === 'object' ? err.data : {}) as Record<string, unknown>;
    const { code: name, ...details } = data;
    return new ScoutError(isErrorCode(name) ? name : codeName(err.code), err.message, details);
  }
}

/** True when `err` is a ScoutError, optionally with the given code. */
export function isScoutError(err: unknown, code?: ErrorCode): err is ScoutError {
  return err instanceof ScoutError && (code === undefined || err.code === code);
}

// Constructors for the codes raised in many places, so each says the same thing the same way.

/** INVALID_PARAMS for `method`: `'field' message`, as the dispatcher words schema failures. */
export function invalidParams(method: string, field: string | undefined, message: string, details: Record<string, unknown> = {}): ScoutError {
  return new ScoutError('INVALID_PARAMS', `invalid params for ${method}: ${field ? `'${field}'` : 'params'} ${message}`, { method, ...details });
}

/** SHUTTING_DOWN: scoutd is stopping, and `what` (if said) did not happen or was stopped; retry once it is back. */
export function shuttingDown(what?: string, details: Record<string, unknown> = {}): ScoutError {
  return new ScoutError('SHUTTING_DOWN', `scoutd is shutting down${what ? `: ${what}` : ''}; retry once it is back`, details);
}

/** CANCELLED: `what` was cancelled (by its caller, or because the caller went away). */
export function cancelled(what: string, details: Record<string, unknown> = {}): ScoutError {
  return new ScoutError('CANCELLED', `${what} was cancelled`, details);
}

/**
 * Why an aborted operation ended: the abort's own reason when it is a ScoutError (CANCELLED by the client,
 * SHUTTING_DOWN, a timeout), else CANCELLED for `what`.
 */
export function abortReason(signal: AbortSignal | undefined, what: string, details: Record<string, unknown> = {}): ScoutError {
  const r: unknown = signal?.reason;
  return r instanceof ScoutError ? r : cancelled(what, details);
}
