// forward.open / forward.list / forward.close: adapters over the daemon's Forwards (daemon/forwards.ts).
import type { Handlers, Services } from '../context.js';

export function forwardHandlers(svc: Services): Handlers<'forward.open' | 'forward.list' | 'forward.close'> {
  return {
    'forward.open': async (p) => {
      svc.registry.get(p.host);
      svc.policy.checkForward(p.host);
      return svc.forwards.open(p);
    },
    'forward.list': async (p, ctx) => ({ forwards: svc.forwards.list(p.host).filter((f) => !ctx.grant || ctx.grant.reaches(f.host)) }),
    'forward.close': async (p) => ({ id: p.id, closed: svc.forwards.close(p.id) }),
  };
}
