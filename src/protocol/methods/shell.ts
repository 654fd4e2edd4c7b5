import { z } from 'zod';
import { Command, HostName, RemotePath } from './common.js';

/** A terminal size in characters; 0 is refused (a PTY of no size shows nothing). */
const Cols = z.number().int().min(1).max(10_000);
const Rows = z.number().int().min(1).max(10_000);

export const ShellOpenParams = z
  .object({
    host: HostName,
    /** A PTY like the local terminal (`ssh -t`); without it the session is `ssh -T`: no PTY, no echo. */
    pty: z
      .object({
        /** The local TERM: the remote side learns what terminal draws its output. */
        term: z
          .string()
          .min(1)
          .max(64)
          .regex(/^[A-Za-z0-9._+-]+$/, 'term must be a terminal name like xterm-256color'),
        cols: Cols,
        rows: Rows,
      })
      .strict()
      .optional(),
    /** Start in this directory (the login shell, or the command, runs there). */
    cwd: RemotePath.optional(),
    /** Run this instead of the login shell. */
    command: Command.optional(),
  })
  .strict();
export type ShellOpenParams = z.infer<typeof ShellOpenParams>;

/** How the session ended: the remote exit code, or the signal that ended it. */
export interface ShellOpenResult {
  exitCode: number | null;
  signal: string | null;
}

/**
 * Notification `shell.ready`, tagged with the request id: the session is open. `token` attaches a second
 * connection to it (`shell.attach`), which then carries the terminal's bytes raw, and names it in `shell.resize`.
 */
export interface ShellReady {
  id: string | number;
  token: string;
}

/** 128 random bits, hex: the only way to a session's bytes, given only to the caller that opened it. */
const Token = z.string().regex(/^[0-9a-f]{32}$/, 'token must be the 32 hex digits shell.ready gave');

export const ShellAttachParams = z.object({ token: Token }).strict();
export interface ShellAttachResult {
  attached: true;
}

export const ShellResizeParams = z.object({ token: Token, cols: Cols, rows: Rows }).strict();
export interface ShellResizeResult {
  resized: boolean;
}
