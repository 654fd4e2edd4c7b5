import { remotePath } from '../../protocol/paths.js';
import { UsageError, flag, timeoutMs } from '../args.js';
import { connect } from '../connect.js';
import { reportError, type CommandContext } from '../main.js';
import { json } from '../output.js';

/**
 * `scoutctl fleet exec PATTERN -- CMD`: every output line prefixed with its host as it arrives (like pssh
 * -i / ansible ad-hoc), then one line per host that failed and a summary. Exit 0 only if every host ran the
 * command with exit code 0.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const [sub, target, ...extra] = ctx.args.positional;
  if (sub !== 'exec') throw new UsageError(`unknown fleet subcommand '${sub ?? ''}' (try: fleet exec PATTERN -- COMMAND)`);
  const argv = ctx.args.rest ?? extra;
  if (!target || argv.length === 0) throw new UsageError('fleet exec needs a PATTERN (a glob like web*, or a comma-separated list) and a COMMAND');
  const timeout = timeoutMs(ctx.args);
  const concurrency = flag(ctx.args, 'concurrency');
  if (concurrency && !(Number.isInteger(Number(concurrency)) && Number(concurrency) > 0)) throw new UsageError('--concurrency takes a positive integer');
  const params = {
    ...(target.includes(',') ? { hosts: target.split(',').filter(Boolean) } : { pattern: target }),
    command: argv.join(' '),
    ...(flag(ctx.args, 'cwd') ? { cwd: remotePath(flag(ctx.args, 'cwd')!) } : {}),
    ...(timeout ? { timeoutMs: timeout } : {}),
    ...(concurrency ? { concurrency: Number(concurrency) } : {}),
    ...(ctx.json ? {} : { stream: true }),
  };
  const client = await connect(ctx);
  // Partial lines per host and stream, so interleaved chunks from many hosts never mix within a line.
  const partial = new Map<string, string>();
  const emit = (host: string, stream: string, text: string, final = false) => {
    const key = `${host}\0${stream}`;
    const lines = ((partial.get(key) ?? '') + text).split('\n');
    const rest = lines.pop()!;
    if (final && rest) lines.push(rest);
    partial.set(key, final ? '' : rest);
    const write = stream === 'stderr' ? ctx.io.err : ctx.io.out;
    for (const l of lines) write(`${host}: ${l}\n`);
  };
  try {
    const r = await client.call('fleet.exec', params, {
      onNotification: (m, p) => {
        if (m !== 'exec.output') return;
        const data = p.encoding === 'base64' ? Buffer.from(p.data as string, 'base64').toString('utf8') : (p.data as string);
        emit(p.host as string, p.stream as string, data);
      },
    });
    if (ctx.json) {
      ctx.io.out(json(r) + '\n');
    } else {
      for (const key of [...partial.keys()]) {
        const [host, stream] = key.split('\0');
        emit(host, stream, '', true);
      }
      for (const h of r.results) {
        if (h.error) ctx.io.err(`${h.host}: error: ${h.error.message} [${h.error.code}]\n`);
        else if (h.result && !h.ok) ctx.io.err(`${h.host}: exit ${h.result.exitCode ?? `signal ${h.result.signal}`}\n`);
        if (h.result?.truncated) ctx.io.err(`${h.host}: output cut at its share of the call's output cap (stream more with 'scoutctl exec ${h.host}' or write it to a file)\n`);
      }
      ctx.io.err(`${r.summary.ok}/${r.summary.total} hosts ok${r.summary.failed ? `, ${r.summary.failed} failed` : ''}\n`);
    }
    return r.summary.failed === 0 ? 0 : 1;
  } catch (err) {
    return reportError(err, ctx.io, ctx.json);
  } finally {
    client.close();
  }
}
