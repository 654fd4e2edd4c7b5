// scoutctl doctor: one screen that checks and explains — daemon reachable, protocol, socket permissions,
// ssh config, agent, each host's known_hosts entry, and with --probe a real login to each host. Exit 1 when
// anything is wrong (a FAIL line); warnings alone exit 0.
import fs from 'node:fs';
import path from 'node:path';
import { isScoutError } from '../../protocol/errors.js';
import { socketDirProblem, socketFileProblem } from '../../protocol/socket-trust.js';
import type { DoctorResult } from '../../protocol/methods/index.js';
import { packageVersion } from '../../protocol/version.js';
import { ScoutClient } from '../../client/client.js';
import type { CommandContext } from '../main.js';
import { json } from '../output.js';
import { currentPlatform, planInstall } from '../service/plan.js';

type Level = 'ok' | 'warn' | 'fail' | 'info';
interface Check {
  level: Level;
  /** What was checked: 'daemon', 'socket', …, or a host alias. */
  name: string;
  message: string;
  /** How to fix it, for warn/fail. */
  hint?: string;
}

const MARK: Record<Level, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', info: '    ' };

export async function run(ctx: CommandContext): Promise<number> {
  const probe = ctx.args.flags.has('probe');
  const checks: Check[] = [];
  // doctor never starts a daemon: "is it running?" is one of its questions.
  const client = new ScoutClient({ socket: ctx.socket, clientName: 'scoutctl-doctor' });
  checks.push(...socketChecks(client.socketPath));
  let result: DoctorResult | undefined;
  try {
    const hello = await client.connect();
    checks.push({ level: 'ok', name: 'daemon', message: `scoutd ${hello.version} (pid ${hello.pid}) answers on ${client.socketPath}` });
    checks.push(
      hello.version === packageVersion()
        ? { level: 'ok', name: 'protocol', message: `protocol ${hello.protocol}, same version as this scoutctl` }
        : {
            level: 'warn',
            name: 'protocol',
            message: `protocol ${hello.protocol} matches, but scoutd is ${hello.version} and scoutctl ${packageVersion()}`,
            hint: "restart the daemon to run the installed version: 'scoutctl stop' (or 'systemctl --user restart scoutd')",
          },
    );
    result = await client.call('daemon.doctor', { probe });
  } catch (err) {
    if (isScoutError(err, 'DAEMON_UNAVAILABLE')) {
      checks.push({
        level: 'fail',
        name: 'daemon',
        message: `no scoutd answers on ${client.socketPath}`,
        hint: "start it with 'scoutd', let any scoutctl command auto-start it, or run 'scoutctl service install'",
      });
    } else if (isScoutError(err, 'SOCKET_UNTRUSTED')) {
      checks.push({ level: 'fail', name: 'daemon', message: `not connecting to ${client.socketPath}: ${err.message}` });
    } else if (isScoutError(err, 'PROTOCOL_MISMATCH')) {
      checks.push({ level: 'fail', name: 'protocol', message: err.message });
    } else throw err;
  } finally {
    client.close();
  }
  checks.push(...serviceChecks());
  if (result) checks.push(...daemonChecks(result, probe));
  else checks.push({ level: 'info', name: 'hosts', message: 'ssh config, agent and host checks need a running daemon' });
  const failed = checks.filter((c) => c.level === 'fail').length;
  if (ctx.json) {
    ctx.io.out(json({ ok: failed === 0, checks, daemon: result ?? null }) + '\n');
  } else {
    const width = Math.max(...checks.map((c) => c.name.length));
    const lines = checks.map((c) => `${MARK[c.level]}  ${c.name.padEnd(width)}  ${c.message}${c.hint ? `\n${' '.repeat(width + 8)}→ ${c.hint}` : ''}`);
    const warned = checks.filter((c) => c.level === 'warn').length;
    lines.push(
      '',
      failed
        ? `${failed} problem${failed === 1 ? '' : 's'} found${warned ? `, ${warned} warning${warned === 1 ? '' : 's'}` : ''}`
        : `all good${warned ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}${probe ? '' : '; add --probe to log in to every host'}`,
    );
    ctx.io.out(lines.join('\n') + '\n');
  }
  return failed ? 1 : 0;
}

/** The socket and its directory must be usable by this user only (DESIGN.md: dir 0700, socket 0600). */
function socketChecks(socket: string): Check[] {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(socket);
  } catch {
    return []; // no socket: the daemon check says so
  }
  const out: Check[] = [];
  const dir = path.dirname(socket);
  const dst = fs.lstatSync(dir);
  const mode = (n: number) => (n & 0o777).toString(8).padStart(4, '0');
  // The rule every client applies before connecting (protocol/socket-trust.ts), then the socket's own mode.
  const untrusted = socketDirProblem(dir, dst) ?? socketFileProblem(socket, st);
  if (!st.isSocket()) out.push({ level: 'fail', name: 'socket', message: `${socket} is not a socket` });
  else if (untrusted) out.push({ level: 'fail', name: 'socket', message: untrusted.message });
  else if ((st.mode & 0o077) !== 0)
    out.push({ level: 'fail', name: 'socket', message: `${socket} has mode ${mode(st.mode)}: other users can reach scoutd`, hint: `chmod 600 ${socket}, and restart scoutd` });
  else out.push({ level: 'ok', name: 'socket', message: `mode ${mode(st.mode)} in a ${mode(dst.mode)} directory, yours` });
  return out;
}

/** An installed service whose units name another node or scoutd than this one (moved, upgraded) is stale. */
function serviceChecks(): Check[] {
  if (!currentPlatform()) return [];
  const plan = planInstall({ env: process.env });
  const present = plan.files.filter((f) => f.state !== 'new');
  if (present.length === 0) return [{ level: 'info', name: 'service', message: "not installed (auto-start is in use); 'scoutctl service install' runs scoutd as a service" }];
  if (present.some((f) => f.state === 'changed') || present.length < plan.files.length) {
    return [
      {
        level: 'warn',
        name: 'service',
        message: `${plan.files.map((f) => f.path).join(', ')} differ from what this scoutctl would install (another node or scoutd path, or an older version)`,
        hint: "run 'scoutctl service install' again",
      },
    ];
  }
  return [{ level: 'ok', name: 'service', message: `installed (${plan.platform === 'linux' ? 'systemd user service' : 'launchd agent'}), units up to date` }];
}

function daemonChecks(r: DoctorResult, probe: boolean): Check[] {
  const out: Check[] = [];
  out.push(
    r.sshConfig.ok
      ? {
          level: r.sshConfig.hosts ? 'ok' : 'warn',
          name: 'ssh config',
          message: `${r.sshConfig.path}: ${r.sshConfig.hosts} host${r.sshConfig.hosts === 1 ? '' : 's'}`,
          ...(r.sshConfig.hosts ? {} : { hint: 'add Host entries (Scout only talks to configured aliases)' }),
        }
      : {
          level: 'fail',
          name: 'ssh config',
          message: `${r.sshConfig.path} does not parse: ${r.sshConfig.error}`,
          hint: 'fix the file (ssh -G <host> shows what OpenSSH makes of it), then scoutctl reload',
        },
  );
  if (r.agent.socket === null) out.push({ level: 'info', name: 'agent', message: 'no SSH_AUTH_SOCK in the daemon: keys come from IdentityFile / default keys (encrypted keys cannot be used)' });
  else if (!r.agent.ok)
    out.push({
      level: 'fail',
      name: 'agent',
      message: `ssh-agent at ${r.agent.socket} unreachable: ${r.agent.error}`,
      hint: 'start the agent, or restart scoutd from a shell where SSH_AUTH_SOCK is right',
    });
  else if (r.agent.keys === 0) out.push({ level: 'warn', name: 'agent', message: `ssh-agent at ${r.agent.socket} holds no keys`, hint: 'ssh-add your key' });
  else out.push({ level: 'ok', name: 'agent', message: `ssh-agent at ${r.agent.socket} holds ${r.agent.keys} key${r.agent.keys === 1 ? '' : 's'}` });
  for (const h of r.hosts) {
    const kh = h.knownHosts;
    const file = kh.files[0] ?? 'known_hosts';
    if (kh.error) out.push({ level: 'fail', name: h.name, message: `known_hosts unreadable: ${kh.error}` });
    else if (!kh.found) {
      const level: Level = h.strict === 'yes' ? 'fail' : 'warn';
      const consequence =
        h.strict === 'yes'
          ? 'connections will be refused (HOST_KEY_UNKNOWN)'
          : h.strict === 'accept-new'
            ? 'the key will be learnt on first connect (accept-new)'
            : 'keys are not checked (StrictHostKeyChecking no)';
      out.push({
        level,
        name: h.name,
        message: `no known_hosts entry for ${kh.name} in ${kh.files.join(', ')}: ${consequence}`,
        hint: `verify the host's fingerprint, then 'ssh ${h.name}' once (or ssh-keyscan -p ${h.port} ${h.hostname} >> ${file})`,
      });
    }
    if (h.algorithms?.error)
      out.push({ level: 'fail', name: h.name, message: `${h.algorithms.error}: connects are refused (CONFIG_INVALID)`, hint: 'fix the keyword in the ssh config, then scoutctl reload' });
    for (const line of h.algorithms?.dropped ?? [])
      out.push({ level: 'warn', name: h.name, message: `ssh config ${line}`, hint: 'remove the names scoutd cannot use, or ignore: the others are offered' });
    if (probe && h.probe) {
      if (h.probe.ok) out.push({ level: 'ok', name: h.name, message: `${h.hostname}:${h.port} ${h.probe.warm ? 'warm connection' : 'connected and logged in'}, ${h.probe.latencyMs} ms` });
      else {
        const what = h.probe.code === 'CONNECT_FAILED' || h.probe.code === 'CONNECT_TIMEOUT' ? 'unreachable' : 'cannot log in to';
        out.push({ level: 'fail', name: h.name, message: `${what} ${h.hostname}:${h.port}: ${h.probe.code ? `[${h.probe.code}] ` : ''}${h.probe.error}` });
      }
    } else if (kh.found && !kh.error) out.push({ level: 'ok', name: h.name, message: `known_hosts has ${kh.keyTypes.join(', ')} for ${kh.name}` });
  }
  return out;
}
