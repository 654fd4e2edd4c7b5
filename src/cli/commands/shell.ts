// `scoutctl shell HOST [--cwd DIR] [-- CMD]`: an interactive session over the pooled connection. The control
// connection opens it (shell.open, answered with the exit status at the end) and carries resizes; a second
// connection, attached with the token the daemon gave, carries the terminal's bytes raw, so a keystroke costs
// a socket write, not a JSON message. With a terminal on both ends it is `ssh -t`: local TERM and size, raw
// mode, Ctrl-C/Ctrl-Z/Ctrl-D go to the remote side. Without one it is `ssh -T`.
import type net from 'node:net';
import { remotePath } from '../../protocol/paths.js';
import { UsageError, flag } from '../args.js';
import { connectOrReport } from '../connect.js';
import { reportError, type CommandContext } from '../main.js';

/** Like ssh: 255 means Scout (not the remote side) failed. */
const EXIT_SCOUT_ERROR = 255;
/** Signal numbers for 128 + N, as a shell reports a command killed by a signal. */
const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, PIPE: 13, TERM: 15 };

export async function run(ctx: CommandContext): Promise<number> {
  const [host, ...words] = ctx.args.positional;
  const argv = ctx.args.rest ?? words;
  if (!host) throw new UsageError('shell needs a HOST');
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const cwd = flag(ctx.args, 'cwd');
  const params = {
    host,
    ...(tty ? { pty: { term: process.env.TERM || 'xterm-256color', cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 } } : {}),
    ...(cwd ? { cwd: remotePath(cwd) } : {}),
    ...(argv.length ? { command: argv.join(' ') } : {}),
  };
  const client = await connectOrReport(ctx);
  if (!client) return EXIT_SCOUT_ERROR;

  // The terminal is given back on every way out: the end, an error, the daemon going away, a signal.
  const restore = () => {
    if (tty && process.stdin.isRaw) process.stdin.setRawMode(false);
  };
  process.once('exit', restore);
  let data: net.Socket | undefined;
  let outputDone: Promise<void> = Promise.resolve();
  let token: string | undefined;
  const onResize = () => {
    if (token) void client.call('shell.resize', { token, cols: process.stdout.columns, rows: process.stdout.rows }).catch(() => {});
  };
  const attach = async (t: string) => {
    token = t;
    data = await client.attach({ token: t });
    outputDone = new Promise((resolve) => data!.once('close', () => resolve()));
    if (tty) {
      process.stdin.setRawMode(true);
      process.stdout.on('resize', onResize);
    }
    process.stdin.pipe(data);
    data.pipe(process.stdout, { end: false });
  };
  let attaching: Promise<void> | undefined;
  try {
    const exit = await client.call('shell.open', params, {
      onNotification: (m, p) => {
        if (m === 'shell.ready') attaching = attach(p.token);
      },
    });
    await attaching;
    // Everything the session printed reaches the terminal before we leave.
    await outputDone;
    return exit.exitCode ?? 128 + (SIGNALS[exit.signal ?? ''] ?? 0);
  } catch (err) {
    restore();
    reportError(err, ctx.io, ctx.json);
    return EXIT_SCOUT_ERROR;
  } finally {
    restore();
    process.stdout.off('resize', onResize);
    process.stdin.unpipe();
    process.stdin.pause();
    data?.destroy();
    client.close();
  }
}
