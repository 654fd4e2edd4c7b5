// scoutctl approvals | approve ID [--for 10m] | deny ID: decide what the policy's `confirm` rules hold back.
import type { ApprovalInfo } from '../../protocol/methods/index.js';
import { describeApproval } from '../approve.js';
import { UsageError, flag } from '../args.js';
import { connect } from '../connect.js';
import type { CommandContext } from '../main.js';
import { json, table } from '../output.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/** `--for 10m`: 30s, 10m, 2h (at most a day). */
export function parseFor(raw: string): number {
  const m = /^(\d+)([smh])$/.exec(raw.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2]] : Number.NaN;
  if (!Number.isFinite(ms) || ms < 1000 || ms > 86_400_000) throw new UsageError(`--for takes a time from 1s to 24h such as 30s, 10m or 2h, not '${raw}'`);
  return ms;
}

export async function run(ctx: CommandContext): Promise<number> {
  const verb = ctx.args.command!;
  const id = ctx.args.positional[0];
  const forRaw = flag(ctx.args, 'for');
  if (verb !== 'approvals' && !id) throw new UsageError(`${verb} needs an approval ID (see scoutctl approvals)`);
  if (forRaw !== undefined && verb !== 'approve') throw new UsageError('--for goes with approve');
  const forMs = forRaw === undefined ? undefined : parseFor(forRaw);
  const client = await connect(ctx);
  try {
    if (verb === 'approvals') {
      const r = await client.call('approvals.list');
      if (ctx.json) ctx.io.out(`${json(r)}\n`);
      else if (r.approvals.length === 0) ctx.io.out('No approval is pending.\n');
      else ctx.io.out(`${table(r.approvals.map(row), ['ID', 'CLIENT', 'HOST', 'KIND', 'WHAT', 'EXPIRES'])}\n`);
      return 0;
    }
    const r = await client.call('approvals.decide', { id, approve: verb === 'approve', ...(forMs ? { forMs } : {}) });
    if (ctx.json) ctx.io.out(`${json(r)}\n`);
    else ctx.io.out(`${r.decision} ${r.id}: ${describeApproval(r)}${forRaw ? `; the same on ${r.host} runs without asking for ${forRaw}` : ''}\n`);
    return 0;
  } finally {
    client.close();
  }
}

function row(a: ApprovalInfo): string[] {
  return [a.id, a.client, a.host, a.kind, a.cwd ? `${a.what} (in ${a.cwd})` : a.what, a.expiresAt];
}
