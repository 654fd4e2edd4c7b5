import { z } from 'zod';
import { ByteCount, HostName, RemotePath, TimeoutMs } from './common.js';

export const ExecMode = z.enum(['auto', 'on', 'off']);
export type ExecMode = z.infer<typeof ExecMode>;

export const ExecParams = z
  .object({
    host: HostName,
    command: z.string().min(1, 'command must not be empty').max(1024 * 1024),
    cwd: RemotePath.optional(),
    timeoutMs: TimeoutMs.optional(),
    maxOutputBytes: ByteCount.max(256 * 1024 * 1024).optional(),
    /** auto | on: short commands through a resident shell when eligible; off: an exec channel. Default SCOUT_EXEC_MODE. */
    mode: ExecMode.optional(),
  })
  .strict();
export type ExecParams = z.infer<typeof ExecParams>;

export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Present when output was not valid UTF-8: then stdout/stderr are base64. */
  encoding?: 'utf8' | 'base64';
  truncated: boolean;
  durationMs: number;
  /** How the command ran: in a resident shell (the fast path) or on an exec channel of its own. */
  via?: 'warm-shell' | 'exec-channel';
}
