// forward.open / forward.list / forward.close: adapters over the daemon's Forwards (daemon/forwards.ts).
import type { Handlers, Services } from '../context.js';

export function forwardHandlers(svc: Services): Handlers<'forward.open' | 'forward.list' | 'forward.close'> {
  return {
    'forward.open': async (p, ctx) => {
      svc.registry.get(p.host);
      svc.policy.checkForward(p.host);
      const flag = { local: '-L', remote: '-R', dynamic: '-D' }[p.kind];
      const target = p.targetHost !== undefined ? `:${p.targetHost}:${p.targetPort}` : '';
      await svc.approvals.check(ctx, p.approval, { host: p.host, kinds: ['forward'], what: `${flag} ${p.bindAddress ?? '127.0.0.1'}:${p.bindPort}${target}` });
      const { approval: _a, ...spec } = p;
      return svc.forwards.open(spec);
    },
    'forward.list': async (p, ctx) => ({ forwards: svc.forwards.list(p.host).filter((f) => !ctx.grant || ctx.grant.reaches(f.host)) }),
    'forward.close': async (p) => ({ id: p.id, closed: svc.forwards.close(p.id) }),
  };
}
