// scoutd: wires settings, hosts, the pool and the control socket together, and owns the lifecycle
// (start, reload, graceful shutdown).
import fs from 'node:fs';
import net from 'node:net';
import pino, { type Logger } from 'pino';
import { HostRegistry } from '../hosts/registry.js';
import type { TrustContext } from '../hosts/trust.js';
import { Pool } from '../pool/pool.js';
import { ScoutError } from '../protocol/errors.js';
import { packageVersion } from '../protocol/version.js';
import type { SshConnection } from '../ssh/connection.js';
import { Dialer } from './dialer.js';
import { newWarmShellCounters } from '../ssh/warm-shells.js';
import type { Services } from './context.js';
import { daemonMethods } from './handlers/daemon.js';
import { hostsMethods } from './handlers/hosts.js';
import { jobsMethods } from './handlers/jobs.js';
import { poolMethods } from './handlers/pool.js';
import { sshMethods } from './handlers/ssh.js';
import { transferMethods } from './handlers/transfer.js';
import { fleetMethods } from './handlers/fleet.js';
import { fsMethods } from './handlers/fs.js';
import { JobTable } from './jobs.js';
import { Dispatcher } from './rpc.js';
import { Session } from './session.js';
import { bindSocket } from './socket.js';
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
  private readonly dispatcher = new Dispatcher();
  private readonly server: net.Server;
  private readonly sessions = new Set<Session>();
  private readonly startedAt = new Date();
  private readonly trust: TrustContext;
  private readonly warnings: string[] = [];
  private nextSession = 1;
  private requests = 0;
  private readonly errors: Record<string, number> = {};
  private stopping: Promise<void> | undefined;
  private resolveStopped!: () => void;
  /** Resolves once the daemon has shut down completely. */
  readonly stopped = new Promise<void>((r) => (this.resolveStopped = r));

  constructor(opts: DaemonOptions = {}) {
    const env = opts.env ?? process.env;
    const { settings, view } = loadSettings(env);
    this.settings = settings;
    this.log = pino({ level: settings.logLevel, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, (opts.logStream as pino.DestinationStream) ?? pino.destination({ dest: 1, sync: true }));
    this.registry = new HostRegistry({ sshConfigPath: settings.sshConfigPath, home: settings.home, localUser: settings.localUser });
    this.trust = {
      knownHostsOverride: settings.knownHostsPath,
      home: settings.home,
      mode: settings.strictHostKeyChecking,
      modeFromEnv: Boolean(env.SCOUT_STRICT_HOST_KEY_CHECKING),
      warn: (msg, data) => this.log.warn(data, msg),
    };
    if (settings.strictHostKeyChecking === 'no') this.warnings.push('host key checking is OFF (SCOUT_STRICT_HOST_KEY_CHECKING=no): connections are not protected against impersonation');
    this.pool = new Pool({
      dial: (host, timeoutMs) => this.dial(host, timeoutMs),
      connectBudgetMs: (host) => this.dialerFor().connectTimeoutMs(host),
      idleTimeoutMs: settings.idleTimeoutMs,
      maxPoolSize: settings.maxPoolSize,
      maxConnectionsPerHost: settings.maxConnectionsPerHost,
      log: this.log.child({ component: 'pool' }),
    });
    this.jobs = new JobTable(
      { pool: this.pool, registry: this.registry, log: this.log.child({ component: 'jobs' }) },
      { bufferBytes: settings.jobBufferBytes, ttlMs: settings.jobTtlMs, maxJobs: settings.maxJobs, maxJobsPerHost: settings.maxJobsPerHost, defaultTimeoutMs: settings.jobTimeoutMs },
    );
    const services: Services = {
      settings,
      settingsView: view,
      registry: this.registry,
      pool: this.pool,
      jobs: this.jobs,
      warmShellCounters: this.warmShellCounters,
      log: this.log,
      startedAt: this.startedAt,
      warnings: this.warnings,
      stats: () => ({ clients: this.sessions.size, inFlight: [...this.sessions].reduce((n, s) => n + s.inFlightCount, 0), requests: this.requests, errors: { ...this.errors } }),
      requestShutdown: (reason) => setImmediate(() => void this.shutdown(reason)),
      reload: () => this.reload(),
    };
    for (const methods of [daemonMethods, hostsMethods, poolMethods, sshMethods]) this.dispatcher.register(methods(services));
    for (const methods of [transferMethods, fleetMethods]) this.dispatcher.register(methods(services));
    this.dispatcher.register(jobsMethods(services));
    this.dispatcher.register(fsMethods(services));
    this.server = net.createServer((sock) => this.accept(sock));
  }

  /** Bind the socket and start serving. */
  async start(): Promise<void> {
    await bindSocket(this.server, this.settings.socketPath);
    this.pool.start();
    this.log.info({ socket: this.settings.socketPath, version: packageVersion(), hosts: this.registry.aliases().length }, 'scoutd listening');
  }

  /** Re-read ssh config; connections to removed or changed hosts are closed, others stay warm. */
  reload(): { hosts: number; added: string[]; removed: string[]; changed: string[] } {
    const diff = this.registry.reload();
    for (const host of [...diff.removed, ...diff.changed]) void this.pool.drop(host, 'configuration changed');
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
      const sessions = [...this.sessions];
      const grace = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), this.settings.shutdownGraceMs).unref());
      const drained = Promise.all(sessions.map((s) => s.drained())).then(() => 'drained' as const);
      if ((await Promise.race([drained, grace])) === 'timeout') {
        this.log.warn({}, 'grace period over: cancelling calls still in flight');
        await Promise.all(sessions.map((s) => s.cancelAll(new ScoutError('SHUTTING_DOWN', 'scoutd is shutting down'))));
      }
      await jobsStopped;
      await this.pool.closeAll();
      for (const s of this.sessions) s.end();
      try {
        fs.unlinkSync(this.settings.socketPath);
      } catch {
        // already gone
      }
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
      onCallDone: (outcome) => {
        this.requests++;
        if (outcome !== 'ok') this.errors[outcome] = (this.errors[outcome] ?? 0) + 1;
      },
      onClose: (s) => this.sessions.delete(s),
    });
    this.sessions.add(session);
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
