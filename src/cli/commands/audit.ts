// scoutctl audit: what was done to which host, by which client, and how it ended (from scoutd's audit log).
import type { AuditEntry } from '../../protocol/methods/index.js';
import { UsageError, flag } from '../args.js';
import { connect } from '../connect.js';
import type { CommandContext } from '../main.js';
import { json, table } from '../output.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: an ISO time, or an age such as 90s, 10m, 2h, 7d. */
export function parseSince(raw: string, now = Date.now()): string {
  const age = /^(\d+)([smhd])$/.exec(raw.trim());
  if (age) return new Date(now - Number(age[1]) * UNIT_MS[age[2]]).toISOString();
  const t = Date.parse(raw);
  if (!Number.isFinite(t)) throw new UsageError(`--since takes an ISO time (2026-01-31T12:00:00Z) or an age (10m, 2h, 7d), not '${raw}'`);
  return new Date(t).toISOString();
}

export async function run(ctx: CommandContext): Promise<number> {
  const host = flag(ctx.args, 'host');
  const sinceRaw = flag(ctx.args, 'since');
  const limitRaw = flag(ctx.args, 'limit');
  const limit = limitRaw === undefined ? undefined : Number(limitRaw);
  if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) throw new UsageError(`--limit takes a positive number, not '${limitRaw}'`);
  const params = { ...(host ? { host } : {}), ...(sinceRaw ? { since: parseSince(sinceRaw) } : {}), ...(limit ? { limit } : {}) };
  const client = await connect(ctx);
  try {
    const r = await client.call('audit.query', params);
    if (ctx.json) ctx.io.out(json(r) + '\n');
    else if (r.entries.length === 0) ctx.io.out(`No audit entries${host ? ` for ${host}` : ''}${sinceRaw ? ` since ${sinceRaw}` : ''} (${r.file}).\n`);
    else {
      ctx.io.out(table(r.entries.map(row), ['TIME', 'CLIENT', 'METHOD', 'HOST', 'OUTCOME', 'MS', 'WHAT']) + '\n');
      if (r.truncated) ctx.io.out(`(older entries left out; use --since or --limit)\n`);
    }
    return 0;
  } finally {
    client.close();
  }
}

/** An approval line: its id, what it was for, and who decided (audit lines of their own, approvals.ts). */
function approvalText(a: AuditEntry): string {
  if (!a.approvalId) return '';
  return `${a.approvalId} ${a.kind ?? ''} ${a.what ?? ''}${a.decider ? ` (by ${a.decider})` : ''}`;
}

function row(e: AuditEntry): string[] {
  const host = e.host ?? e.hosts?.join(',') ?? (e.from && e.to ? `${e.from.host}→${e.to.host}` : '-');
  const what =
    e.command !== undefined
      ? (e.cwd ? `(${e.cwd}) ` : '') + e.command
      : e.from && e.to
        ? `${e.from.path} → ${e.to.path}`
        : [e.path, e.localPath].filter(Boolean).join(' ↔ ') || e.jobId || approvalText(e);
  const outcome = e.outcome === 'ok' && e.exitCode !== undefined && e.exitCode !== 0 ? `exit ${e.exitCode}` : e.outcome;
  return [e.time, e.client, e.method, host, outcome, e.durationMs === undefined ? '' : String(e.durationMs), what.replace(/\s+/g, ' ').slice(0, 120)];
}
