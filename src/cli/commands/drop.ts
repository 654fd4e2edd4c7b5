import { UsageError } from '../args.js';
import { connect } from '../connect.js';
import type { CommandContext } from '../main.js';
import { json } from '../output.js';

export async function run(ctx: CommandContext): Promise<number> {
  const host = ctx.args.positional[0];
  if (!host) throw new UsageError('drop needs a HOST');
  const client = await connect(ctx);
  try {
    const r = await client.call('pool.drop', { host });
    ctx.io.out(ctx.json ? json(r) + '\n' : r.closed ? `closed ${r.closed} connection to ${host}\n` : `no pooled connection to ${host}\n`);
    return 0;
  } finally {
    client.close();
  }
}
