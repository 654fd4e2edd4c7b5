import { z } from 'zod';

/** A host alias from ssh config. Bounded and free of control characters; the daemon checks it is configured. */
export const HostName = z
  .string()
  .min(1, 'host must not be empty')
  .max(255)
  .regex(/^[^\s\x00-\x1f\x7f]+$/, 'host must not contain spaces or control characters');

/** A remote path. NUL can never be part of a POSIX path. */
export const RemotePath = z
  .string()
  .min(1, 'path must not be empty')
  .max(4096)
  .refine((p) => !p.includes('\0'), 'path must not contain NUL bytes');

export const TimeoutMs = z.number().int().positive().max(24 * 3600 * 1000);
export const ByteCount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
