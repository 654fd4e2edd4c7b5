import { NoParams, PoolDropParams, type PoolDropResult, type PoolListResult } from '../../protocol/methods/index.js';
import { method, type MethodSpec, type Services } from '../context.js';

export function poolMethods(svc: Services): MethodSpec[] {
  return [
    method('pool.list', NoParams, (): PoolListResult => ({ connections: svc.pool.list(), hosts: svc.pool.hostStats() })),
    method('pool.drop', PoolDropParams, async (p): Promise<PoolDropResult> => {
      svc.registry.get(p.host); // UNKNOWN_HOST for a name that is not configured
      return { closed: await svc.pool.drop(p.host) };
    }),
  ];
}
