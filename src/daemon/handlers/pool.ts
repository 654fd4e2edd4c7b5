import type { PoolDropResult, PoolListResult } from '../../protocol/methods/index.js';
import type { Handlers, Services } from '../context.js';

export function poolHandlers(svc: Services): Handlers<'pool.list' | 'pool.drop'> {
  return {
    'pool.list': (): PoolListResult => ({ connections: svc.pool.list(), hosts: svc.pool.hostStats() }),
    'pool.drop': async (p): Promise<PoolDropResult> => {
      svc.registry.get(p.host); // UNKNOWN_HOST for a name that is not configured
      return { closed: await svc.pool.drop(p.host) };
    },
  };
}
