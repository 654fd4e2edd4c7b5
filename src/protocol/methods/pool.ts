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
  channels: { open: number; limit: number };
  /** Resident shells alive on this connection (the exec fast path); each holds one of the open channels. */
  warmShells?: number;
  keepalive: { intervalMs: number; countMax: number };
}

export interface HostMetrics {
  host: string;
  created: number;
  closed: number;
  uses: number;
  errors: Record<string, number>;
}

export interface PoolListResult {
  connections: ConnectionInfo[];
  hosts: HostMetrics[];
}

export const PoolDropParams = z.object({ host: HostName }).strict();
export interface PoolDropResult {
  closed: number;
}
