import { connectIfRunning } from '../connect.js';
import type { CommandContext } from '../main.js';
import { json } from '../output.js';

export async function run(ctx: CommandContext): Promise<number> {
  // A daemon that is not running has nothing to reload: the next one reads the config at start.
  const client = await connectIfRunning(ctx);
  if (!client) {
    ctx.io.out(ctx.json ? json({ reloaded: false, running: false }) + '\n' : 'scoutd is not running (it reads the configuration when it starts)\n');
    return 0;
  }
  try {
    const r = await client.call('daemon.reload');
    if (ctx.json) ctx.io.out(json({ reloaded: true, ...r }) + '\n');
    else {
      const list = (xs: string[]) => (xs.length ? xs.join(', ') : '-');
      ctx.io.out(
        `reloaded: ${r.hosts} host${r.hosts === 1 ? '' : 's'}; added ${list(r.added)}; removed ${list(r.removed)}; changed ${list(r.changed)} (their connections close once the calls on them end; others stay warm)\n`,
      );
    }
    return 0;
  } finally {
    client.close();
  }
}
