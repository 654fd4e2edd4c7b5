import { ScoutError } from '../../protocol/errors.js';
import type { DoctorResult, HelloResult, ReloadResult, StatusResult } from '../../protocol/methods/index.js';
import { PROTOCOL_VERSION, packageVersion } from '../../protocol/version.js';
import type { Handlers, Services } from '../context.js';
import { diagnose } from '../doctor.js';
import { Grant } from '../grant.js';

export function daemonHandlers(svc: Services): Handlers<'daemon.hello' | 'daemon.status' | 'daemon.reload' | 'daemon.doctor' | 'daemon.shutdown'> {
  return {
    'daemon.hello': (p, ctx): HelloResult => {
      if (p.protocol !== PROTOCOL_VERSION) {
        throw new ScoutError(
          'PROTOCOL_MISMATCH',
          `scoutd speaks protocol ${PROTOCOL_VERSION} (version ${packageVersion()}), the client speaks ${p.protocol}: restart scoutd (scoutctl stop) or upgrade the client`,
          { daemonProtocol: PROTOCOL_VERSION, clientProtocol: p.protocol, daemonVersion: packageVersion() },
        );
      }
      if (p.grant) {
        ctx.narrow(
          new Grant(p.grant, {
            job: (id) => svc.jobs.find(id)?.req.host,
            forward: (id) => svc.forwards.list().find((f) => f.id === id)?.host,
          }),
        );
        ctx.log.info({ grant: p.grant.name, hosts: p.grant.hosts.length, readOnly: p.grant.readOnly }, 'connection narrowed by a grant');
      }
      // The hello's own answer is short; every later message may carry blobs.
      if (p.blobs) ctx.sendBlobs();
      return { daemon: 'scoutd', version: packageVersion(), protocol: PROTOCOL_VERSION, pid: process.pid, startedAt: svc.startedAt.toISOString(), ...(p.blobs ? { blobs: true as const } : {}) };
    },
    'daemon.status': (): StatusResult => {
      const s = svc.stats();
      return {
        version: packageVersion(),
        protocol: PROTOCOL_VERSION,
        pid: process.pid,
        uptimeMs: Date.now() - svc.startedAt.getTime(),
        startedAt: svc.startedAt.toISOString(),
        socket: svc.settings.socketPath,
        activation: svc.activation(),
        sshConfig: svc.registry.path,
        hosts: svc.registry.aliases().length,
        clients: s.clients,
        // Not counting this status call itself: `scoutctl status` on an idle daemon says 0 calls in flight.
        inFlight: Math.max(0, s.inFlight - 1),
        settings: svc.settingsView,
        counters: { requests: s.requests, errors: s.errors },
        pool: svc.pool.summary(),
        jobs: svc.jobs.summary(),
        forwards: svc.forwards.list(),
        warmShell: svc.warmShellCounters && {
          ...svc.warmShellCounters,
          fallbacks: { ...svc.warmShellCounters.fallbacks },
          live: svc.registry.aliases().reduce((n, host) => n + (svc.pool.peek(host)?.shells.live ?? 0), 0),
        },
        rssBytes: process.memoryUsage.rss(),
        warnings: svc.warnings,
        policy: { file: svc.policy.file, present: svc.policy.present, hosts: svc.policy.view(svc.registry.aliases()) },
      };
    },
    'daemon.reload': (): ReloadResult => svc.reload(),
    'daemon.doctor': (p, ctx): Promise<DoctorResult> => diagnose(svc, { probe: p?.probe === true, signal: ctx.signal }),
    'daemon.shutdown': () => {
      svc.requestShutdown('daemon.shutdown request');
      return { ok: true };
    },
  };
}
