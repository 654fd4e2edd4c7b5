// What `scoutctl service install|uninstall` does, as data: the files to write or remove and the commands to
// run. --dry-run prints the plan; a real run carries it out. Building the plan touches nothing.
//
// `install --http` adds a second service, scout-mcp --http (MCP over HTTP), beside scoutd's: same socket and
// environment, started after scoutd. A plain `install` leaves that one as it is; `uninstall` removes both.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultScoutdPath } from '../../client/autostart.js';
import { keysPath, readKeys } from '../../mcp/http-keys.js';
import { defaultSocketPath } from '../../protocol/paths.js';
import { isLoopbackHost } from '../../protocol/values.js';
import { HTTP_LAUNCHD_LABEL, HTTP_UNIT, LAUNCHD_LABEL, launchdHttpPlist, launchdPlist, systemdHttpService, systemdLiteral, systemdService, systemdSocket } from './units.js';

export type ServicePlatform = 'linux' | 'macos';

export interface PlannedFile {
  path: string;
  /** New content (install); absent for a removal. */
  content?: string;
  /** 'new', 'changed' or 'unchanged' for writes; 'remove' or 'absent' for removals. */
  state: 'new' | 'changed' | 'unchanged' | 'remove' | 'absent';
}

/** Where scout-mcp --http listens. */
export interface HttpServiceOptions {
  host: string;
  port: number;
}

export const DEFAULT_HTTP: HttpServiceOptions = { host: '127.0.0.1', port: 8000 };

/** The scout-mcp --http service of a plan. */
export interface HttpService extends HttpServiceOptions {
  /** Where MCP clients connect: http://HOST:PORT/mcp. */
  url: string;
  /** The server's argv in the unit: node, scout-mcp, --http --host H --port P. */
  program: string[];
  /** systemd unit or launchd label. */
  unit: string;
  /** Its unit file or plist. */
  file: string;
  /** The key file it reads (`scoutctl keys`): named in the unit by path; no key is ever written there. */
  keys: string;
  logs: string;
}

export interface ServicePlan {
  platform: ServicePlatform;
  action: 'install' | 'uninstall';
  /** The daemon's argv in the unit: absolute paths of node and of the installed scoutd. */
  program: string[];
  /** Socket path clients will use. */
  socket: string;
  files: PlannedFile[];
  /** Directories created before writing (mode 0700 for logs, 0755 for unit directories). */
  dirs: string[];
  /**
   * Commands, in order, after the files are written (install) or before they are removed (`beforeFiles`,
   * uninstall); `mayFail` ones are expected to fail when there is nothing to undo.
   */
  commands: Array<{ argv: string[]; mayFail?: boolean; beforeFiles?: boolean; why: string }>;
  /**
   * Run before anything changes (install): the service manager answers. Without a user manager (su, a bare ssh
   * login, a container) every systemctl --user command fails, and stopping the running scoutd first would
   * leave the user with no daemon at all; so when this fails nothing is stopped or written.
   */
  preflight?: { argv: string[]; why: string; fix: string };
  /** Stop a scoutd already answering on the socket first (an auto-started one would hold the socket). */
  stopRunning: boolean;
  /** Where the daemon's log goes once installed. */
  logs: string;
  /** The scout-mcp --http service: installed by `install --http`; on uninstall, present when its file is. */
  http?: HttpService;
  /** To read before going ahead (a --host beyond loopback, …). */
  warnings: string[];
  /** Worth knowing (a plain install leaves an installed HTTP service as it is). */
  notes: string[];
}

export interface PlanOptions {
  env: NodeJS.ProcessEnv;
  platform?: ServicePlatform;
  /** Node and scoutd paths; defaults: this node, the scoutd of this package. */
  node?: string;
  scoutd?: string;
  /** Also (re)install scout-mcp --http listening here. */
  http?: HttpServiceOptions;
  /** scout-mcp's path; default: scout-mcp.js beside scoutd. */
  scoutMcp?: string;
}

export function currentPlatform(): ServicePlatform | undefined {
  if (process.platform === 'linux') return 'linux';
  if (process.platform === 'darwin') return 'macos';
  return undefined;
}

function home(env: NodeJS.ProcessEnv): string {
  return env.HOME || os.homedir();
}

function uid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0;
}

/** Where systemd looks for user units the user wrote (`systemd.unit(5)`: $XDG_CONFIG_HOME/systemd/user). */
export function systemdUnitDir(env: NodeJS.ProcessEnv): string {
  return path.join(env.XDG_CONFIG_HOME || path.join(home(env), '.config'), 'systemd', 'user');
}

export function launchAgentPath(env: NodeJS.ProcessEnv): string {
  return path.join(home(env), 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
}

export function launchdLogDir(env: NodeJS.ProcessEnv): string {
  return path.join(home(env), 'Library', 'Logs', 'scout');
}

/** The scout-mcp --http unit file (Linux) or plist (macOS). */
export function httpUnitPath(env: NodeJS.ProcessEnv, platform: ServicePlatform): string {
  return platform === 'linux' ? path.join(systemdUnitDir(env), `${HTTP_UNIT}.service`) : path.join(home(env), 'Library', 'LaunchAgents', `${HTTP_LAUNCHD_LABEL}.plist`);
}

export function httpUrl(o: HttpServiceOptions): string {
  return `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}/mcp`;
}

/** The command that (re)installs the HTTP service as it is configured now. */
export function httpInstallCommand(o: HttpServiceOptions): string {
  return `scoutctl service install --http --host ${o.host} --port ${o.port}`;
}

/**
 * The installed HTTP service, read back from its file: undefined when there is none; `options` undefined
 * when its --host/--port cannot be read (a hand-edited file).
 */
export function installedHttp(env: NodeJS.ProcessEnv, platform: ServicePlatform): { file: string; options?: HttpServiceOptions } | undefined {
  const file = httpUnitPath(env, platform);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let words: string[] = [];
  if (platform === 'linux') {
    const line = /^ExecStart=(.*)$/m.exec(text)?.[1] ?? '';
    words = [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]).replace(/%%/g, '%'));
  } else {
    const array = /<key>ProgramArguments<\/key>\s*<array>([\s\S]*?)<\/array>/.exec(text)?.[1] ?? '';
    const xml = (s: string) =>
      s
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, '&');
    words = [...array.matchAll(/<string>([\s\S]*?)<\/string>/g)].map((m) => xml(m[1]));
  }
  const after = (name: string) => {
    const i = words.indexOf(name);
    return i >= 0 ? words[i + 1] : undefined;
  };
  const host = after('--host');
  const port = Number(after('--port'));
  return { file, options: host && Number.isInteger(port) && port > 0 ? { host, port } : undefined };
}

// Real paths: a unit must keep working when a shell's PATH or a symlinked bin dir differs at boot.
function realPath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function realProgram(opts: PlanOptions): string[] {
  return [realPath(opts.node ?? process.execPath), realPath(opts.scoutd ?? defaultScoutdPath())];
}

function fileState(p: string, content: string): PlannedFile {
  let current: string | undefined;
  try {
    current = fs.readFileSync(p, 'utf8');
  } catch {
    current = undefined;
  }
  return { path: p, content, state: current === undefined ? 'new' : current === content ? 'unchanged' : 'changed' };
}

function removal(p: string): PlannedFile {
  return { path: p, state: fs.existsSync(p) ? 'remove' : 'absent' };
}

export function planInstall(opts: PlanOptions): ServicePlan {
  const platform = opts.platform ?? currentPlatform();
  if (!platform) throw new Error(`no service manager support for ${process.platform}: run scoutd under your own supervisor`);
  const plan = planScoutd(opts, platform);
  if (opts.http) return withHttp(plan, opts, opts.http);
  // A plain install leaves the HTTP service alone; say so, and whether it needs `install --http` (moved node).
  const found = installedHttp(opts.env, platform);
  if (found) {
    const now = found.options && withHttp(plan, opts, found.options).files.find((f) => f.path === found.file);
    plan.notes.push(
      now?.state === 'unchanged'
        ? `${found.file} (scout-mcp --http) is left as it is: only 'scoutctl service install --http' changes it`
        : `${found.file} (scout-mcp --http) is left as it is, but it is not what would be installed now (node or scout-mcp moved?): update it with '${httpInstallCommand(found.options ?? DEFAULT_HTTP)}'`,
    );
  }
  return plan;
}

/** scout-mcp's path: the one given, else scout-mcp.js beside the (real) scoutd. */
function httpProgram(program: string[], opts: PlanOptions, o: HttpServiceOptions): string[] {
  const mcp = opts.scoutMcp ? realPath(opts.scoutMcp) : path.join(path.dirname(program[1]), 'scout-mcp.js');
  return [program[0], mcp, '--http', '--host', o.host, '--port', String(o.port)];
}

/** The HTTP service's unit or plist: the same socket as scoutd's, and the key file `scoutctl keys` writes. */
function httpUnit(plan: ServicePlan, argv: string[], keys: string, env: NodeJS.ProcessEnv): string {
  if (plan.platform === 'linux') return systemdHttpService({ execStart: argv, socketPath: systemdLiteral(plan.socket), keysFile: keys });
  return launchdHttpPlist({ programArguments: argv, logDir: launchdLogDir(env), env: { SCOUT_SOCKET: plan.socket, SCOUT_HTTP_KEYS: keys } });
}

function withHttp(base: ServicePlan, opts: PlanOptions, o: HttpServiceOptions): ServicePlan {
  const file = httpUnitPath(opts.env, base.platform);
  const keys = keysPath(opts.env);
  const argv = httpProgram(base.program, opts, o);
  const linux = base.platform === 'linux';
  const http: HttpService = {
    ...o,
    url: httpUrl(o),
    program: argv,
    unit: linux ? `${HTTP_UNIT}.service` : HTTP_LAUNCHD_LABEL,
    file,
    keys,
    logs: linux ? `journalctl --user -u ${HTTP_UNIT}.service` : path.join(launchdLogDir(opts.env), `${HTTP_UNIT}.log`),
  };
  const domain = `gui/${uid()}`;
  const restart = linux ? `systemctl --user restart ${HTTP_UNIT}` : `launchctl kickstart -k ${domain}/${HTTP_LAUNCHD_LABEL}`;
  const warnings = [...base.warnings];
  if (!isLoopbackHost(o.host)) {
    let have: string;
    try {
      const n = readKeys(keys).length;
      have = n ? `${keys} has ${n} key${n === 1 ? '' : 's'}` : `${keys} has none yet: add one, then '${restart}'`;
    } catch (err) {
      have = `the key file cannot be read (${(err as Error).message})`;
    }
    warnings.push(
      `--host ${o.host} is not loopback: scout-mcp refuses to start there without a key ('scoutctl keys add NAME'); ${have}. Anyone who can reach ${http.url} may try keys: put TLS in front of it (docs/mcp.md)`,
    );
  }
  if (opts.env.SCOUT_API_KEYS) warnings.push(`SCOUT_API_KEYS is set here but is not written into the service (no secret goes in a unit file): the service uses the keys of 'scoutctl keys' (${keys})`);
  const commands = linux
    ? [
        { argv: ['systemctl', '--user', 'enable', `${HTTP_UNIT}.service`], why: 'start scout-mcp --http at login (after scoutd)' },
        { argv: ['systemctl', '--user', 'restart', `${HTTP_UNIT}.service`], why: `serve ${http.url} now with the installed version` },
      ]
    : [
        { argv: ['launchctl', 'bootout', `${domain}/${HTTP_LAUNCHD_LABEL}`], mayFail: true, why: 'unload a previous version of scout-mcp --http (fails harmlessly when none is loaded)' },
        { argv: ['launchctl', 'bootstrap', domain, file], why: `load the agent now; RunAtLoad starts scout-mcp --http on ${http.url}, and again at every login` },
      ];
  return { ...base, files: [...base.files, fileState(file, httpUnit(base, argv, keys, opts.env))], commands: [...base.commands, ...commands], http, warnings };
}

function planScoutd(opts: PlanOptions, platform: ServicePlatform): ServicePlan {
  const program = realProgram(opts);
  if (platform === 'linux') {
    const dir = systemdUnitDir(opts.env);
    // The path this user's clients resolve (SCOUT_SOCKET, else $XDG_RUNTIME_DIR/scout, else /tmp/scout-$UID),
    // written out rather than %t: a shell without XDG_RUNTIME_DIR (su, some ssh logins) must still find it.
    const socketPath = defaultSocketPath(opts.env);
    const unit = 'scoutd';
    return {
      platform,
      action: 'install',
      program,
      socket: socketPath,
      dirs: [dir],
      preflight: {
        argv: ['systemctl', '--user', 'show-environment'],
        why: 'check that systemctl --user reaches your user manager before anything is stopped or written',
        fix: "systemctl --user needs a running user manager (systemd --user) and its bus: run this from a login session (with XDG_RUNTIME_DIR set), or keep one running with 'loginctl enable-linger'",
      },
      stopRunning: true,
      files: [
        fileState(path.join(dir, `${unit}.service`), systemdService({ execStart: program, socketPath: systemdLiteral(socketPath) })),
        fileState(path.join(dir, `${unit}.socket`), systemdSocket({ socketPath: systemdLiteral(socketPath) })),
      ],
      commands: [
        { argv: ['systemctl', '--user', 'daemon-reload'], why: 'read the new unit files' },
        { argv: ['systemctl', '--user', 'enable', '--now', `${unit}.socket`], why: 'listen on the socket now and at every login' },
        { argv: ['systemctl', '--user', 'enable', `${unit}.service`], why: 'start scoutd at login (the socket would start it on first use anyway)' },
        { argv: ['systemctl', '--user', 'restart', `${unit}.service`], why: 'run the installed version now (an upgrade takes effect here)' },
      ],
      logs: `journalctl --user -u ${unit}.service`,
      warnings: [],
      notes: [],
    };
  }
  const plist = launchAgentPath(opts.env);
  const logDir = launchdLogDir(opts.env);
  // launchd agents do not get the login shell's TMPDIR-derived socket path by themselves: write it down.
  const socket = defaultSocketPath(opts.env);
  const domain = `gui/${uid()}`;
  return {
    platform,
    action: 'install',
    program,
    socket,
    dirs: [path.dirname(plist), logDir],
    preflight: {
      argv: ['launchctl', 'print', domain],
      why: `check that launchd's ${domain} domain exists before anything is stopped or written`,
      fix: `launchd agents live in a GUI login session (${domain}): run this from a logged-in desktop session, not a bare ssh login`,
    },
    stopRunning: true,
    files: [fileState(plist, launchdPlist({ programArguments: program, logDir, env: { SCOUT_SOCKET: socket } }))],
    commands: [
      { argv: ['launchctl', 'bootout', `${domain}/${LAUNCHD_LABEL}`], mayFail: true, why: 'unload a previous version (fails harmlessly when none is loaded)' },
      { argv: ['launchctl', 'bootstrap', domain, plist], why: 'load the agent now; RunAtLoad starts scoutd, and again at every login' },
    ],
    logs: path.join(logDir, 'scoutd.log'),
    warnings: [],
    notes: [],
  };
}

export function planUninstall(opts: PlanOptions): ServicePlan {
  const platform = opts.platform ?? currentPlatform();
  if (!platform) throw new Error(`no service manager support for ${process.platform}: run scoutd under your own supervisor`);
  const scoutd = planScoutd(opts, platform);
  // The HTTP service goes too: stopped first (it uses scoutd), its file listed either way.
  const found = installedHttp(opts.env, platform);
  const http = found && withHttp(scoutd, opts, found.options ?? DEFAULT_HTTP).http;
  const files = [...scoutd.files.map((f) => removal(f.path)), removal(httpUnitPath(opts.env, platform))];
  const base = { ...scoutd, action: 'uninstall' as const, dirs: [], preflight: undefined, stopRunning: false, files, http };
  if (platform === 'linux') {
    return {
      ...base,
      commands: [
        ...(found
          ? [{ argv: ['systemctl', '--user', 'disable', '--now', `${HTTP_UNIT}.service`], mayFail: true, beforeFiles: true, why: 'stop scout-mcp --http, and no longer start it at login' }]
          : []),
        {
          argv: ['systemctl', '--user', 'disable', '--now', 'scoutd.service', 'scoutd.socket'],
          mayFail: true,
          beforeFiles: true,
          why: 'stop scoutd and its socket, and no longer start them at login',
        },
        { argv: ['systemctl', '--user', 'daemon-reload'], why: 'forget the removed unit files' },
      ],
    };
  }
  return {
    ...base,
    commands: [
      ...(found ? [{ argv: ['launchctl', 'bootout', `gui/${uid()}/${HTTP_LAUNCHD_LABEL}`], mayFail: true, beforeFiles: true, why: 'stop scout-mcp --http and unload its agent' }] : []),
      { argv: ['launchctl', 'bootout', `gui/${uid()}/${LAUNCHD_LABEL}`], mayFail: true, beforeFiles: true, why: 'stop scoutd and unload the agent' },
    ],
  };
}

/** The installed HTTP service as `service status` shows it, or undefined when there is none. */
export function httpStatus(opts: PlanOptions): (HttpService & { upToDate: boolean; readable: boolean }) | undefined {
  const platform = opts.platform ?? currentPlatform();
  if (!platform) return undefined;
  const found = installedHttp(opts.env, platform);
  if (!found) return undefined;
  const plan = withHttp(planScoutd(opts, platform), opts, found.options ?? DEFAULT_HTTP);
  const file = plan.files.find((f) => f.path === found.file);
  return { ...plan.http!, upToDate: found.options !== undefined && file?.state === 'unchanged', readable: found.options !== undefined };
}
