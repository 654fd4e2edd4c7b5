import net from 'node:net';
import type { HostInfo, HostKeyResult, HostTrustResult } from '../../protocol/methods/index.js';
import type { CallContext, Handlers, Services } from '../context.js';

/** Bound on a reachability probe: a host that does not accept TCP within this is reported offline. */
const PROBE_TIMEOUT_MS = 2_000;

function probe(hostname: string, port: number): Promise<{ online: boolean; latencyMs?: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const sock = net.connect({ host: hostname, port });
    const done = (online: boolean) => {
      sock.destroy();
      resolve(online ? { online, latencyMs: Math.round((performance.now() - t0) * 10) / 10 } : { online });
    };
    sock.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** The names a connection may see: all of them, or those its grant reaches. */
export function visible(hosts: string[], ctx: CallContext): string[] {
  return ctx.grant ? hosts.filter((h) => ctx.grant!.reaches(h)) : hosts;
}

export function hostsHandlers(svc: Services): Handlers<'hosts.list' | 'hosts.hostKey' | 'hosts.trust'> {
  return {
    'hosts.list': async (p, ctx): Promise<HostInfo[]> => {
      // A narrowed connection sees the hosts it may reach, nothing of the others.
      const hosts = visible(svc.registry.aliases(), ctx).map((name): HostInfo => {
        const e = svc.registry.get(name);
        return { name, hostname: e.hostname, user: e.user, port: e.port, proxyJump: e.proxyJump ?? null, connected: svc.pool.peek(name) !== undefined };
      });
      if (!p?.probe) return hosts;
      // A warm connection is proof enough; others get a TCP probe (jump-host targets are probed via their first hop's view: skipped).
      return Promise.all(
        hosts.map(async (h) => {
          if (h.connected) return { ...h, online: true };
          if (h.proxyJump) return h;
          return { ...h, ...(await probe(h.hostname, h.port)) };
        }),
      );
    },
    'hosts.hostKey': (p): Promise<HostKeyResult> => svc.hostKeys.inspect(p.host),
    'hosts.trust': (p): Promise<HostTrustResult> => svc.hostKeys.trust(p.host, p.fingerprint),
  };
}
