import { z } from 'zod';
import { HostName } from './common.js';

export interface ConnectionInfo {
  host: string;
  id: number;
  state: 'connecting' | 'ready' | 'closing';
  since: string;
  lastUsed: string;
  uses: number;
  errors: number;
  /** Slots: open now, the limit (lowered when the server refused opens), queued callers, most held at once. */
  channels: { open: number; limit: number; queued?: number; peak?: number; configuredLimit?: number };
  /** Calls that queued for a channel on this connection, their total wait, and opens the server refused. */
  waits?: number;
  waitMs?: number;
  refusedOpens?: number;
  /** Resident shells alive on this connection (the exec fast path); each holds one of the open channels. */
  warmShells?: number;
  keepalive: { intervalMs: number; countMax: number };
  /** An extra connection opened because the host's channels were all taken (SCOUT_MAX_CONNECTIONS_PER_HOST). */
  overflow?: boolean;
  /** Taken out of service by a reload (the host's settings changed): finishes the calls on it, then closes. */
  retiring?: boolean;
}

export interface HostMetrics {
  host: string;
  created: number;
  closed: number;
  uses: number;
  errors: Record<string, number>;
  /** Connections opened after the first one. */
  reconnects?: number;
  /** Transient connect failures tried again (backoff). */
  connectRetries?: number;
  /** Connections dropped because the peer stopped answering keepalives. */
  keepaliveFailures?: number;
  /** Calls that queued for a channel slot, and their total wait. */
  channelWaits?: number;
  channelWaitMs?: number;
  /** Channel opens the server refused (retried; callers never see them). */
  refusedOpens?: number;
  /** Calls run a second time (the command never ran, or a read after a lost connection). */
  retriedCalls?: number;
  /** Calls waiting for a channel right now. */
  queued?: number;
}

export interface PoolListResult {
  connections: ConnectionInfo[];
  hosts: HostMetrics[];
}

export const PoolDropParams = z.object({ host: HostName }).strict();
export interface PoolDropResult {
  closed: number;
}
