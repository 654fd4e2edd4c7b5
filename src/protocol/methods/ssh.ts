import { z } from 'zod';
import { ByteCount, Command, HostName, RemotePath, TimeoutMs } from './common.js';

export const ExecParams = z
  .object({
    host: HostName,
    command: Command,
    cwd: RemotePath.optional(),
    timeoutMs: TimeoutMs.optional(),
    maxOutputBytes: ByteCount.max(256 * 1024 * 1024).optional(),
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
}
