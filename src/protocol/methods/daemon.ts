import { z } from 'zod';

export const HelloParams = z.object({
  client: z.string().max(200),
  version: z.string().max(100).optional(),
  protocol: z.number().int(),
});
export type HelloParams = z.infer<typeof HelloParams>;
export interface HelloResult {
  daemon: 'scoutd';
  version: string;
  protocol: number;
  pid: number;
  startedAt: string;
}

export const NoParams = z.union([z.object({}).strict(), z.array(z.never()).length(0), z.undefined(), z.null()]);

export interface SettingView {
  name: string;
  env: string;
  value: unknown;
  default: unknown;
  source: 'env' | 'default';
}

export interface StatusResult {
  version: string;
  protocol: number;
  pid: number;
  uptimeMs: number;
  startedAt: string;
  socket: string;
  sshConfig: string;
  hosts: number;
  clients: number;
  inFlight: number;
  settings: SettingView[];
  counters: { requests: number; errors: Record<string, number> };
  pool: PoolSummary;
  /** The exec fast path: calls served by resident shells, fallbacks to exec channels by reason, shells started and replaced. */
  warmShell?: { hits: number; fallbacks: Record<string, number>; started: number; restarts: number; live: number };
  /** Background jobs held by the daemon. */
  jobs?: { running: number; finished: number };
  rssBytes: number;
  warnings: string[];
}

export interface PoolSummary {
  connections: number;
  created: number;
  closed: number;
  uses: number;
  channelsOpen: number;
  /** Totals over every host; see HostMetrics in pool.ts for each. */
  reconnects?: number;
  queued?: number;
  channelWaits?: number;
  channelWaitMs?: number;
  refusedOpens?: number;
  connectRetries?: number;
  keepaliveFailures?: number;
  retriedCalls?: number;
  errors?: Record<string, number>;
}

export interface ReloadResult {
  hosts: number;
  added: string[];
  removed: string[];
  changed: string[];
}
