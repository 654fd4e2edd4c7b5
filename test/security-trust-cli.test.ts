// scoutctl trust (a first `ssh` login's question, against real sshd servers) and the socket directories scoutd
// refuses to use. `ssh-keygen` is the oracle for fingerprints and the known_hosts format.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isScoutError } from '../src/protocol/errors.js';
import { SCOUTD, scoutctl } from './fixtures/daemon.js';
import { useTrustSession } from './fixtures/known-hosts.js';
import { useFleet } from './fixtures/suite.js';

const pexec = promisify(execFile);

const fleet = useFleet(['web5', 'web6', 'web7', 'web8']);
const trust = useTrustSession(fleet);
const { name, key, writeKnownHosts, withDaemon, connect } = trust;

describe('scoutctl trust', () => {
  const fp = async (host: string) => (await pexec('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${fleet.server(host).hostKeyPath}.pub`])).stdout.split(/\s+/)[1];

  it('shows the offered fingerprint, records nothing on "no", records in OpenSSH format on "yes", and the host then connects', async () => {
    await withDaemon();
    writeKnownHosts([`${name('web8')} ${key('web8')}`]);
    const before = fs.readFileSync(fleet.knownHostsPath, 'utf8');
    const no = await scoutctl(['trust', 'web5'], trust.daemon.env, 'no\n');
    expect(no.code).toBe(1);
    expect(no.stderr).toContain(`ED25519 key fingerprint is ${await fp('web5')}.`);
    expect(fs.readFileSync(fleet.knownHostsPath, 'utf8')).toBe(before);
    expect(await connect('web5')).toBe('HOST_KEY_UNKNOWN');

    const yes = await scoutctl(['trust', 'web5'], trust.daemon.env, 'yes\n');
    expect(yes.stderr).toContain(await fp('web5'));
    expect(yes.stdout).toContain(`Recorded ED25519 key ${await fp('web5')} for web5 as ${name('web5')}`);
    expect(yes.code).toBe(0);
    expect((await pexec('ssh-keygen', ['-F', name('web5'), '-f', fleet.knownHostsPath])).stdout).toContain(key('web5'));
    expect(await connect('web5')).toBe('ok');

    const again = await scoutctl(['trust', 'web5', '--yes'], trust.daemon.env);
    expect(again.stdout).toMatch(/already trusted/);
    expect(
      fs
        .readFileSync(fleet.knownHostsPath, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith(name('web5'))),
    ).toHaveLength(1);
  });

  it('--yes records without asking; a changed key is refused loudly; a fingerprint the server no longer offers records nothing', async () => {
    await withDaemon();
    writeKnownHosts([`${name('web7')} ${trust.strangerKey}`]);
    const r = await scoutctl(['trust', 'web6', '--yes'], trust.daemon.env);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect((await pexec('ssh-keygen', ['-F', name('web6'), '-f', fleet.knownHostsPath])).stdout).toContain(key('web6'));

    const changed = await scoutctl(['trust', 'web7', '--yes'], trust.daemon.env);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/HOST KEY OF web7 .* HAS CHANGED/);
    expect(changed.stderr).toContain(await fp('web7'));
    expect(fs.readFileSync(fleet.knownHostsPath, 'utf8')).not.toContain(key('web7'));

    const stale = await trust.client.call('hosts.trust', { host: 'web8', fingerprint: `SHA256:${'A'.repeat(43)}` }).catch((e: unknown) => e);
    expect(isScoutError(stale, 'HOST_KEY_MISMATCH')).toBe(true);
    expect(fs.readFileSync(fleet.knownHostsPath, 'utf8')).not.toContain(key('web8'));
    fleet.writeConfig();
  });

  it('a host behind ProxyJump: its key is fetched through the jump host, recorded, and the host then connects', async () => {
    // `inner` is web6's sshd reached through web5; only web5 is known.
    const s = fleet.server('web6');
    fleet.writeConfig(
      {
        inner: [
          'HostName 127.0.0.1',
          `Port ${s.port}`,
          `User ${fleet.user}`,
          `IdentityFile ${fleet.clientKeyPath}`,
          `UserKnownHostsFile ${fleet.knownHostsPath}`,
          'IdentitiesOnly yes',
          'ProxyJump web5',
        ],
      },
      { knownHosts: false },
    );
    writeKnownHosts([`${name('web5')} ${key('web5')}`]);
    await withDaemon();
    expect(await connect('inner')).toBe('HOST_KEY_UNKNOWN');
    const r = await scoutctl(['trust', 'inner', '--yes'], trust.daemon.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Recorded ED25519 key ${await fp('web6')} for inner as ${name('web6')}`);
    expect(await connect('inner')).toBe('ok');
    fleet.writeConfig();
  });
});

describe('socket directory', () => {
  /** Run scoutd with its socket in `dir`; resolves with the exit code and stderr. */
  function scoutdIn(dir: string): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const p = spawn(process.execPath, [SCOUTD], { env: fleet.daemonEnv({ SCOUT_SOCKET: path.join(dir, 's.sock') }), stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('close', (code) => resolve({ code, stderr }));
    });
  }

  it('mode 0777 is refused with the mode named, and nothing is bound', async () => {
    const dir = path.join(fleet.root, 'open');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o777);
    const r = await scoutdIn(dir);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/has mode 777.*other users could reach the socket/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('a symlink to a private directory is refused, and nothing is created through it', async () => {
    const real = path.join(fleet.root, 'real');
    fs.mkdirSync(real, { mode: 0o700 });
    const link = path.join(fleet.root, 'link');
    fs.symlinkSync(real, link);
    const r = await scoutdIn(link);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/is a symlink: refusing/);
    expect(fs.readdirSync(real)).toEqual([]);
  });

  it('a directory owned by another user is refused', async () => {
    let dir: string;
    if (process.getuid!() === 0) {
      // As root we can give a private directory to the fixture's unprivileged user.
      dir = path.join(fleet.root, 'foreign');
      fs.mkdirSync(dir, { mode: 0o700 });
      const other = Number((await pexec('id', ['-u', fleet.user])).stdout.trim());
      expect(other).not.toBe(0);
      fs.chownSync(dir, other, -1);
    } else {
      // Without root nothing can be given away; '/' (owned by root) is a directory of another user, and the
      // ownership check comes before the mode check, so the message must still name the owner.
      dir = '/';
    }
    const r = await scoutdIn(dir);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/is owned by uid \d+, not by you/);
    expect(fs.existsSync(path.join(dir, 's.sock'))).toBe(false);
  });
});
