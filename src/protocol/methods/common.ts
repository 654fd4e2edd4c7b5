import { z } from 'zod';
import { ApprovalMode } from './approvals.js';
import { MAX_STDIN_CHARS } from '../limits.js';

/** A host alias from ssh config. Bounded and free of control characters; the daemon checks it is configured. */
export const HostName = z
  .string()
  .min(1, 'host must not be empty')
  .max(255)
  .regex(/^[^\s\x00-\x1f\x7f]+$/, 'host must not contain spaces or control characters');

/** A path (remote or local): NUL can never be part of a POSIX path. */
export const PathString = z
  .string()
  .min(1, 'path must not be empty')
  .max(4096)
  .refine((p) => !p.includes('\0'), 'path must not contain NUL bytes');

/** A remote path; relative ones are relative to the login directory. */
export const RemotePath = PathString.describe('a path on the host');

/**
 * Longest command line, in UTF-8 bytes. A remote runs a command as one argument of `$SHELL -c`, and Linux takes
 * at most 131,071 bytes as one argument (MAX_ARG_STRLEN); OpenSSH drops the whole connection, every other
 * client's calls and jobs on it included, for a request packet over 256 KiB (a 300 KB command did). 96 KiB
 * leaves room for the `cd -- 'cwd' || exit;` a cwd adds. Longer scripts go on stdin (`sh -s`).
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

/**
 * Longest env value, and most env bytes in one call, in UTF-8 bytes. Each variable is one SSH `env` request
 * (far below OpenSSH's 256 KiB packet limit), but the remote shell gets them as `NAME=value` strings: one over
 * MAX_ARG_STRLEN (131,071 bytes) or all of them past ARG_MAX (2 MiB with an 8 MiB stack) and the exec fails
 * with "Argument list too long", which read as the command's own failure (measured: 65,536 '€' = 192 KiB).
 */
export const MAX_ENV_VALUE_BYTES = 64 * 1024;
export const MAX_ENV_BYTES = 256 * 1024;

/** Environment for a remote command: at most 100 names of at most 256 characters, values up to 64 KiB (bytes). */
export const EnvVars = z
  .record(
    z
      .string()
      .max(256)
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env names are letters, digits and _'),
    z
      .string()
      .max(MAX_ENV_VALUE_BYTES)
      .refine((v) => Buffer.byteLength(v) <= MAX_ENV_VALUE_BYTES, `env values are at most ${MAX_ENV_VALUE_BYTES} bytes (UTF-8); send longer data on stdin`)
      .refine((v) => !v.includes('\0'), 'env values must not contain NUL bytes'),
  )
  .refine((e) => Object.keys(e).length <= 100, 'at most 100 env variables')
  .refine(
    (e) => Object.entries(e).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v) + 2, 0) <= MAX_ENV_BYTES,
    `env is at most ${MAX_ENV_BYTES} bytes in all (UTF-8); send longer data on stdin`,
  );

/**
 * Most output bytes kept per stream for one result (maxOutputBytes, SCOUT_MAX_OUTPUT_BYTES): two streams of
 * 12 MiB as base64 are 32 MiB, well inside one answer line (MAX_RESPONSE_BYTES). Beyond a few MiB, stream it
 * (`scoutctl exec` does) or write it to a file and transfer.get it.
 */
export const MAX_OUTPUT_BYTES = 12 * 1024 * 1024;
/**
 * Output bytes one fleet call keeps over all its hosts (each host's cap is cut to its share): 1,000 hosts at the
 * default 1 MiB cap would otherwise be 1 GB in the daemon and an answer no client can read.
 */
export const FLEET_OUTPUT_BUDGET = 36 * 1024 * 1024;

export const TimeoutMs = z
  .number()
  .int()
  .positive()
  .max(24 * 3600 * 1000);
export const ByteCount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** What every command call takes (ssh.exec, jobs.start): where, what, in which directory, with what stdin and env. */
export const CommandFields = {
  host: HostName,
  command: Command,
  cwd: RemotePath.optional(),
  /** Written to the command's stdin, which is then closed (without it, closed at once); travels inside the request. */
  stdin: z.string().max(MAX_STDIN_CHARS).optional(),
  stdinEncoding: z.enum(['utf8', 'base64']).optional(),
  /** Environment variables, sent as SSH `env` requests: the server applies only those its AcceptEnv allows. */
  env: EnvVars.optional(),
  /** When the host's policy wants a person to confirm it: wait for the decision, or fail at once (approvals.ts). */
  approval: ApprovalMode.optional(),
};
