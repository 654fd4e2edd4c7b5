// sudo end to end against the real sudo on the test host: the test user gets a password and a sudoers entry
// (root prepares both, and removes them after). The password must reach sudo and nothing else: not the remote
// process list, not the daemon's trace log, not the audit log, not an error text.
import { execFileSync, execSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoutClient } from '../src/client/client.js';
import type { DaemonProc } from './fixtures/daemon.js';
import { expectCode } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1', 'web2', 'web3']);
const PASSWORD = `pw-${crypto.randomBytes(9).toString('base64url')}`;
const SUDOERS = '/etc/sudoers.d/scout-test-sudo';
let daemon: DaemonProc;
let client: ScoutClient;

beforeAll(async () => {
  if (process.getuid?.() !== 0) throw new Error('the sudo test prepares a sudoers entry: it runs as root, as the suite does');
  execFileSync('chpasswd', { input: `${fleet.user}:${PASSWORD}\n` });
  fs.writeFileSync(SUDOERS, `${fleet.user} ALL=(ALL) ALL\n`, { mode: 0o440 });
  const good = path.join(fleet.root, 'sudo-pw');
  const bad = path.join(fleet.root, 'sudo-pw-wrong');
  fs.writeFileSync(good, `${PASSWORD}\n`, { mode: 0o600 });
  fs.writeFileSync(bad, 'not-the-password\n', { mode: 0o600 });
  const config = path.join(fleet.root, 'config.json');
  fs.writeFileSync(config, JSON.stringify({ hosts: { web1: { sudo: { confirm: false, password: { file: good } } }, web3: { sudo: { confirm: false, password: { file: bad } } } } }));
  daemon = await fleet.startDaemon({ SCOUT_CONFIG: config, SCOUT_LOG_LEVEL: 'trace', SCOUT_STATE_DIR: path.join(fleet.root, 'state') });
  client = await daemon.client();
});

afterAll(() => {
  fs.rmSync(SUDOERS, { force: true });
  // Back to no password ('*': key logins only), as the fixture makes the user.
  execFileSync('usermod', ['-p', '*', fleet.user]);
});

describe('ssh.exec with sudo', () => {
  it('runs as root; the password is in no process list, log, audit line or answer', async () => {
    const seen: string[] = [];
    let running = true;
    const watch = (async () => {
      while (running) {
        seen.push(execSync('ps -eo args', { encoding: 'utf8' }));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      const r = await client.call('ssh.exec', { host: 'web1', command: 'sleep 0.5; id -u', sudo: true });
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe('0\n');
      // sudo's own prompt and lecture are not the command's output.
      expect(r.stderr).toBe('');
      expect(JSON.stringify(r)).not.toContain(PASSWORD);
    } finally {
      running = false;
      await watch;
    }
    expect(seen.some((ps) => ps.includes('sudo -S -p'))).toBe(true);
    expect(seen.some((ps) => ps.includes(PASSWORD))).toBe(false);
    expect(daemon.logs()).not.toContain(PASSWORD);
    const audit = fs.readFileSync(path.join(fleet.root, 'state', 'audit.log'), 'utf8');
    expect(audit).toMatch(/"host":"web1".*"sudo":true/);
    expect(audit).not.toContain(PASSWORD);
  });

  it('a wrong password is SUDO_FAILED within 5 s, once, and nothing ran', async () => {
    const t0 = Date.now();
    const e = await expectCode(client.call('ssh.exec', { host: 'web3', command: `touch /tmp/scout-sudo-wrong-${process.pid}`, sudo: true }), 'SUDO_FAILED');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(e.message).toContain('sudo refused the password');
    expect(e.message).not.toContain('not-the-password');
    expect(fs.existsSync(`/tmp/scout-sudo-wrong-${process.pid}`)).toBe(false);
    expect(daemon.logs()).not.toContain('not-the-password');
  });

  it('a host whose policy has no sudo entry is refused before anything runs', async () => {
    const marker = `/tmp/scout-sudo-denied-${process.pid}`;
    const e = await expectCode(client.call('ssh.exec', { host: 'web2', command: `touch ${marker}`, sudo: true }), 'POLICY_DENIED');
    expect(e.message).toContain('sudo is not allowed on web2');
    expect(fs.existsSync(marker)).toBe(false);
    const calls = daemon.logLines().filter((l) => l.msg === 'connection opened' && l.host === 'web2');
    expect(calls).toEqual([]);
  });
});
