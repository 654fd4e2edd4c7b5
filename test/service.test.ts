// Scout as a real service: the systemd units and the LaunchAgent, checked by the tools that will read them.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LAUNCHD_LABEL, launchdPlist, shippedUnits, systemdService, systemdSocket } from '../src/cli/service/units.js';
import { ScoutClient } from '../src/client/client.js';
import { ROOT, SCOUTD, scoutctl, startDaemon } from './fixtures/daemon.js';
import type { ServicePlan } from '../src/cli/service/plan.js';
import { parsePlist } from './fixtures/plist.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scout-svc-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** `systemd-analyze --user verify` on a service + socket pair; returns its exit code and everything it printed. */
function verifyUnits(service: string, socket: string): { code: number | null; output: string } {
  const dir = fs.mkdtempSync(path.join(tmp, 'units-'));
  // --user resolves %t and %h like the user manager does; it needs a runtime directory to exist.
  const runtime = path.join(dir, 'runtime');
  fs.mkdirSync(runtime, { mode: 0o700 });
  fs.writeFileSync(path.join(dir, 'scoutd.service'), service);
  fs.writeFileSync(path.join(dir, 'scoutd.socket'), socket);
  const r = spawnSync('systemd-analyze', ['--user', 'verify', path.join(dir, 'scoutd.socket'), path.join(dir, 'scoutd.service')], {
    env: { ...process.env, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_COLOR: '0' },
    encoding: 'utf8',
  });
  return { code: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

describe('unit files', () => {
  it('the shipped copies in systemd/ and launchd/ are exactly what the renderer produces', () => {
    for (const [rel, text] of Object.entries(shippedUnits())) {
      expect(fs.readFileSync(path.join(ROOT, rel), 'utf8'), `${rel} is stale: regenerate it from src/cli/service/units.ts`).toBe(text);
    }
  });

  it('systemd-analyze verify accepts the shipped units with no warning', () => {
    const r = verifyUnits(fs.readFileSync(path.join(ROOT, 'systemd/scoutd.service'), 'utf8'), fs.readFileSync(path.join(ROOT, 'systemd/scoutd.socket'), 'utf8'));
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
  });

  it('systemd-analyze verify accepts the units as installed (real node and scoutd paths, a path with a space)', () => {
    const spaced = path.join(tmp, 'my node dir');
    fs.mkdirSync(spaced);
    const node = path.join(spaced, 'node');
    fs.symlinkSync(process.execPath, node);
    const r = verifyUnits(systemdService({ execStart: [node, SCOUTD] }), systemdSocket());
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
  });

  it('systemd-analyze verify fails a unit whose program does not exist (the check can fail)', () => {
    const r = verifyUnits(systemdService({ execStart: ['/nonexistent/node', SCOUTD] }), systemdSocket());
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('/nonexistent/node');
  });

  it('the socket unit listens on the DESIGN.md path with mode 0600 in a 0700 directory', () => {
    const socket = systemdSocket();
    expect(socket).toMatch(/^ListenStream=%t\/scout\/scoutd\.sock$/m);
    expect(socket).toMatch(/^SocketMode=0600$/m);
    expect(socket).toMatch(/^DirectoryMode=0700$/m);
    const service = systemdService({ execStart: ['/usr/bin/env', 'scoutd'] });
    expect(service).toMatch(/^Restart=on-failure$/m);
    expect(service).toMatch(/^StandardOutput=journal$/m);
    expect(service).not.toMatch(/^Protect(Home|System)=/m);
  });

  it('the LaunchAgent is a valid property list with RunAtLoad, KeepAlive and log paths', () => {
    const shipped = parsePlist(fs.readFileSync(path.join(ROOT, 'launchd', `${LAUNCHD_LABEL}.plist`), 'utf8')) as Record<string, unknown>;
    expect(shipped.Label).toBe(LAUNCHD_LABEL);
    expect(shipped.RunAtLoad).toBe(true);
    expect(shipped.KeepAlive).toEqual({ SuccessfulExit: false });
    expect(shipped.StandardOutPath).toMatch(/\/Library\/Logs\/scout\/scoutd\.log$/);
    const installed = parsePlist(
      launchdPlist({
        programArguments: ['/opt/node <22>/bin/node', '/x/dist/bin/scoutd.js'],
        logDir: '/Users/a&b/Library/Logs/scout',
        env: { SCOUT_SOCKET: '/var/folders/xy/T/scout/scoutd.sock' },
      }),
    ) as Record<string, unknown>;
    expect(installed.ProgramArguments).toEqual(['/opt/node <22>/bin/node', '/x/dist/bin/scoutd.js']);
    expect(installed.StandardErrorPath).toBe('/Users/a&b/Library/Logs/scout/scoutd.log');
    expect(installed.EnvironmentVariables).toEqual({ SCOUT_SOCKET: '/var/folders/xy/T/scout/scoutd.sock' });
  });

  it('the plist check rejects what launchd would reject', () => {
    const good = launchdPlist({ programArguments: ['/n'], logDir: '/l' });
    expect(() => parsePlist(good.replace('<true/>', '<yes/>'))).toThrow(/unexpected/);
    expect(() => parsePlist(good.replace('</array>', ''))).toThrow();
    expect(() => parsePlist(good.replace('<string>/n</string>', '<string>a & b</string>'))).toThrow(/bare/);
    expect(() => parsePlist(good.replace('<key>RunAtLoad</key>', ''))).toThrow(/<key>/);
    expect(() => parsePlist(good.replace('<!DOCTYPE', '<!doctype'))).toThrow(/DOCTYPE/);
  });
});

/** A clean environment for a scoutd of our own: temp HOME, nothing of the developer's Scout or agent setup. */
function isolatedEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  const home = path.join(dir, 'home');
  fs.mkdirSync(home, { recursive: true });
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(SCOUT_|MCP_CAT_|LISTEN_)/.test(k) && !['SSH_AUTH_SOCK', 'XDG_RUNTIME_DIR', 'XDG_STATE_HOME', 'XDG_CONFIG_HOME'].includes(k)) env[k] = v;
  }
  return { ...env, HOME: home, SCOUT_SSH_CONFIG: path.join(home, '.ssh', 'config'), ...extra };
}

describe('socket activation', () => {
  it('scoutd started by systemd-socket-activate serves daemon.hello on the inherited socket and never binds its own', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'act-'));
    const socket = path.join(dir, 'scoutd.sock');
    const env = isolatedEnv(dir, { SCOUT_SOCKET: socket });
    // systemd-socket-activate passes only a few variables through: the rest go with -E.
    const pass = ['HOME', 'SCOUT_SOCKET', 'SCOUT_SSH_CONFIG'].flatMap((k) => ['-E', `${k}=${env[k]}`]);
    const proc = spawn('systemd-socket-activate', ['-l', socket, ...pass, process.execPath, SCOUTD], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const exited = new Promise<number | string>((r) => proc.once('exit', (code, sig) => r(code ?? sig ?? -1)));
    try {
      // It binds first and starts scoutd on the first connection, like a .socket unit.
      await new Promise<void>((resolve, reject) => {
        const check = () => (out.includes('Listening on') ? resolve() : undefined);
        proc.stderr.on('data', check);
        void exited.then((c) => reject(new Error(`systemd-socket-activate exited (${c}): ${out}`)));
        check();
      });
      const before = fs.statSync(socket);
      const client = new ScoutClient({ socket, clientName: 'activation-test' });
      const hello = await client.connect();
      expect(await client.call('daemon.status')).toMatchObject({ socket, activation: 'systemd' });
      client.close();
      // systemd-socket-activate execs scoutd in place: the daemon is the very process we started.
      expect(hello.pid).toBe(proc.pid);
      expect(hello.daemon).toBe('scoutd');
      const listening = out
        .split('\n')
        .filter((l) => l.includes('"scoutd listening"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(listening).toHaveLength(1);
      expect(listening[0].activation).toBe('systemd');
      // Same inode: nobody unlinked and re-bound the path.
      const after = fs.statSync(socket);
      expect(after.ino).toBe(before.ino);
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
      // The socket belongs to systemd: a stopping scoutd leaves it for the next activation.
      expect(fs.statSync(socket).ino).toBe(before.ino);
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    }
  });

  it('LISTEN_* variables meant for another process are ignored: scoutd binds its own socket', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'noact-'));
    const socket = path.join(dir, 'run', 'scoutd.sock');
    // Leaked from an activated parent: LISTEN_PID is the parent's pid, so fd 3 is not a socket meant for us.
    const daemon = await startDaemon(isolatedEnv(dir, { SCOUT_SOCKET: socket, LISTEN_FDS: '1', LISTEN_PID: String(process.pid) }));
    try {
      const c = await daemon.client();
      expect((await c.connect()).pid).toBe(daemon.pid);
      c.close();
      expect(fs.statSync(socket).mode & 0o777).toBe(0o600);
      expect(daemon.logLines().find((l) => l.msg === 'scoutd listening')?.activation).toBeUndefined();
    } finally {
      await daemon.stop();
    }
    expect(fs.existsSync(socket)).toBe(false);
  });
});

/** The words of a unit's ExecStart= line, unquoted the way systemd reads them. */
function execStartWords(unit: string): string[] {
  const line = /^ExecStart=(.*)$/m.exec(unit)?.[1];
  if (!line) throw new Error(`no ExecStart in:\n${unit}`);
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]).replace(/%%/g, '%'));
}

describe('scoutctl service', () => {
  it('install --dry-run prints units whose program paths are absolute and exist, and writes nothing', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'dry-'));
    const env = isolatedEnv(dir, { SCOUT_SOCKET: path.join(dir, 'run', 'scoutd.sock') });
    const text = await scoutctl(['service', 'install', '--dry-run'], env);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    const plan = JSON.parse((await scoutctl(['service', 'install', '--dry-run', '--json'], env)).stdout) as ServicePlan;
    expect(plan.platform).toBe('linux');
    const [service, socket] = plan.files;
    expect(service.path).toBe(path.join(env.HOME!, '.config', 'systemd', 'user', 'scoutd.service'));
    const words = execStartWords(service.content!);
    expect(words).toHaveLength(2);
    for (const w of words) {
      expect(path.isAbsolute(w), w).toBe(true);
      expect(fs.existsSync(w), w).toBe(true);
    }
    expect(fs.realpathSync(words[1])).toBe(fs.realpathSync(SCOUTD));
    // The human output shows the same unit, in full.
    expect(text.stdout).toContain(service.content!.trimEnd());
    expect(text.stdout).toContain('systemctl --user enable --now scoutd.socket');
    // The socket is where this user's clients look, and what the daemon is told.
    expect(socket.content).toContain(`ListenStream=${env.SCOUT_SOCKET}\n`);
    expect(service.content).toContain(`Environment=SCOUT_SOCKET=${env.SCOUT_SOCKET}\n`);
    // What would be installed passes systemd's own check.
    const verified = verifyUnits(service.content!, socket.content!);
    expect(verified.output).toBe('');
    expect(verified.code).toBe(0);
    expect(fs.existsSync(path.join(env.HOME!, '.config'))).toBe(false);

    const mac = JSON.parse((await scoutctl(['service', 'install', '--dry-run', '--json', '--platform', 'macos'], env)).stdout) as ServicePlan;
    const plist = parsePlist(mac.files[0].content!) as Record<string, unknown>;
    expect(mac.files[0].path).toBe(path.join(env.HOME!, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`));
    for (const w of plist.ProgramArguments as string[]) expect(path.isAbsolute(w) && fs.existsSync(w), w).toBe(true);
    expect(plist.StandardOutPath).toBe(path.join(env.HOME!, 'Library', 'Logs', 'scout', 'scoutd.log'));
    expect(plist.EnvironmentVariables).toEqual({ SCOUT_SOCKET: env.SCOUT_SOCKET });
    expect(fs.existsSync(path.join(env.HOME!, 'Library'))).toBe(false);
  });

  it('install is idempotent, takes the socket from an auto-started scoutd, and uninstall removes it all', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'inst-'));
    // systemctl stand-in first on PATH: this machine has no user manager to talk to; it records each call.
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    const calls = path.join(dir, 'systemctl.calls');
    fs.writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\necho "$*" >> '${calls}'\n`, { mode: 0o755 });
    const socket = path.join(dir, 'run', 'scoutd.sock');
    const env = isolatedEnv(dir, { SCOUT_SOCKET: socket, PATH: `${bin}:${process.env.PATH}` });
    const running = await startDaemon(env);
    try {
      const first = await scoutctl(['service', 'install'], env);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toContain(`stopped the running scoutd (pid ${running.pid})`);
      expect(await running.exited).toBe(0);
      const unitDir = path.join(env.HOME!, '.config', 'systemd', 'user');
      expect(fs.readdirSync(unitDir).sort()).toEqual(['scoutd.service', 'scoutd.socket']);
      const unit = fs.readFileSync(path.join(unitDir, 'scoutd.service'), 'utf8');
      const calls1 = fs.readFileSync(calls, 'utf8');
      expect(calls1).toBe('--user show-environment\n--user daemon-reload\n--user enable --now scoutd.socket\n--user enable scoutd.service\n--user restart scoutd.service\n');

      const second = await scoutctl(['service', 'install'], env);
      expect(second.code).toBe(0);
      expect(second.stdout).toContain('scoutd.service is up to date');
      expect(second.stdout).not.toContain('wrote');
      expect(fs.readFileSync(path.join(unitDir, 'scoutd.service'), 'utf8')).toBe(unit);
      expect(fs.readFileSync(calls, 'utf8')).toBe(calls1.repeat(2));
      const status = await scoutctl(['service', 'status', '--json'], env);
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ installed: true, files: [{ upToDate: true }, { upToDate: true }] });

      fs.writeFileSync(calls, '');
      const removed = await scoutctl(['service', 'uninstall'], env);
      expect(removed.code).toBe(0);
      expect(fs.readdirSync(unitDir)).toEqual([]);
      expect(fs.readFileSync(calls, 'utf8')).toBe('--user disable --now scoutd.service scoutd.socket\n--user daemon-reload\n');
      expect((await scoutctl(['service', 'status'], env)).code).toBe(3);
    } finally {
      await running.kill9();
    }
  });
  it('install without a reachable user manager changes nothing: the running scoutd keeps serving', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'nobus-'));
    // A systemctl as on a bare ssh login or in a container: every --user call fails to reach the bus.
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    const calls = path.join(dir, 'systemctl.calls');
    fs.writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\necho "$*" >> '${calls}'\necho 'Failed to connect to bus: No medium found' >&2\nexit 1\n`, { mode: 0o755 });
    const socket = path.join(dir, 'run', 'scoutd.sock');
    const env = isolatedEnv(dir, { SCOUT_SOCKET: socket, PATH: `${bin}:${process.env.PATH}` });
    const running = await startDaemon(env);
    try {
      const r = await scoutctl(['service', 'install'], env);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("cannot install the service: 'systemctl --user show-environment' failed (exit code 1: Failed to connect to bus: No medium found)");
      expect(r.stderr).toContain('Nothing was changed and a running scoutd keeps running');
      expect(r.stderr).toContain('loginctl enable-linger');
      expect(fs.readFileSync(calls, 'utf8')).toBe('--user show-environment\n');
      expect(fs.existsSync(path.join(env.HOME!, '.config'))).toBe(false);
      const status = await scoutctl(['status', '--json'], env);
      expect(status.code, status.stderr).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ running: true, pid: running.pid });
    } finally {
      await running.kill9();
    }
  });
});
