import { connectIfRunning, shutdownDaemon } from '../connect.js';
import type { CommandContext } from '../main.js';
import { json } from '../output.js';

export async function run(ctx: CommandContext): Promise<number> {
  const client = await connectIfRunning(ctx);
  if (!client) {
    ctx.io.out(ctx.json ? json({ stopped: false, running: false }) + '\n' : 'scoutd is not running\n');
    return 0;
  }
  const pid = await shutdownDaemon(client);
  ctx.io.out(ctx.json ? json({ stopped: true, pid }) + '\n' : `scoutd (pid ${pid}) stopped\n`);
  return 0;
}
