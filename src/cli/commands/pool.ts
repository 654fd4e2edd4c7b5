import { connect } from '../connect.js';
import { forwardLine } from './forward.js';
import type { CommandContext } from '../main.js';
import { ago, json, table } from '../output.js';

export async function run(ctx: CommandContext): Promise<number> {
  const client = await connect(ctx);
  try {
    const [pool, { forwards }] = await Promise.all([client.call('pool.list'), client.call('forward.list', {})]);
    if (ctx.json) {
      ctx.io.out(json(pool) + '\n');
      return 0;
    }
    if (pool.connections.length === 0) ctx.io.out('No pooled connections.\n');
    // Forwards ride these connections (and keep them from the idle reaper).
    else
      ctx.io.out(
        table(
          pool.connections.map((c) => [
            c.host,
            String(c.id),
            c.retiring ? 'retiring' : c.overflow ? `${c.state} (overflow)` : c.state,
            ago(c.since),
            ago(c.lastUsed),
            String(c.uses),
            `${c.channels.open}/${c.channels.limit}`,
          ]),
          ['HOST', 'ID', 'STATE', 'OPENED', 'LAST USED', 'USES', 'CHANNELS'],
        ) + '\n',
      );
    if (pool.hosts.length) {
      ctx.io.out(
        '\n' +
          table(
            pool.hosts.map((h) => [
              h.host,
              String(h.created),
              String(h.closed),
              String(h.reconnects ?? 0),
              String(h.uses),
              `${h.channelWaits ?? 0}/${Math.round(h.channelWaitMs ?? 0)}ms`,
              String(h.queued ?? 0),
              String(h.refusedOpens ?? 0),
              String(h.connectRetries ?? 0),
              String(h.keepaliveFailures ?? 0),
              Object.entries(h.errors)
                .map(([k, v]) => `${k}×${v}`)
                .join(', ') || '-',
            ]),
            ['HOST', 'CREATED', 'CLOSED', 'RECONNECTS', 'USES', 'WAITS', 'QUEUED', 'REFUSED', 'RETRIES', 'KEEPALIVE', 'ERRORS'],
          ) +
          '\n',
      );
    }
    if (forwards.length) ctx.io.out(`\n${forwards.map((f) => `forward ${forwardLine(f)}`).join('\n')}\n`);
    return 0;
  } finally {
    client.close();
  }
}
