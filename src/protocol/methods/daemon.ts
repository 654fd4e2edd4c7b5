import { z } from 'zod';

/**
 * A narrowing of this connection's rights, for the rest of it (scout-mcp --http sends one per API key):
 * the hosts it may reach (aliases or fleet patterns; none means no host) and whether it may change anything.
 */
export const Grant = z
  .object({
    /** Who holds it, as refusals and the log say it ("key ci-bot"). */
    name: z.string().min(1).max(200),
    hosts: z.array(z.string().min(1).max(255)).max(1000),
    readOnly: z.boolean(),
  })
  .strict();
export type Grant = z.infer<typeof Grant>;

export const HelloParams = z.object({
  client: z.string().max(200),
  version: z.string().max(100).optional(),
  protocol: z.number().int().min(0).max(1_000_000),
  grant: Grant.optional(),
  /** The client reads long strings sent as raw bytes after their line (src/protocol/blobs.ts). */
  blobs: z.boolean().optional(),
});
export type HelloParams = z.infer<typeof HelloParams>;
export interface HelloResult {
  daemon: 'scoutd';
  version: string;
  protocol: number;
  pid: number;
  startedAt: string;
  /** Present when the daemon will send this connection blobs (the client asked). */
  blobs?: true;
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
  /** 'systemd' when scoutd serves on a socket systemd passed it (socket activation). */
  activation?: 'systemd';
  sshConfig: string;
  hosts: number;
  clients: number;
  inFlight: number;
  settings: SettingView[];
  counters: { requests: number; errors: Record<string, number> };
  pool: PoolSummary;
  /** The exec fast path: calls served by resident shells, fallbacks to exec channels by reason, shells started and replaced. */
  warmShell?: { hits: number; direct: number; fallbacks: Record<string, number>; started: number; restarts: number; live: number };
  /** Background jobs held by the daemon. */
  jobs?: { running: number; finished: number };
  /** Port forwards held by the daemon (forward.list has each one). */
  forwards?: Array<import('./forward.js').ForwardInfo>;
  rssBytes: number;
  warnings: string[];
  /** Per-host policy (Scout config file): the file and the hosts it restricts. */
  policy?: { file: string; present: boolean; hosts: PolicyView[] };
}

/** One host restricted by policy, as `daemon.status` shows it. */
export interface PolicyView {
  host: string;
  /** The config entry that applies (the alias or a glob). */
  entry: string;
  readOnly: boolean;
  /** Number of allow / deny command patterns. */
  allow: number;
  deny: number;
  roots: string[];
  /** What a person must approve there (`commands` when there are command patterns, `writes`, …). */
  confirm: string[];
  /** sudo is allowed there (policy `sudo`). */
  sudo: boolean;
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

export const DoctorParams = z.union([z.object({ probe: z.boolean().optional() }).strict(), z.undefined(), z.null()]);
export type DoctorParams = z.infer<typeof DoctorParams>;

/** `daemon.doctor`: what the daemon can check that a client cannot (it is the one reading config and keys). */
export interface DoctorResult {
  sshConfig: { path: string; ok: boolean; hosts: number; error?: string };
  /** The daemon's ssh-agent (SSH_AUTH_SOCK): unset, reachable with N keys, or unreachable. */
  agent: { socket: string | null; ok: boolean; keys?: number; error?: string };
  /** Host key checking mode from the daemon's environment ('yes', 'accept-new', 'no'). */
  strictHostKeyChecking: string;
  hosts: DoctorHost[];
}

export interface DoctorHost {
  name: string;
  hostname: string;
  port: number;
  /** Effective StrictHostKeyChecking for this host. */
  strict: string;
  /** The known_hosts entry for `[hostname]:port` (or HostKeyAlias): key types on file, in which files. */
  knownHosts: { found: boolean; keyTypes: string[]; files: string[]; name: string; error?: string };
  /**
   * When the ssh config sets Ciphers, MACs, KexAlgorithms or HostKeyAlgorithms: whether scoutd can honour
   * them (`error`: a keyword leaves nothing ssh2 supports, connects fail with CONFIG_INVALID) and the names it
   * leaves out (`dropped`, one line per keyword).
   */
  algorithms?: { ok: boolean; error?: string; dropped: string[] };
  /** With probe: one `true` over the pooled connection (connect + login + exec when cold). */
  probe?: { ok: boolean; latencyMs: number; warm: boolean; code?: string; error?: string };
}
