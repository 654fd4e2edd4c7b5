// scoutctl logs: the daemon's log from wherever it goes, readable on a terminal, followable.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logSource } from '../src/cli/commands/logs.js';
import { SCOUTCTL, scoutctl } from './fixtures/daemon.js';
import { until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

/** Bound on a line appended to the log reaching a follower (an inotify event away). */
const FOLLOW_WAIT_MS = 10_000;

const fleet = useFleet(['web1']);
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  env = fleet.daemonEnv({ SCOUT_STATE_DIR: path.join(fleet.root, 'state') });
  // No daemon yet: this exec auto-starts one, which logs to the state directory.
  const r = await scoutctl(['exec', 'web1', '--', 'true'], env);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  await scoutctl(['stop'], env);
});

describe('scoutctl logs', () => {
  it("shows the auto-started daemon's log: JSON lines when piped, --lines bounds it", async () => {
    const r = await scoutctl(['logs'], env);
    expect(r.code, r.stderr).toBe(0);
    const msgs = r.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(msgs).toContain('scoutd listening');
    expect(msgs).toContain('connection opened');
    const one = await scoutctl(['logs', '--lines', '1'], env);
    expect(one.stdout.trim().split('\n')).toHaveLength(1);
    expect(one.stdout).toBe(r.stdout.trim().split('\n').slice(-1)[0] + '\n');
  });

  it('--pretty turns pino JSON into readable lines', async () => {
    const r = await scoutctl(['logs', '--pretty'], env);
    expect(r.code).toBe(0);
    const listening = r.stdout.split('\n').find((l) => l.includes('scoutd listening'));
    expect(listening).toMatch(/^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\] INFO \(\d+\): scoutd listening/);
    expect(r.stdout.split('\n').some((l) => l.startsWith('{'))).toBe(false);
  });

  it('-f prints lines as the daemon writes them', async () => {
    const last = (await scoutctl(['logs', '--lines', '1'], env)).stdout;
    const follower = spawn(process.execPath, [SCOUTCTL, 'logs', '-f', '--lines', '1'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    follower.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const exited = new Promise<number | string>((r) => follower.once('exit', (c, s) => r(c ?? s ?? -1)));
    try {
      await until(() => out === last, FOLLOW_WAIT_MS, 'the follower to print the last line');
      // Dropping the pooled connection makes the daemon log it; that line must reach the follower.
      const dropped = await scoutctl(['drop', 'web1'], env);
      expect(dropped.code, dropped.stderr).toBe(0);
      await until(() => out.includes('"connection closed"'), FOLLOW_WAIT_MS, 'the follower to print the new line');
      expect(out.startsWith(last)).toBe(true);
      expect(out).not.toContain('scoutd listening'); // --lines 1: only the last line, then what came after
      follower.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      follower.kill('SIGKILL');
    }
  });

  it('reads the journal once the systemd service is installed, the launchd log on macOS', () => {
    const home = path.join(fleet.root, 'svc-home');
    const e = { HOME: home };
    expect(logSource(e, 'linux')).toMatchObject({ kind: 'file', what: 'auto-start log' });
    fs.mkdirSync(path.join(home, '.config', 'systemd', 'user'), { recursive: true });
    fs.writeFileSync(path.join(home, '.config', 'systemd', 'user', 'scoutd.service'), '');
    expect(logSource(e, 'linux')).toEqual({ kind: 'journal', unit: 'scoutd.service' });
    fs.mkdirSync(path.join(home, 'Library', 'LaunchAgents'), { recursive: true });
    fs.writeFileSync(path.join(home, 'Library', 'LaunchAgents', 'dev.scout.scoutd.plist'), '');
    expect(logSource(e, 'darwin')).toEqual({ kind: 'file', path: path.join(home, 'Library', 'Logs', 'scout', 'scoutd.log'), what: 'launchd agent log' });
  });
});
