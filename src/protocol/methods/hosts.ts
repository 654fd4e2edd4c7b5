import { z } from 'zod';

export const HostsListParams = z
  .object({ probe: z.boolean().optional() })
  .strict()
  .optional()
  .nullable();

export interface HostInfo {
  name: string;
  hostname: string;
  user: string;
  port: number;
  proxyJump: string[] | null;
  connected: boolean;
  online?: boolean;
  latencyMs?: number;
}
