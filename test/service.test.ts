// Scout as a real service: the systemd units and the LaunchAgent, checked by the tools that will read them.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LAUNCHD_LABEL, launchdPlist, shippedUnits, systemdService, systemdSocket } from '../src/cli/service/units.js';
import { ROOT, SCOUTD } from './fixtures/daemon.js';
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
    const installed = parsePlist(launchdPlist({
      programArguments: ['/opt/node <22>/bin/node', '/x/dist/bin/scoutd.js'],
      logDir: '/Users/a&b/Library/Logs/scout',
      env: { SCOUT_SOCKET: '/var/folders/xy/T/scout/scoutd.sock' },
    })) as Record<string, unknown>;
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
