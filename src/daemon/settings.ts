// Every daemon setting in one place: its environment variable, its default, its unit. `daemon.status`
// shows the table and docs/settings.md documents it. Names follow the Python Scout MCP where it has one.
import os from 'node:os';
import path from 'node:path';
import { DIALECTS, compileGlob, type Glob } from '../protocol/glob.js';
import { commaList } from '../protocol/values.js';
import { MAX_OUTPUT_BYTES } from '../protocol/methods/common.js';
import { defaultSocketPath, stateDir } from '../protocol/paths.js';
import { configPath as scoutConfigPath } from './policy.js';
import type { SettingView } from '../protocol/methods/index.js';

export type StrictMode = 'yes' | 'accept-new' | 'no';

export type ExecMode = 'auto' | 'on' | 'off';

/** SCOUT_EXEC_MODE: a default mode, optionally followed by per-host modes (`auto,db1=off,web*=on`). */
export interface ExecModeSetting {
  default: ExecMode;
  /** Alias patterns (globs, as fleet patterns read them) and their modes; the first match wins. */
  hosts: Array<{ pattern: string; mode: ExecMode; glob: Glob }>;
}

/** The mode for one call: the call's own `mode`, else the host's entry in SCOUT_EXEC_MODE, else its default. */
export function execModeFor(setting: ExecModeSetting, host: string, callMode?: ExecMode): ExecMode {
  if (callMode) return callMode;
  for (const h of setting.hosts) if (h.glob.test(host)) return h.mode;
  return setting.default;
}

export interface Settings {
  socketPath: string;
  sshConfigPath: string;
  /** The Scout config file (per-host policy). */
  configPath: string;
  /** JSON lines, one per call that touches a host. */
  auditLogPath: string;
  /** Durable jobs (job-journal.ts): what a restarted scoutd reattaches. */
  jobJournalPath: string;
  /** Overrides every host's known_hosts files when set. */
  knownHostsPath?: string;
  strictHostKeyChecking: StrictMode;
  /** Default bound on a command's run time. */
  commandTimeoutMs: number;
  /** Connections idle (no channel open) longer than this are closed by the reaper. */
  idleTimeoutMs: number;
  maxPoolSize: number;
  maxFileSize: number;
  maxOutputBytes: number;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  maxSessions: number;
  /** Calls that may wait for a channel on one connection; beyond that, BUSY at once. */
  channelQueue: number;
  /** Connections per host: more than 1 lets a burst open overflow connections instead of queueing. */
  maxConnectionsPerHost: number;
  /** In-flight calls get this long to finish on shutdown before they are cancelled. */
  shutdownGraceMs: number;
  /** Bytes of output kept per background job (oldest dropped first). */
  jobBufferBytes: number;
  /** Finished jobs are forgotten this long after they end. */
  jobTtlMs: number;
  /** Jobs kept at once, running and finished. */
  maxJobs: number;
  /** Running jobs per host (each holds one of the connection's MaxSessions channels). */
  maxJobsPerHost: number;
  /** Default bound on a job's run time. */
  jobTimeoutMs: number;
  /** Calls one client connection may have in flight; more get BUSY. */
  /** How long a call that needs a person's approval waits for the decision. */
  approvalTimeoutMs: number;
  maxClientCalls: number;
  clientStallMs: number;
  /** How ssh.exec runs commands: through resident shells (auto/on) or an exec channel each (off). */
  execMode: ExecModeSetting;
  /** Resident shells per connection for the exec fast path. */
  warmShells: number;
  logLevel: string;
  home: string;
  localUser: string;
  agentSocket?: string;
}

interface Spec {
  key: keyof Settings;
  env: string;
  legacy?: string;
  def: unknown;
  parse: (raw: string) => unknown;
  /** Shown in status in this unit (seconds for env compatibility with Scout MCP). */
  show?: (v: unknown) => unknown;
}

const seconds = (name: string) => (raw: string) => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number of seconds, got '${raw}'`);
  return Math.round(n * 1000);
};
const positiveInt =
  (name: string, max = Number.MAX_SAFE_INTEGER) =>
  (raw: string) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got '${raw}'`);
    if (n > max) throw new Error(`${name} is at most ${max}, got '${raw}'`);
    return n;
  };
const strictMode = (raw: string): StrictMode => {
  const v = raw.trim().toLowerCase();
  if (['yes', 'true', '1', 'ask', 'strict'].includes(v)) return 'yes';
  if (v === 'accept-new') return 'accept-new';
  if (['no', 'false', '0', 'off'].includes(v)) return 'no';
  throw new Error(`SCOUT_STRICT_HOST_KEY_CHECKING must be yes, accept-new or no, got '${raw}'`);
};
const asSeconds = (v: unknown) => (v as number) / 1000;
const MODES: ExecMode[] = ['auto', 'on', 'off'];
const execMode = (raw: string): ExecModeSetting => {
  const bad = () => new Error(`SCOUT_EXEC_MODE must be auto, on or off, optionally followed by HOST=MODE entries (e.g. auto,db1=off), got '${raw}'`);
  const out: ExecModeSetting = { default: 'auto', hosts: [] };
  commaList(raw).forEach((item, i) => {
    const eq = item.indexOf('=');
    const mode = (eq < 0 ? item : item.slice(eq + 1)).toLowerCase() as ExecMode;
    if (!MODES.includes(mode)) throw bad();
    if (eq < 0) {
      if (i !== 0) throw bad();
      out.default = mode;
    } else {
      if (eq === 0) throw bad();
      const pattern = item.slice(0, eq);
      let glob: Glob;
      try {
        glob = compileGlob(pattern, DIALECTS.hostSetting);
      } catch {
        throw new Error(`SCOUT_EXEC_MODE: '${pattern}' is not a valid host pattern (a class such as [z-a] is reversed), got '${raw}'`);
      }
      out.hosts.push({ pattern, mode, glob });
    }
  });
  return out;
};
const showExecMode = (v: unknown) => {
  const s = v as ExecModeSetting;
  return [s.default, ...s.hosts.map((h) => `${h.pattern}=${h.mode}`)].join(',');
};

const SPECS: Spec[] = [
  { key: 'commandTimeoutMs', env: 'SCOUT_COMMAND_TIMEOUT', legacy: 'MCP_CAT_COMMAND_TIMEOUT', def: 30_000, parse: seconds('SCOUT_COMMAND_TIMEOUT'), show: asSeconds },
  // Generous: warm connections across agent sessions are the point of the daemon.
  { key: 'idleTimeoutMs', env: 'SCOUT_IDLE_TIMEOUT', legacy: 'MCP_CAT_IDLE_TIMEOUT', def: 1_800_000, parse: seconds('SCOUT_IDLE_TIMEOUT'), show: asSeconds },
  { key: 'maxPoolSize', env: 'SCOUT_MAX_POOL_SIZE', def: 100, parse: positiveInt('SCOUT_MAX_POOL_SIZE') },
  { key: 'maxFileSize', env: 'SCOUT_MAX_FILE_SIZE', legacy: 'MCP_CAT_MAX_FILE_SIZE', def: 1_048_576, parse: positiveInt('SCOUT_MAX_FILE_SIZE') },
  { key: 'maxOutputBytes', env: 'SCOUT_MAX_OUTPUT_BYTES', def: 1_048_576, parse: positiveInt('SCOUT_MAX_OUTPUT_BYTES', MAX_OUTPUT_BYTES) },
  { key: 'strictHostKeyChecking', env: 'SCOUT_STRICT_HOST_KEY_CHECKING', def: 'yes', parse: strictMode },
  { key: 'connectTimeoutMs', env: 'SCOUT_CONNECT_TIMEOUT', def: 10_000, parse: seconds('SCOUT_CONNECT_TIMEOUT'), show: asSeconds },
  // 15 s × (3 + 1) = a dead link is noticed within a minute, at one small packet per interval.
  { key: 'keepaliveIntervalMs', env: 'SCOUT_KEEPALIVE_INTERVAL', def: 15_000, parse: seconds('SCOUT_KEEPALIVE_INTERVAL'), show: asSeconds },
  { key: 'keepaliveCountMax', env: 'SCOUT_KEEPALIVE_COUNT_MAX', def: 3, parse: positiveInt('SCOUT_KEEPALIVE_COUNT_MAX') },
  // OpenSSH's MaxSessions default.
  { key: 'maxSessions', env: 'SCOUT_MAX_SESSIONS', def: 10, parse: positiveInt('SCOUT_MAX_SESSIONS') },
  // 1000 waiting calls at ~10 ms each is ten seconds of work: beyond that, saying BUSY beats a long silence.
  // 1: one login per host, bursts queue (every call still succeeds). Raise it when one host serves many
  // long-running calls at once, so that short ones are not stuck behind them.
  { key: 'maxConnectionsPerHost', env: 'SCOUT_MAX_CONNECTIONS_PER_HOST', def: 1, parse: positiveInt('SCOUT_MAX_CONNECTIONS_PER_HOST') },
  { key: 'channelQueue', env: 'SCOUT_CHANNEL_QUEUE', def: 1000, parse: positiveInt('SCOUT_CHANNEL_QUEUE') },
  { key: 'shutdownGraceMs', env: 'SCOUT_SHUTDOWN_GRACE', def: 5_000, parse: seconds('SCOUT_SHUTDOWN_GRACE'), show: asSeconds },
  // 1 MiB per job × SCOUT_MAX_JOBS (32) bounds job output memory at 32 MiB.
  { key: 'jobBufferBytes', env: 'SCOUT_JOB_BUFFER', def: 1_048_576, parse: positiveInt('SCOUT_JOB_BUFFER') },
  // An hour: long enough for an agent to come back for a build's result, short enough not to pile up.
  { key: 'jobTtlMs', env: 'SCOUT_JOB_TTL', def: 3_600_000, parse: seconds('SCOUT_JOB_TTL'), show: asSeconds },
  { key: 'maxJobs', env: 'SCOUT_MAX_JOBS', def: 32, parse: positiveInt('SCOUT_MAX_JOBS') },
  // 4 of OpenSSH's default 10 sessions per connection: calls keep 6 channels even when jobs are at the limit.
  { key: 'maxJobsPerHost', env: 'SCOUT_MAX_JOBS_PER_HOST', def: 4, parse: positiveInt('SCOUT_MAX_JOBS_PER_HOST') },
  // A day: jobs are for long work (builds, tails), but nothing should run unowned forever.
  { key: 'jobTimeoutMs', env: 'SCOUT_JOB_TIMEOUT', def: 86_400_000, parse: seconds('SCOUT_JOB_TIMEOUT'), show: asSeconds },
  // Five minutes: time for a person to notice and read the request; a call waits no longer.
  { key: 'approvalTimeoutMs', env: 'SCOUT_APPROVAL_TIMEOUT', def: 300_000, parse: seconds('SCOUT_APPROVAL_TIMEOUT'), show: asSeconds },
  // Far above an agent's needs (a fleet.exec is one call); bounds what one runaway client can queue.
  { key: 'maxClientCalls', env: 'SCOUT_MAX_CLIENT_CALLS', def: 256, parse: positiveInt('SCOUT_MAX_CLIENT_CALLS') },
  // A client that takes no byte of its answers for this long, with over 64 MiB of them waiting, is cut off
  // (session.ts, MAX_UNREAD_BYTES): long enough for any reader that reads at all.
  { key: 'clientStallMs', env: 'SCOUT_CLIENT_STALL', def: 10_000, parse: seconds('SCOUT_CLIENT_STALL'), show: asSeconds },
  // auto: short commands run in a resident shell per connection (no per-command session set-up or rc files);
  // commands that need what it cannot give (stdin, env, background children) still get an exec channel.
  { key: 'execMode', env: 'SCOUT_EXEC_MODE', def: { default: 'auto', hosts: [] }, parse: execMode, show: showExecMode },
  // 2 of OpenSSH's default 10 sessions per connection (see DEFAULT_WARM_SHELLS).
  { key: 'warmShells', env: 'SCOUT_WARM_SHELLS', def: 2, parse: positiveInt('SCOUT_WARM_SHELLS') },
  { key: 'logLevel', env: 'SCOUT_LOG_LEVEL', def: 'info', parse: (raw) => raw.toLowerCase() },
];

/** Read settings from the environment. Throws an Error naming the variable on a bad value. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): { settings: Settings; view: SettingView[] } {
  const home = env.HOME || os.homedir();
  const values: Record<string, unknown> = {};
  const view: SettingView[] = [];
  for (const spec of SPECS) {
    const raw = env[spec.env] ?? (spec.legacy ? env[spec.legacy] : undefined);
    const fromEnv = raw !== undefined && raw !== '';
    const value = fromEnv ? spec.parse(raw) : spec.def;
    values[spec.key] = value;
    const show = spec.show ?? ((v: unknown) => v);
    view.push({ name: spec.key, env: spec.env, value: show(value), default: show(spec.def), source: fromEnv ? 'env' : 'default' });
  }
  const socketPath = defaultSocketPath(env);
  const sshConfigPath = env.SCOUT_SSH_CONFIG ? path.resolve(env.SCOUT_SSH_CONFIG) : path.join(home, '.ssh', 'config');
  const configPath = scoutConfigPath(env, home);
  const auditLogPath = env.SCOUT_AUDIT_LOG ? path.resolve(env.SCOUT_AUDIT_LOG) : path.join(stateDir(env), 'audit.log');
  const jobJournalPath = env.SCOUT_JOB_JOURNAL ? path.resolve(env.SCOUT_JOB_JOURNAL) : path.join(stateDir(env), 'jobs.jsonl');
  const knownHostsPath = env.SCOUT_KNOWN_HOSTS ? path.resolve(env.SCOUT_KNOWN_HOSTS) : undefined;
  view.push(
    { name: 'socketPath', env: 'SCOUT_SOCKET', value: socketPath, default: defaultSocketPath({ ...env, SCOUT_SOCKET: '' }), source: env.SCOUT_SOCKET ? 'env' : 'default' },
    { name: 'sshConfigPath', env: 'SCOUT_SSH_CONFIG', value: sshConfigPath, default: '~/.ssh/config', source: env.SCOUT_SSH_CONFIG ? 'env' : 'default' },
    { name: 'configPath', env: 'SCOUT_CONFIG', value: configPath, default: '~/.config/scout/config.json', source: env.SCOUT_CONFIG ? 'env' : 'default' },
    { name: 'auditLogPath', env: 'SCOUT_AUDIT_LOG', value: auditLogPath, default: '$XDG_STATE_HOME/scout/audit.log (~/.local/state/scout/audit.log)', source: env.SCOUT_AUDIT_LOG ? 'env' : 'default' },
    {
      name: 'jobJournalPath',
      env: 'SCOUT_JOB_JOURNAL',
      value: jobJournalPath,
      default: '$XDG_STATE_HOME/scout/jobs.jsonl (~/.local/state/scout/jobs.jsonl)',
      source: env.SCOUT_JOB_JOURNAL ? 'env' : 'default',
    },
    { name: 'knownHostsPath', env: 'SCOUT_KNOWN_HOSTS', value: knownHostsPath ?? null, default: 'UserKnownHostsFile, else ~/.ssh/known_hosts', source: knownHostsPath ? 'env' : 'default' },
  );
  const settings = {
    ...(values as Omit<Settings, 'socketPath' | 'sshConfigPath' | 'configPath' | 'auditLogPath' | 'jobJournalPath' | 'home' | 'localUser'>),
    socketPath,
    sshConfigPath,
    configPath,
    auditLogPath,
    jobJournalPath,
    knownHostsPath,
    home,
    localUser: env.USER || os.userInfo().username,
    agentSocket: env.SSH_AUTH_SOCK || undefined,
  } as Settings;
  return { settings, view };
}
