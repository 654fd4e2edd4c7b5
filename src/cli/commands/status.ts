import type { PoolListResult, StatusResult } from '../../protocol/methods/index.js';
import { defaultSocketPath } from '../../protocol/paths.js';
import { forwardLine } from './forward.js';
import { connectIfRunning } from '../connect.js';
import type { CommandContext } from '../main.js';
import { ago, bytes, duration, json, table } from '../output.js';

/** Like `systemctl status`: exit 3 when the daemon is not running. */
const EXIT_NOT_RUNNING = 3;

export async function run(ctx: CommandContext): Promise<number> {
  const client = await connectIfRunning(ctx);
  if (!client) {
    const socket = ctx.socket ?? defaultSocketPath(process.env);
    if (ctx.json) ctx.io.out(json({ running: false, socket }) + '\n');
    else ctx.io.out(`scoutd is not running (socket ${socket})\nstart it with: scoutd   (or 'scoutctl service install' to run it as a service)\n`);
    return EXIT_NOT_RUNNING;
  }
  try {
    const [status, pool] = await Promise.all([client.call('daemon.status'), client.call('pool.list')]);
    if (ctx.json) {
      ctx.io.out(json({ running: true, ...status, connections: pool.connections }) + '\n');
      return 0;
    }
    ctx.io.out(render(status, pool));
    return 0;
  } finally {
    client.close();
  }
}

function render(s: StatusResult, pool: PoolListResult): string {
  const lines = [
    `scoutd ${s.version} — running (pid ${s.pid}, up ${duration(s.uptimeMs)}, protocol ${s.protocol})`,
    `  socket:      ${s.socket}${s.activation === 'systemd' ? ' (from systemd socket activation)' : ''}`,
    `  ssh config:  ${s.sshConfig} (${s.hosts} host${s.hosts === 1 ? '' : 's'})`,
    `  clients:     ${s.clients} connected, ${s.inFlight} call${s.inFlight === 1 ? '' : 's'} in flight, ${s.counters.requests} served`,
    `  pool:        ${s.pool.connections} open, ${s.pool.created} created, ${s.pool.closed} closed, ${s.pool.reconnects ?? 0} reconnects, ${s.pool.uses} uses`,
    `  channels:    ${s.pool.channelsOpen} open, ${s.pool.queued ?? 0} queued, channel waits: ${s.pool.channelWaits ?? 0} (${duration(s.pool.channelWaitMs ?? 0)} total), ${s.pool.refusedOpens ?? 0} refused opens`,
    `  faults:      ${s.pool.connectRetries ?? 0} connect retries, ${s.pool.keepaliveFailures ?? 0} keepalive failures, ${s.pool.retriedCalls ?? 0} calls retried${poolErrors(s.pool.errors)}`,
    `  memory:      ${bytes(s.rssBytes)} RSS`,
  ];
  if (s.warmShell) {
    const w = s.warmShell;
    const fb = Object.entries(w.fallbacks)
      .map(([k, v]) => `${k}×${v}`)
      .join(', ');
    lines.push(
      `  warm shells: ${w.live} live, ${w.hits} fast-path call${w.hits === 1 ? '' : 's'} (${w.direct ?? 0} without a subshell), ${w.started} started, ${w.restarts} replaced${fb ? `; exec-channel fallbacks: ${fb}` : ''}`,
    );
  }
  for (const f of s.forwards ?? []) lines.push(`  forward:     ${forwardLine(f)}`);
  const errs = Object.entries(s.counters.errors);
  if (errs.length) lines.push(`  errors:      ${errs.map(([k, v]) => `${k}×${v}`).join(', ')}`);
  for (const w of s.warnings) lines.push(`  WARNING:     ${w}`);
  if (s.policy) {
    const n = s.policy.hosts.length;
    lines.push(`  policy:      ${s.policy.present ? `${s.policy.file}: ${n} restricted host${n === 1 ? '' : 's'}` : `none (${s.policy.file} not found): every host unrestricted`}`);
    if (n) {
      lines.push('', 'Restricted hosts:');
      lines.push(
        indent(
          table(
            s.policy.hosts.map((h) => [h.host, h.entry, h.readOnly ? 'yes' : 'no', String(h.allow), String(h.deny), h.roots.join(', ') || '-', h.confirm.join(',') || '-', h.sudo ? 'yes' : 'no']),
            ['HOST', 'ENTRY', 'READ-ONLY', 'ALLOW', 'DENY', 'ROOTS', 'CONFIRM', 'SUDO'],
          ),
        ),
      );
    }
  }
  if (pool.connections.length) {
    lines.push('', 'Connections:');
    lines.push(
      indent(
        table(
          pool.connections.map((c) => [c.host, String(c.id), ago(c.since), ago(c.lastUsed), String(c.uses), `${c.channels.open}/${c.channels.limit}`]),
          ['HOST', 'ID', 'OPENED', 'LAST USED', 'USES', 'CHANNELS'],
        ),
      ),
    );
  }
  const changed = s.settings.filter((x) => x.source === 'env');
  lines.push('', `Settings (${changed.length} from the environment; 'scoutctl status --json' lists all):`);
  lines.push(
    indent(
      table(
        s.settings.map((x) => [x.env, fmt(x.value), x.source === 'env' ? 'env' : 'default']),
        ['VARIABLE', 'VALUE', 'SOURCE'],
      ),
    ),
  );
  return lines.join('\n') + '\n';
}

function poolErrors(errors: Record<string, number> | undefined): string {
  const e = Object.entries(errors ?? {});
  return e.length ? `; pool errors: ${e.map(([k, v]) => `${k}×${v}`).join(', ')}` : '';
}

function fmt(v: unknown): string {
  return v === null || v === undefined ? '-' : String(v);
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => '  ' + l)
    .join('\n');
}
