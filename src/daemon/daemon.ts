// scoutd: wires settings, hosts, the pool and the control socket together, and owns the lifecycle
// (start, reload, graceful shutdown).
import fs from 'node:fs';
import net from 'node:net';
import pino, { type Logger } from 'pino';
import { HostRegistry } from '../hosts/registry.js';
import { inspectHostKey, recordHostKey, strictModeFor, type TrustContext } from '../hosts/trust.js';
import { Pool } from '../pool/pool.js';
import { ScoutError, shuttingDown } from '../protocol/errors.js';
import { packageVersion } from '../protocol/version.js';
import type { SshConnection } from '../ssh/connection.js';
import { Dialer } from './dialer.js';
import { newWarmShellCounters } from '../ssh/warm-shells.js';
import type { HandlerTable, Services } from './context.js';
import { daemonHandlers } from './handlers/daemon.js';
import { hostsHandlers } from './handlers/hosts.js';
import { Shells, shellHandlers } from './handlers/shell.js';
import { forwardHandlers } from './handlers/forward.js';
import { Forwards } from './forwards.js';
import { jobsHandlers } from './handlers/jobs.js';
import { poolHandlers } from './handlers/pool.js';
import { sshHandlers } from './handlers/ssh.js';
import { transferHandlers } from './handlers/transfer.js';
import { fleetHandlers } from './handlers/fleet.js';
import { fsHandlers } from './handlers/fs.js';
import { JobTable } from './jobs.js';
import { JobJournal } from './job-journal.js';
import { Policy } from './policy.js';
import { Approvals } from './approvals.js';
import { approvalsHandlers } from './handlers/approvals.js';
import { AuditLog } from './audit.js';
import { auditHandlers } from './handlers/audit.js';
import { RemoteFs } from '../ssh/transfer.js';
import { Dispatcher } from './rpc.js';
import { Session } from './session.js';
import { StartupError, bindSocket, inheritedListenFd, listenOnFd } from './socket.js';
import { loadSettings, type Settings } from './settings.js';

export interface DaemonOptions {
  env?: NodeJS.ProcessEnv;
  /** Log destination; stdout by default (services capture it). */
  logStream?: NodeJS.WritableStream;
}

export class Daemon {
  readonly settings: Settings;
  readonly log: Logger;
  private readonly registry: HostRegistry;
  private readonly pool: Pool;
  /** Exec fast-path counters, shared by every connection this daemon dials. */
  private readonly warmShellCounters = newWarmShellCounters();
  private readonly jobs: JobTable;
  private readonly forwards: Forwards;
  private readonly shells = new Shells();
  private readonly dispatcher: Dispatcher;
  private readonly audit: AuditLog;
  private readonly server: net.Server;
  private readonly sessions = new Set<Session>();
  private readonly startedAt = new Date();
  private readonly trust: TrustContext;
  private readonly warnings: string[] = [];
  /** True when systemd passed the listening socket: it owns the path, so shutdown leaves it in place. */
  private activated = false;
  private readonly env: NodeJS.ProcessEnv;
  private readonly services: Services;
  private nextSession = 1;
  private requests = 0;
  private readonly errors: Record<string, number> = {};
  private stopping: Promise<void> | undefined;
  private resolveStopped!: () => void;
  /** Resolves once the daemon has shut down completely. */
  readonly stopped = new Promise<void>((r) => (this.resolveStopped = r));

  constructor(opts: DaemonOptions = {}) {
    const env = opts.env ?? process.env;
    this.env = env;
    const { settings, view } = loadSettings(env);
    this.settings = settings;
    this.log = pino(
      { level: settings.logLevel, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
      (opts.logStream as pino.DestinationStream) ?? pino.destination({ dest: 1, sync: true }),
    );
    this.registry = new HostRegistry({ sshConfigPath: settings.sshConfigPath, home: settings.home, localUser: settings.localUser });
    this.trust = {
      knownHostsOverride: settings.knownHostsPath,
      home: settings.home,
      mode: settings.strictHostKeyChecking,
      modeFromEnv: Boolean(env.SCOUT_STRICT_HOST_KEY_CHECKING),
      warn: (msg, data) => this.log.warn(data, msg),
    };
    this.refreshWarnings();
    this.audit = new AuditLog(settings.auditLogPath, (err) => this.log.error({ err: err.message, file: settings.auditLogPath }, 'cannot write the audit log'));
    this.dispatcher = new Dispatcher((method, params, ctx, outcome, ms, result) => this.audit.record(method, params, ctx.clientName, outcome, ms, result));
    this.pool = new Pool({
      dial: (host, timeoutMs) => this.dial(host, timeoutMs),
      connectBudgetMs: (host) => this.dialerFor().connectTimeoutMs(host),
      idleTimeoutMs: settings.idleTimeoutMs,
      maxPoolSize: settings.maxPoolSize,
      maxConnectionsPerHost: settings.maxConnectionsPerHost,
      log: this.log.child({ component: 'pool' }),
    });
    this.jobs = new JobTable(
      { pool: this.pool, registry: this.registry, log: this.log.child({ component: 'jobs' }), onEnd: (job) => this.audit.recordJobEnd(job), journal: new JobJournal(settings.jobJournalPath) },
      { bufferBytes: settings.jobBufferBytes, ttlMs: settings.jobTtlMs, maxJobs: settings.maxJobs, maxJobsPerHost: settings.maxJobsPerHost, defaultTimeoutMs: settings.jobTimeoutMs },
    );
    this.forwards = new Forwards(this.pool, this.log.child({ component: 'forwards' }));
    const services: Services = {
      settings,
      settingsView: view,
      registry: this.registry,
      trust: this.trust,
      pool: this.pool,
      jobs: this.jobs,
      forwards: this.forwards,
      shells: this.shells,
      warmShellCounters: this.warmShellCounters,
      log: this.log,
      startedAt: this.startedAt,
      warnings: this.warnings,
      stats: () => ({ clients: this.sessions.size, inFlight: [...this.sessions].reduce((n, s) => n + s.inFlightCount, 0), requests: this.requests, errors: { ...this.errors } }),
      requestShutdown: (reason) => setImmediate(() => void this.shutdown(reason)),
      reload: () => this.reload(),
      activation: () => (this.activated ? 'systemd' : undefined),
      policy: Policy.load(settings.configPath),
      approvals: new Approvals({ policy: () => this.services.policy, timeoutMs: settings.approvalTimeoutMs, audit: (e) => this.audit.recordApproval(e) }),
      // One SFTP round trip on the pooled connection (its session is cached); only hosts with roots use it.
      audit: this.audit,
      hostKeys: {
        inspect: async (host) => inspectHostKey(this.registry.get(host), this.trust, await this.offeredKey(host)),
        trust: async (host, fp) => {
          const entry = this.registry.get(host);
          const blob = await this.offeredKey(host);
          const offered = inspectHostKey(entry, this.trust, blob);
          // The key recorded is the one the user saw: a server that now offers another is not trusted by accident.
          if (offered.fingerprint !== fp) {
            throw new ScoutError('HOST_KEY_MISMATCH', `${host} now offers ${offered.fingerprint}, not the ${fp} that was confirmed: nothing recorded`, {
              host,
              expected: [fp],
              got: offered.fingerprint,
            });
          }
          const r = await recordHostKey(entry, this.trust, blob);
          return { ...r.report, added: r.added };
        },
      },
      resolveRemote: (host, p) => this.pool.use(host, async (conn) => new RemoteFs(await conn.sftp(), host, conn.lost).realpath(p)),
    };
    this.services = services;
    // One handler per method of the protocol table: a missing or extra one fails tsc.
    const handlers: HandlerTable = {
      ...daemonHandlers(services),
      ...hostsHandlers(services),
      ...poolHandlers(services),
      ...sshHandlers(services),
      ...transferHandlers(services),
      ...fleetHandlers(services),
      ...jobsHandlers(services),
      ...shellHandlers(services),
      ...forwardHandlers(services),
      ...auditHandlers(services),
      ...fsHandlers(services),
      ...approvalsHandlers(services),
    };
    this.dispatcher.register(handlers);
    this.server = net.createServer((sock) => this.accept(sock));
  }

  /** Bind the socket and start serving. */
  async start(): Promise<void> {
    try {
      this.audit.open();
    } catch (err) {
      throw new StartupError(`cannot open the audit log ${this.settings.auditLogPath}: ${(err as Error).message} (set SCOUT_AUDIT_LOG to a file you own)`);
    }
    const fd = inheritedListenFd(this.env);
    if (fd !== undefined) {
      await listenOnFd(this.server, fd);
      this.activated = true;
    } else {
      await bindSocket(this.server, this.settings.socketPath);
    }
    // An accept that fails (EMFILE: out of descriptors) must not end the daemon: libuv closes the connection it
    // could not take, and everyone already connected goes on being served.
    this.server.on('error', (err: NodeJS.ErrnoException) => this.log.error({ err: err.message, code: err.code }, 'control socket error'));
    this.pool.start();
    // Durable jobs a previous scoutd started: reattached in the background (a host that is down makes them unknown).
    try {
      this.jobs.restore();
    } catch (err) {
      throw new StartupError(`cannot read the job journal ${this.settings.jobJournalPath}: ${(err as Error).message} (set SCOUT_JOB_JOURNAL to a file you own)`);
    }
    this.log.info({ socket: this.settings.socketPath, activation: this.activated ? 'systemd' : undefined, version: packageVersion(), hosts: this.registry.aliases().length }, 'scoutd listening');
  }

  /** Re-read ssh config; connections to removed or changed hosts retire (close once idle), others stay warm. */
  reload(): { hosts: number; added: string[]; removed: string[]; changed: string[] } {
    // The policy first: a broken file keeps the previous policy and configuration (the error says why).
    try {
      this.services.policy = Policy.load(this.settings.configPath);
    } catch (err) {
      throw new ScoutError('CONFIG_INVALID', `${(err as Error).message}; the policy in force is unchanged`, { file: this.settings.configPath });
    }
    // Every pooled connection whose route (its host entry or any jump hop's) the new config changes retires:
    // calls and jobs already on it finish there, new ones dial with the new settings.
    const dialer = this.dialerFor();
    const routes = new Map(this.pool.keys().map((key) => [key, dialer.signature(key)]));
    const diff = this.registry.reload();
    this.audit.reopen();
    this.refreshWarnings();
    for (const [key, before] of routes) {
      if (dialer.signature(key) === before) continue;
      this.pool.retire(key, 'configuration changed');
      this.jobs.moveConnections(key);
    }
    this.log.info(diff, 'configuration reloaded');
    return { hosts: this.registry.aliases().length, ...diff };
  }

  /**
   * Graceful stop: refuse new calls, let in-flight ones finish within the grace period, cancel the rest,
   * close every SSH connection, remove the socket.
   */
  shutdown(reason: string): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      this.log.info({ reason }, 'shutting down');
      this.server.close();
      // Background jobs belong to no call: stop them now (TERM, then KILL) rather than wait out the grace period.
      const jobsStopped = this.jobs.stopAll();
      // Forwards belong to no call either: their listeners close now, so nothing new comes in.
      this.forwards.closeAll();
      // A person's shell ends now (HUP), not after the grace period its open call would otherwise wait out.
      this.shells.hangUpAll();
      const sessions = [...this.sessions];
      const grace = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), this.settings.shutdownGraceMs).unref());
      const drained = Promise.all(sessions.map((s) => s.drained())).then(() => 'drained' as const);
      if ((await Promise.race([drained, grace])) === 'timeout') {
        this.log.warn({}, 'grace period over: cancelling calls still in flight');
        await Promise.all(sessions.map((s) => s.cancelAll(shuttingDown('the call was stopped'))));
      }
      await jobsStopped;
      await this.pool.closeAll();
      for (const s of this.sessions) s.end();
      // A socket systemd passed us stays: systemd keeps listening on it and starts scoutd again on demand.
      if (!this.activated) {
        try {
          fs.unlinkSync(this.settings.socketPath);
        } catch {
          // already gone
        }
      }
      this.audit.close();
      this.log.info({}, 'stopped');
      this.resolveStopped();
    })();
    return this.stopping;
  }

  private accept(sock: net.Socket): void {
    if (this.stopping) {
      sock.destroy();
      return;
    }
    const session = new Session(this.nextSession++, sock, {
      dispatcher: this.dispatcher,
      log: this.log,
      shuttingDown: () => this.stopping !== undefined,
      maxInFlight: this.settings.maxClientCalls,
      stallLimitMs: this.settings.clientStallMs,
      onCallDone: (outcome) => {
        this.requests++;
        if (outcome !== 'ok') this.errors[outcome] = (this.errors[outcome] ?? 0) + 1;
      },
      onClose: (s) => this.sessions.delete(s),
    });
    this.sessions.add(session);
  }

  /** Warnings for status, rebuilt in place (handlers hold the array): host key checking off, globally or per host. */
  private refreshWarnings(): void {
    this.warnings.length = 0;
    if (this.settings.strictHostKeyChecking === 'no' && this.trust.modeFromEnv)
      this.warnings.push('host key checking is OFF (SCOUT_STRICT_HOST_KEY_CHECKING=no): connections are not protected against impersonation');
    else {
      const off = this.registry.aliases().filter((a) => strictModeFor(this.registry.get(a), this.trust) === 'no');
      if (off.length)
        this.warnings.push(
          `host key checking is OFF for ${off.slice(0, 10).join(', ')}${off.length > 10 ? ` and ${off.length - 10} more` : ''} (StrictHostKeyChecking no in ${this.registry.path}): those connections are not protected against impersonation`,
        );
    }
  }

  /** The key the host's server offers to a connect from us (same algorithm preference as a real dial). */
  /** The key `host` offers (through its ProxyJump hops), for hosts.hostKey and hosts.trust. */
  private offeredKey(host: string): Promise<Buffer> {
    this.registry.get(host); // UNKNOWN_HOST for a name that is not configured
    return this.dialerFor().offeredKey(host);
  }

  private dialer: Dialer | undefined;
  /** ProxyJump targets are dialled through pooled jump connections (see dialer.ts). */
  private dial(host: string, timeoutMs?: number): Promise<SshConnection> {
    return this.dialerFor().dial(host, timeoutMs);
  }

  private dialerFor(): Dialer {
    return (this.dialer ??= new Dialer(this.registry, this.pool, this.settings, this.trust, this.warmShellCounters));
  }
}
