// scoutctl service install | uninstall | status: run scoutd as a systemd user service (Linux) or a launchd
// agent (macOS). Idempotent: installing twice rewrites nothing that is already right and leaves one
// running service; --dry-run prints the files and commands instead. `install --http` also installs
// scout-mcp --http as a second service beside scoutd (a plain install leaves that one as it is; uninstall
// removes both).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { isScoutError } from '../../protocol/errors.js';
import { ScoutClient } from '../../client/client.js';
import { UsageError, flag } from '../args.js';
import { shutdownDaemon } from '../connect.js';
import type { CommandContext } from '../main.js';
import { json } from '../output.js';
import { DEFAULT_HTTP, type HttpServiceOptions, httpInstallCommand, httpStatus, planInstall, planUninstall, type ServicePlan, type ServicePlatform } from '../service/plan.js';

/** Exit code of `service status` when nothing is installed (like `systemctl status` of an unknown unit). */
const EXIT_NOT_INSTALLED = 3;

export async function run(ctx: CommandContext): Promise<number> {
  const sub = ctx.args.positional[0];
  const platformFlag = flag(ctx.args, 'platform');
  if (platformFlag !== undefined && platformFlag !== 'linux' && platformFlag !== 'macos') throw new UsageError(`--platform must be linux or macos, got '${platformFlag}'`);
  const opts = { env: process.env, platform: platformFlag as ServicePlatform | undefined };
  const dryRun = ctx.args.flags.has('dry-run');
  if (platformFlag && !dryRun && sub !== 'status') throw new UsageError('--platform only goes with --dry-run (a service is installed for the machine it runs on)');
  const http = httpFlags(ctx, sub);
  switch (sub) {
    case 'install':
    case 'uninstall': {
      const plan = sub === 'install' ? planInstall({ ...opts, http }) : planUninstall(opts);
      if (dryRun) {
        ctx.io.out(ctx.json ? json({ dryRun: true, ...plan }) + '\n' : describe(plan));
        return 0;
      }
      return carryOut(plan, ctx);
    }
    case 'status':
      return status(ctx, planInstall(opts), opts);
    default:
      throw new UsageError(sub ? `unknown service action '${sub}'` : 'service needs an action: install, uninstall or status');
  }
}

/** --http [--host H] [--port P], checked: only with install, and --host/--port only with --http. */
function httpFlags(ctx: CommandContext, sub: string | undefined): HttpServiceOptions | undefined {
  const on = ctx.args.flags.has('http');
  const host = flag(ctx.args, 'host');
  const port = flag(ctx.args, 'port');
  if (!on) {
    if (host !== undefined || port !== undefined) throw new UsageError(`--${host !== undefined ? 'host' : 'port'} goes with --http (service install --http [--host H] [--port P])`);
    return undefined;
  }
  if (sub !== 'install') throw new UsageError(`--http goes with install: ${sub === 'uninstall' ? 'uninstall removes the HTTP service too' : 'status shows the HTTP service when it is installed'}`);
  return { host: host === undefined ? DEFAULT_HTTP.host : checkHost(host), port: port === undefined ? DEFAULT_HTTP.port : checkPort(port) };
}

function checkHost(host: string): string {
  if (/^\[.*\]$/.test(host)) throw new UsageError(`--host takes an IPv6 address without brackets (${host.slice(1, -1)}), got '${host}'`);
  const name = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
  if (net.isIP(host) === 0 && !name.test(host)) throw new UsageError(`--host must be an IP address or a host name to listen on, got '${host}'`);
  return host;
}

function checkPort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new UsageError(`--port must be a number from 1 to 65535, got '${text}'`);
  return port;
}

function shellWord(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** The dry-run text: every file in full, then every command. */
function describe(plan: ServicePlan): string {
  const out: string[] = [`# scoutctl service ${plan.action} (${plan.platform}) — dry run, nothing changed`];
  if (plan.action === 'install') out.push(`# program: ${plan.program.join(' ')}`, `# socket:  ${plan.socket}`, `# logs:    ${plan.logs}`);
  if (plan.action === 'install' && plan.http)
    out.push(`# http:    ${plan.http.program.join(' ')}`, `#          MCP at ${plan.http.url} (${plan.http.unit}); keys: ${plan.http.keys}; logs: ${plan.http.logs}`);
  for (const w of plan.warnings) out.push(`# WARNING: ${w}`);
  for (const n of plan.notes) out.push(`# note: ${n}`);
  if (plan.preflight) out.push('', 'would first check:', `  ${plan.preflight.argv.map(shellWord).join(' ')}   # ${plan.preflight.why}`);
  if (plan.stopRunning) out.push('', `would stop a scoutd already running on ${plan.socket} (as 'scoutctl stop' does), so the service can take the socket`);
  const cmd = (c: ServicePlan['commands'][number]) => `  ${c.argv.map(shellWord).join(' ')}${c.mayFail ? '   # may fail: ' : '   # '}${c.why}`;
  const before = plan.commands.filter((c) => c.beforeFiles);
  if (before.length) out.push('', 'would run:', ...before.map(cmd));
  for (const d of plan.dirs) out.push('', `would create directory ${d} (if missing)`);
  for (const f of plan.files) {
    if (f.content !== undefined) out.push('', `would write ${f.path} (${f.state}):`, f.content.trimEnd());
    else out.push('', f.state === 'remove' ? `would remove ${f.path}` : `${f.path} is already absent`);
  }
  const after = plan.commands.filter((c) => !c.beforeFiles);
  if (after.length) out.push('', 'would run:', ...after.map(cmd));
  return out.join('\n') + '\n';
}

function runCommand(c: ServicePlan['commands'][number], ctx: CommandContext): void {
  if (!ctx.json) ctx.io.out(`$ ${c.argv.map(shellWord).join(' ')}\n`);
  const r = spawnSync(c.argv[0], c.argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (r.error || r.status !== 0) {
    if (c.mayFail) return;
    const why = r.error ? ((r.error as NodeJS.ErrnoException).code === 'ENOENT' ? `${c.argv[0]} not found` : r.error.message) : `exit code ${r.status}`;
    throw new Error(`'${c.argv.join(' ')}' failed (${why})${output ? `:\n${output}` : ''}`);
  }
}

async function stopRunningDaemon(plan: ServicePlan, ctx: CommandContext): Promise<void> {
  const client = new ScoutClient({ socket: plan.socket, clientName: 'scoutctl-service' });
  try {
    await client.connect();
  } catch (err) {
    if (isScoutError(err, 'DAEMON_UNAVAILABLE')) return;
    throw err;
  }
  const pid = await shutdownDaemon(client);
  if (!ctx.json) ctx.io.out(`stopped the running scoutd (pid ${pid}) so the service can take over ${plan.socket}\n`);
}

/** The service manager answers, or an error saying nothing changed and how to get one. */
function checkManager(plan: ServicePlan, ctx: CommandContext): void {
  if (!plan.preflight) return;
  const { argv, fix } = plan.preflight;
  if (!ctx.json) ctx.io.out(`$ ${argv.map(shellWord).join(' ')}\n`);
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (!r.error && r.status === 0) return;
  const why = r.error ? ((r.error as NodeJS.ErrnoException).code === 'ENOENT' ? `${argv[0]} not found` : r.error.message) : `exit code ${r.status}`;
  const said = (r.stderr || r.stdout || '').trim().split('\n')[0];
  throw new Error(
    `cannot install the service: '${argv.join(' ')}' failed (${why}${said ? `: ${said}` : ''}). Nothing was changed and a running scoutd keeps running (clients auto-start one meanwhile). ${fix}`,
  );
}

async function carryOut(plan: ServicePlan, ctx: CommandContext): Promise<number> {
  checkManager(plan, ctx);
  for (const c of plan.commands.filter((x) => x.beforeFiles)) runCommand(c, ctx);
  for (const d of plan.dirs) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  if (plan.stopRunning) await stopRunningDaemon(plan, ctx);
  for (const f of plan.files) {
    if (f.content !== undefined && f.state !== 'unchanged') {
      fs.writeFileSync(f.path, f.content, { mode: 0o644 });
      if (!ctx.json) ctx.io.out(`wrote ${f.path} (${f.state})\n`);
    } else if (f.content !== undefined && !ctx.json) ctx.io.out(`${f.path} is up to date\n`);
    else if (f.state === 'remove') {
      fs.rmSync(f.path, { force: true });
      if (!ctx.json) ctx.io.out(`removed ${f.path}\n`);
    }
  }
  for (const c of plan.commands.filter((x) => !x.beforeFiles)) runCommand(c, ctx);
  if (ctx.json) {
    ctx.io.out(json({ ...plan, done: true }) + '\n');
    return 0;
  }
  const kind = plan.platform === 'linux' ? 'systemd user service' : 'launchd agent';
  if (plan.action === 'install') {
    ctx.io.out(`scoutd is installed as a ${kind}; socket ${plan.socket}; logs: scoutctl logs (${plan.logs})\n`);
    if (plan.http) ctx.io.out(`scout-mcp --http is installed as a ${kind} (${plan.http.unit}): MCP at ${plan.http.url}; keys: scoutctl keys add NAME; logs: ${plan.http.logs}\n`);
  } else ctx.io.out(`scoutd service ${plan.http ? 'and scout-mcp --http service ' : ''}removed (a client may still auto-start a scoutd of its own)\n`);
  for (const n of plan.notes) ctx.io.out(`note: ${n}\n`);
  for (const w of plan.warnings) ctx.io.err(`warning: ${w}\n`);
  return 0;
}

/** What the service manager says of each unit (systemd) or label (launchd). */
function managerState(platform: ServicePlatform, units: string[]): Array<{ unit: string; enabled: string; active: string } | { unit: string; loaded: boolean }> {
  if (platform === 'linux') return units.map((u) => ({ unit: u, enabled: query(['systemctl', '--user', 'is-enabled', u]), active: query(['systemctl', '--user', 'is-active', u]) }));
  return units.map((u) => ({ unit: u, loaded: spawnSync('launchctl', ['print', `gui/${process.getuid?.() ?? 0}/${u}`], { stdio: 'ignore' }).status === 0 }));
}

function managerLine(m: ReturnType<typeof managerState>[number]): string {
  return `  ${m.unit}: ${'enabled' in m ? `${m.enabled}, ${m.active}` : m.loaded ? 'loaded' : 'not loaded'}`;
}

async function status(ctx: CommandContext, plan: ServicePlan, opts: { env: NodeJS.ProcessEnv; platform?: ServicePlatform }): Promise<number> {
  const installed = plan.files.filter((f) => f.state !== 'new');
  const stale = plan.files.filter((f) => f.state === 'changed');
  const manager = managerState(plan.platform, plan.platform === 'linux' ? ['scoutd.socket', 'scoutd.service'] : [path.basename(plan.files[0].path, '.plist')]);
  // The HTTP service, only when its file is there (it is optional).
  const http = httpStatus(opts);
  const httpReport = http && {
    path: http.file,
    upToDate: http.upToDate,
    host: http.host,
    port: http.port,
    url: http.url,
    manager: managerState(plan.platform, [http.unit]),
    logs: http.logs,
  };
  const result = {
    platform: plan.platform,
    installed: installed.length === plan.files.length,
    files: plan.files.map((f) => ({ path: f.path, present: f.state !== 'new', upToDate: f.state === 'unchanged' })),
    manager,
    socket: plan.socket,
    logs: plan.logs,
    http: httpReport ?? null,
  };
  if (ctx.json) ctx.io.out(json(result) + '\n');
  else {
    const lines = [`scoutd service (${plan.platform}): ${result.installed ? 'installed' : installed.length ? 'partly installed' : 'not installed'}`];
    for (const f of result.files) lines.push(`  ${f.path}: ${!f.present ? 'missing' : f.upToDate ? 'up to date' : "differs from what 'scoutctl service install' would write now"}`);
    for (const m of manager) lines.push(managerLine(m));
    lines.push(`  socket: ${plan.socket}`, `  logs:   ${plan.logs}`);
    if (http && httpReport) {
      lines.push('', `scout-mcp --http service: installed, MCP at ${http.url}`);
      lines.push(`  ${http.file}: ${http.upToDate ? 'up to date' : `differs from what '${httpInstallCommand(http)}' would write now`}`);
      for (const m of httpReport.manager) lines.push(managerLine(m));
      lines.push(`  logs:   ${http.logs}`);
    }
    if (stale.length) lines.push('', "node or scoutd moved since the install (an upgrade of node?): run 'scoutctl service install' again");
    if (http && !http.upToDate) lines.push('', `the scout-mcp --http service is not what would be installed now: run '${httpInstallCommand(http)}' again`);
    if (!result.installed) lines.push('', 'install with: scoutctl service install   (preview: --dry-run)');
    ctx.io.out(lines.join('\n') + '\n');
  }
  return result.installed ? 0 : EXIT_NOT_INSTALLED;
}

/** One word of state from systemctl (`enabled`, `active`, …), or why there is none. */
function query(argv: string[]): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) return `${argv[0]} unavailable`;
  return (r.stdout.trim() || r.stderr.trim().split('\n')[0] || `exit ${r.status}`).split('\n')[0];
}
