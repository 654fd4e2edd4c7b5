import { z } from 'zod';
import { ByteCount, CommandFields, MAX_OUTPUT_BYTES, TimeoutMs } from './common.js';

export const ExecMode = z.enum(['auto', 'on', 'off']);
export type ExecMode = z.infer<typeof ExecMode>;

export const ExecParams = z
  .object({
    ...CommandFields,
    timeoutMs: TimeoutMs.optional(),
    maxOutputBytes: ByteCount.max(MAX_OUTPUT_BYTES).optional(),
    /** auto | on: short commands through a resident shell when eligible; off: an exec channel. Default SCOUT_EXEC_MODE. */
    mode: ExecMode.optional(),
    /**
     * true: send `exec.output` notifications as output arrives (up to maxOutputBytes per stream, like the result),
     * then the result with the output too. 'only': every byte as notifications, none kept for the result (its
     * stdout and stderr are empty); the command is held (SSH flow control) while this client is slow to read.
     */
    stream: z.union([z.boolean(), z.literal('only')]).optional(),
    /** Run it through sudo (`sudo -S`, the password from the host's policy source; docs/security.md). */
    sudo: z.boolean().optional(),
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

/**
 * Notification `exec.output` for a call made with `stream: true`, tagged with the request id. `data` is
 * UTF-8 text, or base64 (`encoding: 'base64'`) for bytes that are not. A character split across chunks is
 * held back until it is whole. With `stream: true` streamed bytes stop at the same per-stream cap as the result
 * (`truncated`); with `stream: 'only'` they never stop.
 */
export interface ExecOutput {
  id: string | number;
  /** fleet.exec: the host this output came from. */
  host?: string;
  stream: 'stdout' | 'stderr';
  data: string;
  encoding?: 'base64';
}
