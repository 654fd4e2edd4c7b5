import { z } from 'zod';
import { ApprovalMode } from './approvals.js';
import { HostName } from './common.js';

const Port = z.number().int().min(1).max(65_535);
/** An address or name to listen on or connect to: no spaces or control characters. */
const Address = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^\s\x00-\x1f\x7f/]+$/, 'an address or host name');

export const ForwardKind = z.enum(['local', 'remote', 'dynamic']);
export type ForwardKind = z.infer<typeof ForwardKind>;

export const ForwardOpenParams = z
  .object({
    host: HostName,
    /** local (ssh -L), remote (ssh -R) or dynamic (ssh -D, a SOCKS5 proxy). */
    kind: ForwardKind,
    /** Where to listen: on this machine for local and dynamic, on the host for remote. Default 127.0.0.1. */
    bindAddress: Address.optional(),
    /** The port to listen on; 0 lets the system choose (the answer says which). */
    bindPort: z.number().int().min(0).max(65_535),
    /** local: where the host connects; remote: where scoutd connects. Not for dynamic. */
    targetHost: Address.optional(),
    targetPort: Port.optional(),
    approval: ApprovalMode.optional(),
  })
  .strict()
  .refine((p) => (p.kind === 'dynamic') === (p.targetHost === undefined && p.targetPort === undefined), {
    message: 'local and remote forwards need targetHost and targetPort; a dynamic one takes neither',
    path: ['targetHost'],
  });
export type ForwardOpenParams = z.infer<typeof ForwardOpenParams>;

export interface ForwardInfo {
  id: string;
  host: string;
  kind: ForwardKind;
  /** Where it listens, with the port actually bound. */
  bind: string;
  /** Where connections go (absent for dynamic: each SOCKS client names its own). */
  target?: string;
  /** up: the host's connection is there; connecting: it is being (re)made, new connections wait for it. */
  state: 'up' | 'connecting';
  /** Connections open now, and since the forward opened. */
  open: number;
  total: number;
  /** Bytes from the connecting side to the target, and back. */
  bytesOut: number;
  bytesIn: number;
  openedAt: string;
  /** Why the last (re)connection or the last forwarded connection failed. */
  lastError?: string;
}

export const ForwardListParams = z.object({ host: HostName.optional() }).strict();
export interface ForwardListResult {
  forwards: ForwardInfo[];
}

export const ForwardCloseParams = z.object({ id: z.string().regex(/^f[0-9]+$/, 'a forward id like f1') }).strict();
export interface ForwardCloseResult {
  id: string;
  closed: boolean;
}
