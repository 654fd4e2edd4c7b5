import { remotePath } from '../../protocol/paths.js';
import { constants } from 'node:os';
import { MAX_STDIN_CHARS } from '../../protocol/limits.js';
import type { ExecResult } from '../../protocol/methods/index.js';
import { UsageError, flag, timeoutMs } from '../args.js';
import { connectOrReport } from '../connect.js';
import { reportError, type CommandContext } from '../main.js';
import { json, writeOrWait } from '../output.js';

/** Bytes --stdin can send: MAX_STDIN_CHARS of base64. */
const MAX_STDIN_BYTES = (MAX_STDIN_CHARS / 4) * 3;

/** Like ssh: 255 means Scout (not the remote command) failed. */
const EXIT_SCOUT_ERROR = 255;
/** What a shell reports for a command stopped by Ctrl-C (128 + SIGINT). */
const EXIT_INTERRUPTED = 130;
/** What a shell reports for a writer whose reader went away (128 + SIGPIPE). */
const EXIT_BROKEN_PIPE = 141;

export async function run(ctx: CommandContext): Promise<number> {
  const [host, ...words] = ctx.args.positional;
  const argv = ctx.args.rest ?? words;
  if (!host || argv.length === 0) throw new UsageError('exec needs a HOST and a COMMAND');
  // Like ssh, the words are joined with spaces and interpreted by the remote shell.
  const command = argv.join(' ');
  const timeout = timeoutMs(ctx.args);
  const params = {
    host,
    command,
    ...(flag(ctx.args, 'cwd') ? { cwd: remotePath(flag(ctx.args, 'cwd')!) } : {}),
    ...(timeout ? { timeoutMs: timeout } : {}),
  };
  if (ctx.args.flags.has('stdin')) {
    // Opt-in, unlike ssh: a scoutctl inside a `while read` loop must not swallow the loop's input.
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      // Said before reading (or sending) the rest: it travels inside one request, as base64.
      if (size > MAX_STDIN_BYTES) {
        ctx.io.err(`scoutctl: --stdin takes at most ${MAX_STDIN_BYTES / 1024 / 1024} MiB; for more, copy it first (scoutctl put FILE HOST:PATH) and read the file remotely\n`);
        return EXIT_SCOUT_ERROR;
      }
    }
    Object.assign(params, { stdin: Buffer.concat(chunks).toString('base64'), stdinEncoding: 'base64' });
  }
  if (ctx.args.flags.has('no-durable') && !ctx.args.flags.has('detach')) throw new UsageError('--no-durable goes with --detach');
  const client = await connectOrReport(ctx);
  if (!client) return EXIT_SCOUT_ERROR;
  try {
    if (ctx.args.flags.has('detach')) {
      // A background job: the daemon owns it from here on; this process only prints its id.
      const { jobId } = await client.call('jobs.start', { ...params, durable: !ctx.args.flags.has('no-durable') });
      ctx.io.out(ctx.json ? json({ jobId }) + '\n' : `${jobId}\n`);
      return 0;
    }
    // Output goes out as it arrives, terminal or pipe, every byte (`stream: 'only'`: the daemon keeps none of it
    // and holds the command while we are slow). --json gives the buffered result, capped, as an API call does.
    const stream = !ctx.json;
    // Ctrl-C cancels the remote command ($/cancel: TERM, then KILL, to its process group) and waits for the
    // daemon to confirm; a second Ctrl-C leaves at once (the daemon still stops it: we hang up).
    const cancel = new AbortController();
    const onSigint = () => {
      if (cancel.signal.aborted) process.exit(EXIT_INTERRUPTED);
      ctx.io.err('\nscoutctl: stopping the remote command (Ctrl-C again to quit now)\n');
      cancel.abort();
    };
    process.on('SIGINT', onSigint);
    // A reader that went away (`| head -1`): stop the remote command and leave quietly, as a shell pipeline does.
    let brokenPipe = false;
    const onPipeError = (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      brokenPipe = true;
      cancel.abort();
    };
    process.stdout.on('error', onPipeError);
    process.stderr.on('error', onPipeError);
    let r: ExecResult;
    try {
      r = await client.call('ssh.exec', stream ? { ...params, stream: 'only' } : params, {
        signal: cancel.signal,
        ...(stream
          ? {
              onNotification: (method, o) => {
                if (method !== 'exec.output' || brokenPipe) return;
                const out = o.stream === 'stderr' ? process.stderr : process.stdout;
                // Backpressure: when the pipe is full, stop reading the daemon until it drains.
                return writeOrWait(out, o.encoding === 'base64' ? Buffer.from(o.data, 'base64') : o.data);
              },
            }
          : {}),
      });
    } catch (err) {
      if (brokenPipe) return EXIT_BROKEN_PIPE;
      if (cancel.signal.aborted && (err as { code?: string }).code === 'CANCELLED') return EXIT_INTERRUPTED;
      throw err;
    } finally {
      process.off('SIGINT', onSigint);
    }
    if (brokenPipe) return EXIT_BROKEN_PIPE;
    if (ctx.json) {
      ctx.io.out(json(r) + '\n');
      return exitCodeOf(r);
    }
    if (!stream) {
      const out = r.encoding === 'base64' ? Buffer.from(r.stdout, 'base64') : r.stdout;
      const err = r.encoding === 'base64' ? Buffer.from(r.stderr, 'base64') : r.stderr;
      if (out.length) process.stdout.write(out);
      if (err.length) process.stderr.write(err);
    }
    if (r.truncated) ctx.io.err(`scoutctl: output truncated (--json keeps at most SCOUT_MAX_OUTPUT_BYTES per stream; without --json every byte streams)\n`);
    return exitCodeOf(r);
  } catch (err) {
    reportError(err, ctx.io, ctx.json);
    return EXIT_SCOUT_ERROR;
  } finally {
    client.close();
  }
}

/** The remote exit code; 128+N for a command killed by signal N (as shells report it). */
export function exitCodeOf(r: ExecResult): number {
  if (r.exitCode !== null) return r.exitCode;
  if (r.signal) {
    // ssh2 reports exit signals as `SIGTERM`; accept the bare RFC 4254 name (`TERM`) too.
    const n = (constants.signals as Record<string, number>)[r.signal.startsWith('SIG') ? r.signal : `SIG${r.signal}`];
    return n ? 128 + n : EXIT_SCOUT_ERROR;
  }
  return EXIT_SCOUT_ERROR;
}
