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

/**
 * Longest command line, in UTF-8 bytes. A remote runs a command as one argument of `$SHELL -c`, and Linux takes
 * at most 131,071 bytes as one argument (MAX_ARG_STRLEN); OpenSSH drops the whole connection, every other
 * client's calls and jobs on it included, for a request packet over 256 KiB (a 300 KB command did). 96 KiB
 * leaves room for the `cd -- 'cwd' &&` a cwd adds. Longer scripts go on stdin (`sh -s`).
 */
export const MAX_COMMAND_BYTES = 96 * 1024;

/**
 * A shell command line. NUL is refused: sshd hands the command to the shell as a C string, so everything after
 * a NUL would be silently dropped, and what a policy pattern saw would not be what runs.
 */
export const Command = z
  .string()
  .min(1, 'command must not be empty')
  .max(MAX_COMMAND_BYTES, `command is longer than ${MAX_COMMAND_BYTES} bytes; send a longer script on stdin (command "sh -s")`)
  .refine((c) => Buffer.byteLength(c) <= MAX_COMMAND_BYTES, `command is longer than ${MAX_COMMAND_BYTES} bytes (UTF-8); send a longer script on stdin (command "sh -s")`)
  .refine((c) => !c.includes('\0'), 'command must not contain NUL bytes');

/** Environment for a remote command: at most 100 names of at most 256 characters, values up to 64 KiB. */
export const EnvVars = z
  .record(z.string().max(256).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env names are letters, digits and _'), z.string().max(64 * 1024).refine((v) => !v.includes('\0'), 'env values must not contain NUL bytes'))
  .refine((e) => Object.keys(e).length <= 100, 'at most 100 env variables');

export const TimeoutMs = z.number().int().positive().max(24 * 3600 * 1000);
export const ByteCount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
