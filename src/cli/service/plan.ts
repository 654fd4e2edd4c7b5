// What `scoutctl service install|uninstall` does, as data: the files to write or remove and the commands to
// run. --dry-run prints the plan; a real run carries it out. Building the plan touches nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultScoutdPath } from '../../client/autostart.js';
import { defaultSocketPath } from '../../protocol/paths.js';
import { LAUNCHD_LABEL, launchdPlist, systemdLiteral, systemdService, systemdSocket } from './units.js';

export type ServicePlatform = 'linux' | 'macos';

export interface PlannedFile {
  path: string;
  /** New content (install); absent for a removal. */
  content?: string;
  /** 'new', 'changed' or 'unchanged' for writes; 'remove' or 'absent' for removals. */
  state: 'new' | 'changed' | 'unchanged' | 'remove' | 'absent';
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
}

export interface PlanOptions {
  env: NodeJS.ProcessEnv;
  platform?: ServicePlatform;
  /** Node and scoutd paths; defaults: this node, the scoutd of this package. */
  node?: string;
  scoutd?: string;
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

function realProgram(opts: PlanOptions): string[] {
  // Real paths: a unit must keep working when a shell's PATH or a symlinked bin dir differs at boot.
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  return [real(opts.node ?? process.execPath), real(opts.scoutd ?? defaultScoutdPath())];
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
  };
}

export function planUninstall(opts: PlanOptions): ServicePlan {
  const install = planInstall(opts);
  if (install.platform === 'linux') {
    return {
      ...install,
      action: 'uninstall',
      dirs: [],
      preflight: undefined,
      stopRunning: false,
      files: install.files.map((f) => removal(f.path)),
      commands: [
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
    ...install,
    action: 'uninstall',
    dirs: [],
    preflight: undefined,
    stopRunning: false,
    files: install.files.map((f) => removal(f.path)),
    commands: [{ argv: ['launchctl', 'bootout', `gui/${uid()}/${LAUNCHD_LABEL}`], mayFail: true, beforeFiles: true, why: 'stop scoutd and unload the agent' }],
  };
}
