import { constants } from 'node:os';
import type { ExecResult, JobStartResult } from '../../protocol/methods/index.js';
import { UsageError, flag } from '../args.js';
import { connect } from '../connect.js';
import { reportError, type CommandContext } from '../main.js';
import { json } from '../output.js';

/** Like ssh: 255 means Scout (not the remote command) failed. */
const EXIT_SCOUT_ERROR = 255;

export async function run(ctx: CommandContext): Promise<number> {
  const [host, ...words] = ctx.args.positional;
  const argv = ctx.args.rest ?? words;
  if (!host || argv.length === 0) throw new UsageError('exec needs a HOST and a COMMAND');
  // Like ssh, the words are joined with spaces and interpreted by the remote shell.
  const command = argv.join(' ');
  const timeout = flag(ctx.args, 'timeout');
  const params = {
    host,
    command,
    ...(flag(ctx.args, 'cwd') ? { cwd: flag(ctx.args, 'cwd') } : {}),
    ...(timeout ? { timeoutMs: Math.round(Number(timeout) * 1000) } : {}),
  };
  if (timeout && !(Number(timeout) > 0)) throw new UsageError('--timeout takes a positive number of seconds');
  let client;
  try {
    client = await connect(ctx);
  } catch (err) {
    reportError(err, ctx.io, ctx.json);
    return EXIT_SCOUT_ERROR;
  }
  try {
    if (ctx.args.flags.has('detach')) {
      // A background job: the daemon owns it from here on; this process only prints its id.
      const { jobId } = await client.call<JobStartResult>('jobs.start', params);
      ctx.io.out(ctx.json ? json({ jobId }) + '\n' : `${jobId}\n`);
      return 0;
    }
    const r = await client.call<ExecResult>('ssh.exec', params);
    if (ctx.json) {
      ctx.io.out(json(r) + '\n');
      return exitCodeOf(r);
    }
    const out = r.encoding === 'base64' ? Buffer.from(r.stdout, 'base64') : r.stdout;
    const err = r.encoding === 'base64' ? Buffer.from(r.stderr, 'base64') : r.stderr;
    if (out.length) process.stdout.write(out);
    if (err.length) process.stderr.write(err);
    if (r.truncated) ctx.io.err(`scoutctl: output truncated (over the per-stream cap; raise it with SCOUT_MAX_OUTPUT_BYTES)\n`);
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
