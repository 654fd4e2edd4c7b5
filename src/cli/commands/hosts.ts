import { connect } from '../connect.js';
import type { CommandContext } from '../main.js';
import { json, table } from '../output.js';

export async function run(ctx: CommandContext): Promise<number> {
  const client = await connect(ctx);
  try {
    const probe = ctx.args.flags.has('probe');
    const hosts = await client.call('hosts.list', probe ? { probe: true } : {});
    if (ctx.json) {
      ctx.io.out(json(hosts) + '\n');
      return 0;
    }
    if (hosts.length === 0) {
      ctx.io.out('No SSH hosts configured (add Host entries to ~/.ssh/config).\n');
      return 0;
    }
    const rows = hosts.map((h) => [
      h.name,
      `${h.user}@${h.hostname}:${h.port}`,
      h.proxyJump ? h.proxyJump.join(',') : '-',
      h.connected ? 'pooled' : '-',
      ...(probe ? [h.online === undefined ? '?' : h.online ? `online${h.latencyMs !== undefined ? ` ${h.latencyMs}ms` : ''}` : 'offline'] : []),
    ]);
    ctx.io.out(table(rows, ['HOST', 'ADDRESS', 'JUMP', 'CONNECTION', ...(probe ? ['REACHABLE'] : [])]) + '\n');
    return 0;
  } finally {
    client.close();
  }
}
