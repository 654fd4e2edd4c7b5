// What a method handler sees: its validated params and a context (request id, logger, cancellation,
// notifications back to the caller). Handlers never touch sockets or JSON-RPC framing.
import type { Logger } from 'pino';
import type { HostRegistry } from '../hosts/registry.js';
import type { TrustContext } from '../hosts/trust.js';
import type { Pool } from '../pool/pool.js';
import type { Forwards } from './forwards.js';
import type { Shells } from './handlers/shell.js';
import type { JobTable } from './jobs.js';
import type { Policy, RemoteResolver } from './policy.js';
import type { Grant } from './grant.js';
import type { Approvals } from './approvals.js';
import type { AuditLog } from './audit.js';
import type { HostKeyResult, HostTrustResult, SettingView } from '../protocol/methods/index.js';
import type { MethodName, NotificationName, Notifications, ResultOf, ValidParamsOf } from '../protocol/table.js';
import type { Settings } from './settings.js';
import type { Wire } from '../protocol/blobs.js';
import type { WarmShellCounters } from '../ssh/warm-shells.js';

export interface CallContext {
  /** Request id, carried by every log line of this call. */
  reqId: string;
  log: Logger;
  /** Aborted when the caller sends `$/cancel`, disconnects, or the daemon shuts down; `reason` says which. */
  signal: AbortSignal;
  /**
   * Send a notification to this caller (progress, streamed output). Returns false when the caller's unread
   * backlog is over the bound (as `backlogged()`): a producer that can pause should await `whenWritable()`.
   */
  notify<N extends NotificationName>(method: N, params: Notifications[N]): boolean;
  /** True while this caller's unread backlog is over the bound: a producer that can pause (a stream) should. */
  backlogged(): boolean;
  /** Resolves at once when the backlog is under the bound, else when the caller has read it all (or is gone). */
  whenWritable(): Promise<void>;
  /** The client's name from `daemon.hello`. */
  clientName: string;
  /** The client connection this call came on (approvals a narrowed connection may decide are its own). */
  sessionId: number;
  /** The connection's grant, when its hello narrowed it (scout-mcp --http: one per API key). */
  grant: Grant | undefined;
  /** Narrow this connection for the rest of it (daemon.hello). Refused when it already holds another grant. */
  narrow(grant: Grant): void;
  /** From now on send this connection's long strings as raw bytes after their line (daemon.hello `blobs`). */
  sendBlobs(): void;
  /** The JSON-RPC id of this call, for notifications tagged with it. */
  rpcId: string | number;
  /**
   * After this call's answer is written, hand the connection to `take` as raw bytes (shell.attach): no more
   * JSON on it. Refused (throws) when the connection has other calls in flight or the call came in a batch.
   */
  upgrade(take: (sock: import('node:net').Socket) => void): void;
}

/** Long-lived services shared by every handler. */
export interface Services {
  settings: Settings;
  settingsView: SettingView[];
  registry: HostRegistry;
  /** Host-key trust settings (known_hosts files, strictness), for checks outside a connect. */
  trust: TrustContext;
  pool: Pool;
  /** Exec fast-path counters shared by every connection (daemon.status). */
  warmShellCounters?: WarmShellCounters;
  /** Background jobs (jobs.*), owned by the daemon rather than by any call. */
  jobs: JobTable;
  /** Port forwards (forward.*), owned by the daemon and outliving their callers. */
  forwards: Forwards;
  /** Interactive sessions (shell.*). */
  shells: Shells;
  log: Logger;
  startedAt: Date;
  /** Live numbers owned by the server (clients, in-flight calls). */
  stats(): { clients: number; inFlight: number; requests: number; errors: Record<string, number> };
  /** Ask the daemon to shut down after the current response is sent. */
  requestShutdown(reason: string): void;
  /** 'systemd' when the listening socket was passed in (socket activation), else undefined. */
  activation(): 'systemd' | undefined;
  /** Re-read configuration. */
  reload(): { hosts: number; added: string[]; removed: string[]; changed: string[] };
  warnings: string[];
  /** Calls waiting for a person's approval (policy `confirm`). */
  approvals: Approvals;
  /** Per-host policy; replaced on reload. */
  policy: Policy;
  /** Resolve a remote path on the host itself (realpath semantics), for policy roots. */
  resolveRemote: RemoteResolver;
  audit: AuditLog;
  /** The key a host offers now and its known_hosts status; recording it (scoutctl trust). */
  hostKeys: {
    inspect(host: string): Promise<HostKeyResult>;
    trust(host: string, fingerprint: string): Promise<HostTrustResult>;
  };
}

/** The handler of method M: its validated params in, the table's result type out (strings may be Utf8Bytes). */
export type Handler<M extends MethodName> = (params: ValidParamsOf<M>, ctx: CallContext) => Wire<ResultOf<M>> | Promise<Wire<ResultOf<M>>>;

/** Handlers for some methods of the table (one file's share); a name the table lacks fails tsc. */
export type Handlers<K extends MethodName> = { [M in K]: Handler<M> };

/** One handler for every method of the table: what the daemon registers. A missing one fails tsc. */
export type HandlerTable = Handlers<MethodName>;
