import { connectIfRunning } from '../connect.js';
import type { CommandContext } from '../main.js';
import { json } from '../output.js';

/** Bound on waiting for the daemon to finish its graceful drain and close the socket. */
const STOP_WAIT_MS = 30_000;

export async function run(ctx: CommandContext): Promise<number> {
  const client = await connectIfRunning(ctx);
  if (!client) {
    ctx.io.out(ctx.json ? json({ stopped: false, running: false }) + '\n' : 'scoutd is not running\n');
    return 0;
  }
  const pid = client.hello?.pid;
  const closed = Promise.race([client.waitClosed(), new Promise<void>((r) => setTimeout(r, STOP_WAIT_MS).unref())]);
  await client.call('daemon.shutdown');
  await closed;
  ctx.io.out(ctx.json ? json({ stopped: true, pid }) + '\n' : `scoutd (pid ${pid}) stopped\n`);
  return 0;
}
