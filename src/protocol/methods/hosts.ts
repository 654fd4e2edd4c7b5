import { z } from 'zod';
import { HostName } from './common.js';

export const HostsListParams = z.object({ probe: z.boolean().optional() }).strict().optional().nullable();

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

export const HostKeyParams = z.object({ host: HostName }).strict();

/** The key a host's server offers now, and what known_hosts says about it. */
export interface HostKeyResult {
  host: string;
  /** The name the key is filed under (`[127.0.0.1]:2222`, or the HostKeyAlias). */
  knownAs: string;
  keyType: string;
  /** SHA256 fingerprint, as `ssh-keygen -l` prints it. */
  fingerprint: string;
  status: 'known' | 'unknown' | 'changed' | 'revoked' | 'cert-authority-unsupported';
  /** Fingerprints on file for this host when the key changed. */
  expected?: string[];
  /** The file `hosts.trust` writes to. */
  knownHosts: string;
}

export const HostTrustParams = z
  .object({
    host: HostName,
    /** The fingerprint the user confirmed: the key is recorded only if the server still offers exactly this one. */
    fingerprint: z
      .string()
      .max(100)
      .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'fingerprint must be SHA256:… as hosts.hostKey returns it'),
  })
  .strict();

export interface HostTrustResult extends HostKeyResult {
  /** True when a line was appended; false when the key was already known. */
  added: boolean;
}
