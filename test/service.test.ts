// Scout as a real service: the systemd units and the LaunchAgent, checked by the tools that will read them.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HTTP_LAUNCHD_LABEL, LAUNCHD_LABEL, launchdHttpPlist, launchdPlist, shippedUnits, systemdHttpService, systemdService, systemdSocket } from '../src/cli/service/units.js';
import { ScoutClient } from '../src/client/client.js';
import { ROOT, SCOUT_MCP, SCOUTD, scoutctl, startDaemon } from './fixtures/daemon.js';
import type { ServicePlan } from '../src/cli/service/plan.js';
import { parsePlist } from './fixtures/plist.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scout-svc-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * `systemd-analyze --user verify` on a service + socket pair (and more units, by file name: the HTTP
 * service); returns its exit code and everything it printed.
 */
function verifyUnits(service: string, socket: string, more: Record<string, string> = {}): { code: number | null; output: string } {
  const dir = fs.mkdtempSync(path.join(tmp, 'units-'));
  // --user resolves %t and %h like the user manager does; it needs a runtime directory to exist.
  const runtime = path.join(dir, 'runtime');
  fs.mkdirSync(runtime, { mode: 0o700 });
  fs.writeFileSync(path.join(dir, 'scoutd.service'), service);
  fs.writeFileSync(path.join(dir, 'scoutd.socket'), socket);
  for (const [name, text] of Object.entries(more)) fs.writeFileSync(path.join(dir, name), text);
  const units = ['scoutd.socket', 'scoutd.service', ...Object.keys(more)].map((n) => path.join(dir, n));
  const r = spawnSync('systemd-analyze', ['--user', 'verify', ...units], {
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

  it('systemd-analyze verify accepts the scout-mcp --http unit beside scoutd units', () => {
    const http = systemdHttpService({
      execStart: [process.execPath, SCOUT_MCP, '--http', '--host', '127.0.0.1', '--port', '8000'],
      socketPath: '/run/user/1000/scout/scoutd.sock',
      keysFile: '/home/a b/.config/scout/http-keys.json',
    });
    const r = verifyUnits(systemdService({ execStart: [process.execPath, SCOUTD] }), systemdSocket(), { 'scout-mcp-http.service': http });
    expect(r.output).toBe('');
    expect(r.code).toBe(0);
    expect(http).toMatch(/^Wants=scoutd\.socket scoutd\.service$/m);
    expect(http).toMatch(/^After=scoutd\.socket scoutd\.service$/m);
    expect(http).toMatch(/^Restart=on-failure$/m);
    expect(http).toContain('Environment="SCOUT_HTTP_KEYS=/home/a b/.config/scout/http-keys.json"\n');
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

  it('the scout-mcp --http LaunchAgent is a valid property list with its own label and log', () => {
    const p = parsePlist(launchdHttpPlist({ programArguments: ['/n', '/m.js', '--http'], logDir: '/Users/a/Library/Logs/scout', env: { SCOUT_SOCKET: '/s' } })) as Record<string, unknown>;
    expect(p.Label).toBe(HTTP_LAUNCHD_LABEL);
    expect(p.Label).not.toBe(LAUNCHD_LABEL);
    expect(p.KeepAlive).toEqual({ SuccessfulExit: false });
    expect(p.StandardErrorPath).toBe('/Users/a/Library/Logs/scout/scout-mcp-http.log');
    expect(p.EnvironmentVariables).toEqual({ SCOUT_SOCKET: '/s' });
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

  it('install --http --dry-run plans scout-mcp --http beside scoutd on both platforms: its args, after scoutd, the same socket, no secret', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'dryhttp-'));
    const secret = 'sk-do-not-write-me-0123456789';
    const env = isolatedEnv(dir, { SCOUT_SOCKET: path.join(dir, 'run', 'scoutd.sock'), SCOUT_API_KEYS: secret });
    const keysFile = path.join(env.HOME!, '.config', 'scout', 'http-keys.json');
    const args = ['service', 'install', '--http', '--port', '8123', '--dry-run'];
    const text = await scoutctl(args, env);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    const plan = JSON.parse((await scoutctl([...args, '--json'], env)).stdout) as ServicePlan;
    expect(plan.files.map((f) => path.basename(f.path))).toEqual(['scoutd.service', 'scoutd.socket', 'scout-mcp-http.service']);
    const [scoutdUnit, , http] = plan.files;
    expect(http.path).toBe(path.join(env.HOME!, '.config', 'systemd', 'user', 'scout-mcp-http.service'));
    expect(http.state).toBe('new');
    const words = execStartWords(http.content!);
    expect(words.slice(2)).toEqual(['--http', '--host', '127.0.0.1', '--port', '8123']);
    for (const w of words.slice(0, 2)) expect(path.isAbsolute(w) && fs.existsSync(w), w).toBe(true);
    expect(words[0]).toBe(execStartWords(scoutdUnit.content!)[0]);
    expect(fs.realpathSync(words[1])).toBe(fs.realpathSync(SCOUT_MCP));
    expect(http.content).toMatch(/^Wants=scoutd\.socket scoutd\.service$/m);
    expect(http.content).toMatch(/^After=scoutd\.socket scoutd\.service$/m);
    expect(http.content).toMatch(/^Restart=on-failure$/m);
    // The environment scoutd gets: the same socket, the same env file; and the key file by path, no key.
    expect(http.content).toContain(`Environment=SCOUT_SOCKET=${env.SCOUT_SOCKET}\n`);
    expect(scoutdUnit.content).toContain(`Environment=SCOUT_SOCKET=${env.SCOUT_SOCKET}\n`);
    expect(http.content).toContain('EnvironmentFile=-%h/.config/scout/env\n');
    expect(http.content).toContain(`Environment=SCOUT_HTTP_KEYS=${keysFile}\n`);
    expect(http.content).not.toContain('SCOUT_API_KEYS=');
    expect(plan.http).toMatchObject({ host: '127.0.0.1', port: 8123, url: 'http://127.0.0.1:8123/mcp', unit: 'scout-mcp-http.service', keys: keysFile });
    const argvs = plan.commands.map((c) => c.argv.join(' '));
    expect(argvs.slice(-3)).toEqual(['systemctl --user restart scoutd.service', 'systemctl --user enable scout-mcp-http.service', 'systemctl --user restart scout-mcp-http.service']);
    // The secret in this shell goes nowhere: the plan says so instead.
    expect(text.stdout).not.toContain(secret);
    expect(JSON.stringify(plan)).not.toContain(secret);
    expect(plan.warnings).toEqual([expect.stringContaining('SCOUT_API_KEYS is set here but is not written into the service')]);
    expect(text.stdout).toContain(http.content!.trimEnd());
    expect(text.stdout).toContain('MCP at http://127.0.0.1:8123/mcp');
    const verified = verifyUnits(scoutdUnit.content!, plan.files[1].content!, { 'scout-mcp-http.service': http.content! });
    expect(verified.output).toBe('');
    expect(verified.code).toBe(0);

    const mac = JSON.parse((await scoutctl([...args, '--json', '--platform', 'macos', '--host', 'localhost'], env)).stdout) as ServicePlan;
    expect(mac.files.map((f) => path.basename(f.path))).toEqual([`${LAUNCHD_LABEL}.plist`, `${HTTP_LAUNCHD_LABEL}.plist`]);
    const plist = parsePlist(mac.files[1].content!) as Record<string, unknown>;
    expect(mac.files[1].path).toBe(path.join(env.HOME!, 'Library', 'LaunchAgents', `${HTTP_LAUNCHD_LABEL}.plist`));
    expect(plist.Label).toBe(HTTP_LAUNCHD_LABEL);
    const argv = plist.ProgramArguments as string[];
    expect(argv.slice(2)).toEqual(['--http', '--host', 'localhost', '--port', '8123']);
    expect(fs.realpathSync(argv[1])).toBe(fs.realpathSync(SCOUT_MCP));
    expect(plist.KeepAlive).toEqual({ SuccessfulExit: false });
    expect(plist.RunAtLoad).toBe(true);
    expect(plist.StandardOutPath).toBe(path.join(env.HOME!, 'Library', 'Logs', 'scout', 'scout-mcp-http.log'));
    expect(plist.EnvironmentVariables).toEqual({ SCOUT_SOCKET: env.SCOUT_SOCKET, SCOUT_HTTP_KEYS: keysFile });
    expect(mac.files[1].content).not.toContain(secret);
    const macArgv = mac.commands.map((c) => c.argv.join(' '));
    expect(macArgv.at(-2)).toMatch(/^launchctl bootout gui\/\d+\/dev\.scout\.scout-mcp-http$/);
    expect(macArgv.at(-1)).toMatch(/^launchctl bootstrap gui\/\d+ .*\/dev\.scout\.scout-mcp-http\.plist$/);
    expect(mac.http?.logs).toBe(path.join(env.HOME!, 'Library', 'Logs', 'scout', 'scout-mcp-http.log'));
    expect(fs.existsSync(path.join(env.HOME!, '.config'))).toBe(false);
    expect(fs.existsSync(path.join(env.HOME!, 'Library'))).toBe(false);

    // Without --http: no HTTP unit in the plan.
    const plain = JSON.parse((await scoutctl(['service', 'install', '--dry-run', '--json'], env)).stdout) as ServicePlan;
    expect(plain.files.map((f) => path.basename(f.path))).toEqual(['scoutd.service', 'scoutd.socket']);
    expect(plain.http).toBeUndefined();
  });

  it('install --http on a non-loopback --host warns that scout-mcp needs a key there', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'public-'));
    const env = isolatedEnv(dir, { SCOUT_SOCKET: path.join(dir, 'run', 'scoutd.sock') });
    const r = await scoutctl(['service', 'install', '--http', '--host', '0.0.0.0', '--dry-run'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/# WARNING: --host 0\.0\.0\.0 is not loopback: scout-mcp refuses to start there without a key \('scoutctl keys add NAME'\).*has none yet/);
    expect(r.stdout).toContain('--http --host 0.0.0.0 --port 8000');
    const loopback = await scoutctl(['service', 'install', '--http', '--host', '::1', '--dry-run', '--json'], env);
    const plan = JSON.parse(loopback.stdout) as ServicePlan;
    expect(plan.warnings).toEqual([]);
    expect(plan.http?.url).toBe('http://[::1]:8000/mcp');
  });

  it('--http, --host and --port are checked: a bad port or host, --host/--port without --http, --http off install', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'usage-'));
    const env = isolatedEnv(dir, { SCOUT_SOCKET: path.join(dir, 'run', 'scoutd.sock') });
    const cases: Array<[string[], RegExp]> = [
      [['install', '--http', '--port', '0'], /--port must be a number from 1 to 65535, got '0'/],
      [['install', '--http', '--port', '65536'], /--port must be a number from 1 to 65535, got '65536'/],
      [['install', '--http', '--port', '80a'], /--port must be a number from 1 to 65535/],
      [['install', '--http', '--host', 'a b'], /--host must be an IP address or a host name/],
      [['install', '--http', '--host', '[::1]'], /without brackets \(::1\)/],
      [['install', '--port', '8000'], /--port goes with --http/],
      [['install', '--host', '127.0.0.1'], /--host goes with --http/],
      [['uninstall', '--http'], /--http goes with install: uninstall removes the HTTP service too/],
      [['status', '--http'], /--http goes with install/],
    ];
    for (const [args, message] of cases) {
      const r = await scoutctl(['service', ...args, '--dry-run'], env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stdout).toBe('');
    }
    expect(fs.existsSync(path.join(env.HOME!, '.config'))).toBe(false);
  });

  it('install --http installs both idempotently; a plain install leaves it alone; status shows it; uninstall removes both', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'insthttp-'));
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    const calls = path.join(dir, 'systemctl.calls');
    fs.writeFileSync(path.join(bin, 'systemctl'), `#!/bin/sh\necho "$*" >> '${calls}'\n`, { mode: 0o755 });
    const env = isolatedEnv(dir, { SCOUT_SOCKET: path.join(dir, 'run', 'scoutd.sock'), PATH: `${bin}:${process.env.PATH}` });
    const unitDir = path.join(env.HOME!, '.config', 'systemd', 'user');
    const httpUnit = path.join(unitDir, 'scout-mcp-http.service');

    const first = await scoutctl(['service', 'install', '--http', '--port', '8123'], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('scout-mcp --http is installed as a systemd user service (scout-mcp-http.service): MCP at http://127.0.0.1:8123/mcp');
    expect(fs.readdirSync(unitDir).sort()).toEqual(['scout-mcp-http.service', 'scoutd.service', 'scoutd.socket']);
    const unit = fs.readFileSync(httpUnit, 'utf8');
    expect(execStartWords(unit).slice(2)).toEqual(['--http', '--host', '127.0.0.1', '--port', '8123']);
    const calls1 = fs.readFileSync(calls, 'utf8');
    expect(calls1).toBe(
      '--user show-environment\n--user daemon-reload\n--user enable --now scoutd.socket\n--user enable scoutd.service\n--user restart scoutd.service\n--user enable scout-mcp-http.service\n--user restart scout-mcp-http.service\n',
    );

    const again = await scoutctl(['service', 'install', '--http', '--port', '8123'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('scout-mcp-http.service is up to date');
    expect(again.stdout).not.toContain('wrote');
    expect(fs.readFileSync(calls, 'utf8')).toBe(calls1.repeat(2));

    // A plain install: scoutd only; the HTTP unit stays as it is, and the output says so.
    fs.writeFileSync(calls, '');
    const plain = await scoutctl(['service', 'install'], env);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('(scout-mcp --http) is left as it is');
    expect(fs.readFileSync(httpUnit, 'utf8')).toBe(unit);
    expect(fs.readFileSync(calls, 'utf8')).not.toContain('scout-mcp-http');

    const status = await scoutctl(['service', 'status', '--json'], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      installed: true,
      http: { path: httpUnit, upToDate: true, host: '127.0.0.1', port: 8123, url: 'http://127.0.0.1:8123/mcp', manager: [{ unit: 'scout-mcp-http.service' }] },
    });
    expect((await scoutctl(['service', 'status'], env)).stdout).toContain('scout-mcp --http service: installed, MCP at http://127.0.0.1:8123/mcp');

    // A different port rewrites it.
    const moved = JSON.parse((await scoutctl(['service', 'install', '--http', '--port', '9000', '--dry-run', '--json'], env)).stdout) as ServicePlan;
    expect(moved.files.find((f) => f.path === httpUnit)?.state).toBe('changed');

    const preview = JSON.parse((await scoutctl(['service', 'uninstall', '--dry-run', '--json'], env)).stdout) as ServicePlan;
    expect(preview.files.find((f) => f.path === httpUnit)?.state).toBe('remove');
    expect(preview.commands[0]).toMatchObject({ argv: ['systemctl', '--user', 'disable', '--now', 'scout-mcp-http.service'], beforeFiles: true });
    const previewText = (await scoutctl(['service', 'uninstall', '--dry-run'], env)).stdout;
    expect(previewText).toContain(`would remove ${httpUnit}`);
    expect(previewText).toContain('systemctl --user disable --now scout-mcp-http.service');

    fs.writeFileSync(calls, '');
    const removed = await scoutctl(['service', 'uninstall'], env);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain('scoutd service and scout-mcp --http service removed');
    expect(fs.readdirSync(unitDir)).toEqual([]);
    expect(fs.readFileSync(calls, 'utf8')).toBe('--user disable --now scout-mcp-http.service\n--user disable --now scoutd.service scoutd.socket\n--user daemon-reload\n');
    const gone = await scoutctl(['service', 'status', '--json'], env);
    expect(gone.code).toBe(3);
    expect(JSON.parse(gone.stdout).http).toBeNull();
    // Nothing left to stop: the plan lists the HTTP unit as absent and runs no command for it.
    const after = JSON.parse((await scoutctl(['service', 'uninstall', '--dry-run', '--json'], env)).stdout) as ServicePlan;
    expect(after.files.find((f) => f.path === httpUnit)?.state).toBe('absent');
    expect(after.commands.map((c) => c.argv.join(' '))).not.toContain('systemctl --user disable --now scout-mcp-http.service');
  });

  it('uninstall --platform macos --dry-run boots out and removes the scout-mcp --http agent when present', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'machttp-'));
    const env = isolatedEnv(dir, { SCOUT_SOCKET: path.join(dir, 'run', 'scoutd.sock') });
    const install = JSON.parse((await scoutctl(['service', 'install', '--http', '--dry-run', '--json', '--platform', 'macos'], env)).stdout) as ServicePlan;
    const agent = install.files[1];
    fs.mkdirSync(path.dirname(agent.path), { recursive: true });
    fs.writeFileSync(agent.path, agent.content!);
    const plan = JSON.parse((await scoutctl(['service', 'uninstall', '--dry-run', '--json', '--platform', 'macos'], env)).stdout) as ServicePlan;
    expect(plan.files.map((f) => [path.basename(f.path), f.state])).toEqual([
      [`${LAUNCHD_LABEL}.plist`, 'absent'],
      [`${HTTP_LAUNCHD_LABEL}.plist`, 'remove'],
    ]);
    const argv = plan.commands.map((c) => c.argv.join(' '));
    expect(argv).toHaveLength(2);
    expect(argv[0]).toMatch(/^launchctl bootout gui\/\d+\/dev\.scout\.scout-mcp-http$/);
    expect(argv[1]).toMatch(/^launchctl bootout gui\/\d+\/dev\.scout\.scoutd$/);
    expect(plan.http).toMatchObject({ host: '127.0.0.1', port: 8000 });
  });
});
