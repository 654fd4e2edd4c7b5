// scoutctl jobs: list background jobs, print or follow their output, signal and forget them.
import { isScoutError } from '../../protocol/errors.js';
import type { JobInfo, JobOutputResult } from '../../protocol/methods/index.js';
import { UsageError, flag } from '../args.js';
import { connect, connectIfRunning } from '../connect.js';
import type { CommandContext } from '../main.js';
import { ago, bytes, json, table, writeOrWait } from '../output.js';
import { exitCodeOf } from './exec.js';

/** One read per call: large enough that following a fast job is not call-bound. */
const READ_BYTES = 1024 * 1024;
/** Long-poll bound while following; the loop simply polls again. */
const FOLLOW_WAIT_MS = 30_000;
/** How long `logs -f` waits for a scoutd that went away to come back before starting one, and how often it looks. */
const RECONNECT_WAIT_MS = 3_000;
const RECONNECT_POLL_MS = 100;
/** How often `logs -f` asks again about a durable job whose host cannot be reached. */
const HOST_RETRY_MS = 1_000;
/** Like ssh and scoutctl exec: 255 means Scout failed, not the job. */
const EXIT_SCOUT_ERROR = 255;

export async function run(ctx: CommandContext): Promise<number> {
  const [sub = 'list', id] = ctx.args.positional;
  if (sub !== 'list' && !id) throw new UsageError(`jobs ${sub} needs a job ID (see scoutctl jobs)`);
  let client = await connect(ctx);
  try {
    switch (sub) {
      case 'list': {
        const host = flag(ctx.args, 'host');
        const r = await client.call('jobs.list', host ? { host } : {});
        if (ctx.json) ctx.io.out(json(r) + '\n');
        else if (r.jobs.length === 0) ctx.io.out('No jobs.\n');
        else ctx.io.out(table(r.jobs.map(row), ['ID', 'HOST', 'STATE', 'EXIT', 'STARTED', 'OUTPUT', 'COMMAND']) + '\n');
        return 0;
      }
      case 'logs':
        return await logs(
          ctx,
          () => client,
          id,
          async () => {
            client.close();
            client = await reconnect(ctx);
            return client;
          },
        );
      case 'kill': {
        const signal = flag(ctx.args, 'signal') ?? 'TERM';
        const r = await client.call('jobs.signal', { jobId: id, signal });
        if (ctx.json) ctx.io.out(json(r) + '\n');
        else ctx.io.out(r.sent ? `sent ${r.signal} to job ${r.jobId}\n` : `job ${r.jobId} has already ended (${r.state})\n`);
        return 0;
      }
      case 'forget': {
        const r = await client.call('jobs.forget', { jobId: id });
        if (ctx.json) ctx.io.out(json(r) + '\n');
        else ctx.io.out(`forgot job ${r.jobId}\n`);
        return 0;
      }
      default:
        throw new UsageError(`unknown jobs subcommand '${sub}'`);
    }
  } finally {
    client.close();
  }
}

/** Print the output from the start (what is still kept); with -f, follow it to the end and exit with the job's code. */
async function logs(ctx: CommandContext, client: () => Client, jobId: string, again: () => Promise<Client>): Promise<number> {
  const follow = ctx.args.flags.has('follow');
  const stream = flag(ctx.args, 'stream');
  if (stream !== undefined && stream !== 'stdout' && stream !== 'stderr') throw new UsageError('--stream takes stdout or stderr');
  let offset = 0;
  for (;;) {
    let r: JobOutputResult;
    try {
      r = await client().call('jobs.output', { jobId, offset, maxBytes: READ_BYTES, ...(stream ? { stream } : {}), ...(follow ? { waitMs: FOLLOW_WAIT_MS } : {}) });
    } catch (err) {
      // A durable job whose host cannot be reached yet (scoutd just restarted, or the link is down): ask again.
      if (follow && isScoutError(err, 'CONNECTION_LOST')) {
        await new Promise((r) => setTimeout(r, HOST_RETRY_MS));
        continue;
      }
      // scoutd went away (restarted, upgraded, killed): a durable job lives on, and so does following it, from
      // the same offset, so no byte is printed twice or skipped.
      if (!follow || !isScoutError(err, 'DAEMON_UNAVAILABLE')) throw err;
      ctx.io.err('scoutctl: scoutd went away; following again once it is back\n');
      await again();
      continue;
    }
    if (r.dropped > 0) ctx.io.err(`scoutctl: ${r.dropped} bytes of older output were dropped (raise SCOUT_JOB_BUFFER to keep more)\n`);
    if (r.data.length) await write(r.encoding === 'base64' ? Buffer.from(r.data, 'base64') : r.data);
    offset = r.nextOffset;
    if (r.done) {
      if (r.error) ctx.io.err(`scoutctl: job ${jobId} ${r.state}: ${r.error.message} [${r.error.code}]\n`);
      if (!follow) return 0;
      if (r.state !== 'exited') return EXIT_SCOUT_ERROR;
      return exitCodeOf({ exitCode: r.exitCode ?? null, signal: r.signal ?? null, stdout: '', stderr: '', truncated: false, durationMs: 0 });
    }
    if (!follow && r.data.length === 0) return 0;
  }
}

async function write(data: string | Buffer): Promise<void> {
  await writeOrWait(process.stdout, data);
}

type Client = Awaited<ReturnType<typeof connect>>;

/**
 * A connection to a scoutd that went away: wait for one to come back (a service manager restarts it within
 * a second or two), then start one ourselves, as any command would.
 */
async function reconnect(ctx: CommandContext): Promise<Client> {
  const until = Date.now() + RECONNECT_WAIT_MS;
  while (Date.now() < until) {
    const c = await connectIfRunning(ctx);
    if (c) return c;
    await new Promise((r) => setTimeout(r, RECONNECT_POLL_MS));
  }
  return connect(ctx);
}

function row(j: JobInfo): string[] {
  const exit = j.state === 'running' || j.state === 'unknown' ? '-' : j.exitCode !== null ? String(j.exitCode) : j.signal ? `SIG${j.signal}` : (j.error?.code ?? '-');
  const command = j.command.length > 60 ? `${j.command.slice(0, 57)}...` : j.command;
  return [j.jobId, j.host, j.state, exit, ago(j.startedAt), bytes(j.bytes), command.replace(/\s+/g, ' ')];
}
