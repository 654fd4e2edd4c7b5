// Host-key strictness modes end to end against real sshd servers: accept-new learning (one host, then ten at
// once into one file) and StrictHostKeyChecking off (from the environment or one host's ssh config).
// `ssh-keygen` is the oracle for the known_hosts format.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { scoutctl } from './fixtures/daemon.js';
import { useTrustSession } from './fixtures/known-hosts.js';
import { useFleet } from './fixtures/suite.js';

const pexec = promisify(execFile);

const fleet = useFleet(10);
const trust = useTrustSession(fleet);
const { name, key, writeKnownHosts, withDaemon, connect } = trust;

describe('accept-new', () => {
  it('learns an unknown key in OpenSSH format (ssh-keygen -F finds it) and still refuses a changed key', async () => {
    await withDaemon({ SCOUT_STRICT_HOST_KEY_CHECKING: 'accept-new' });
    writeKnownHosts([]);
    expect(await connect('web4')).toBe('ok');
    const found = await pexec('ssh-keygen', ['-F', name('web4'), '-f', fleet.knownHostsPath]);
    expect(found.stdout).toContain(key('web4'));
    const warn = trust.daemon.logLines().find((l) => l.msg === 'learnt new host key (accept-new)');
    expect(warn).toMatchObject({ host: 'web4', level: 40 });
    // Known now: a second connect does not append again.
    expect(await connect('web4')).toBe('ok');
    expect(fs.readFileSync(fleet.knownHostsPath, 'utf8').trim().split('\n')).toHaveLength(1);

    await fleet.server('web4').rotateHostKey();
    try {
      expect(await connect('web4')).toBe('HOST_KEY_MISMATCH');
    } finally {
      fleet.writeConfig(); // known_hosts back to the servers' current keys
    }
  });

  it('10 concurrent first connects to 10 hosts leave a valid file with 10 entries', async () => {
    await withDaemon({ SCOUT_STRICT_HOST_KEY_CHECKING: 'accept-new' });
    writeKnownHosts(['# hand-written comment without a trailing newline']);
    fs.writeFileSync(fleet.knownHostsPath, fs.readFileSync(fleet.knownHostsPath, 'utf8').trimEnd());
    const hosts = fleet.servers.map((s) => s.name);
    const results = await Promise.all(hosts.map((host) => trust.client.call('ssh.exec', { host, command: 'echo ok' })));
    expect(results.map((r) => r.stdout)).toEqual(hosts.map(() => 'ok\n'));
    const lines = fs
      .readFileSync(fleet.knownHostsPath, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(lines).toHaveLength(10);
    for (const host of hosts) {
      const found = await pexec('ssh-keygen', ['-F', name(host), '-f', fleet.knownHostsPath]);
      expect(found.stdout).toContain(key(host));
    }
    // A real ssh client reads the file too (no "line N: invalid" complaints).
    const check = await pexec('ssh-keygen', ['-l', '-f', fleet.knownHostsPath]);
    expect(check.stdout.trim().split('\n')).toHaveLength(10);
  });
});

describe('StrictHostKeyChecking off', () => {
  it('connects to a host with a changed key, warns in the log and in scoutctl status', async () => {
    await withDaemon({ SCOUT_STRICT_HOST_KEY_CHECKING: 'no' });
    writeKnownHosts([`${name('web1')} ${trust.strangerKey}`]);
    try {
      expect(await connect('web1')).toBe('ok');
    } finally {
      fleet.writeConfig();
    }
    expect(trust.daemon.logLines().some((l) => l.level === 40 && /CHANGED/.test(String(l.msg)) && l.host === 'web1')).toBe(true);
    const status = await scoutctl(['status'], trust.daemon.env);
    expect(status.stdout).toMatch(/WARNING: .*host key checking is OFF/);
  });

  it('StrictHostKeyChecking no for one host in ssh config: that host connects, status names it', async () => {
    fleet.writeConfig({ web3: ['StrictHostKeyChecking no'] }, { knownHosts: false });
    try {
      await withDaemon();
      writeKnownHosts([`${name('web3')} ${trust.strangerKey}`, `${name('web1')} ${trust.strangerKey}`]);
      expect(await connect('web3')).toBe('ok');
      expect(await connect('web1')).toBe('HOST_KEY_MISMATCH');
      const status = await scoutctl(['status'], trust.daemon.env);
      expect(status.stdout).toMatch(/WARNING: +host key checking is OFF for web3 \(StrictHostKeyChecking no in /);
    } finally {
      fleet.writeConfig();
    }
  });
});
