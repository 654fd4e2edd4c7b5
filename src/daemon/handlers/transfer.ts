// transfer.get / transfer.put / transfer.copy: adapters over remote/transfer.ts, where the bytes move.
import type { Handlers, Services } from '../context.js';
import { transfers } from '../remote/transfer.js';

export function transferHandlers(svc: Services): Handlers<'transfer.get' | 'transfer.put' | 'transfer.copy'> {
  const t = transfers(svc);
  return { 'transfer.get': t.get, 'transfer.put': t.put, 'transfer.copy': t.copy };
}
