// scoutctl doctor: one screen that names what is wrong, and an exit code scripts can trust.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scoutctl, type DaemonProc } from './fixtures/daemon.js';
import { until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

/** Bound on ssh-agent creating its socket. */
const AGENT_START_MS = 10_000;

const fleet = useFleet(['web1', 'web2', 'web3']);
let daemon: DaemonProc | undefined;

fleet.cleanupEach(async () => {
  await fleet.server('web3').start();
  fleet.writeConfig();
});

/** The doctor lines about one subject (host alias or check name). */
function linesFor(out: string, name: string): string[] {
  return out.split('\n').filter((l) => new RegExp(`^\\S*\\s+${name}\\s`).test(l));
}

describe('scoutctl doctor', () => {
  it('names the host with no known_hosts entry and the unreachable host, and exits 1', async () => {
    // web2's key leaves known_hosts; web3's sshd goes away.
    const port2 = fleet.server('web2').port;
    const known = fs
      .readFileSync(fleet.knownHostsPath, 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith(`[127.0.0.1]:${port2} `));
    fs.writeFileSync(fleet.knownHostsPath, known.join('\n'));
    await fleet.server('web3').stop();
    daemon = await fleet.startDaemon();

    const r = await scoutctl(['doctor', '--probe'], daemon.env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(linesFor(r.stdout, 'daemon')[0]).toMatch(/^ok\s+daemon\s+scoutd .*answers/);
    expect(linesFor(r.stdout, 'socket')[0]).toMatch(/^ok\s+socket\s+mode 0600 in a 0700 directory/);
    expect(linesFor(r.stdout, 'web1').every((l) => l.startsWith('ok'))).toBe(true);
    expect(linesFor(r.stdout, 'web1').join('\n')).toMatch(/connected and logged in, [\d.]+ ms/);
    expect(linesFor(r.stdout, 'web2').join('\n')).toMatch(new RegExp(`^FAIL\\s+web2\\s+no known_hosts entry for \\[127\\.0\\.0\\.1\\]:${port2} in ${fleet.knownHostsPath}`, 'm'));
    expect(linesFor(r.stdout, 'web3').join('\n')).toMatch(/^FAIL\s+web3\s+unreachable 127\.0\.0\.1:\d+: \[CONNECT_FAILED\]/m);
    expect(linesFor(r.stdout, 'web2').join('\n')).toMatch(/^FAIL\s+web2\s+cannot log in to 127\.0\.0\.1:\d+: \[HOST_KEY_UNKNOWN\]/m);
    expect(r.stdout).toMatch(/3 problems found/); // web2: no entry, and its login refused; web3: unreachable

    const j = JSON.parse((await scoutctl(['doctor', '--json'], daemon.env)).stdout) as { ok: boolean; checks: Array<{ level: string; name: string }> };
    expect(j.ok).toBe(false);
    expect(j.checks.filter((c) => c.level === 'fail').map((c) => c.name)).toEqual(['web2']); // without --probe: no login attempted
  });

  it('all good when every host is known and reachable, with the agent and its key count: exit 0', async () => {
    const agentSock = path.join(fleet.root, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', agentSock], { stdio: 'ignore' });
    try {
      await until(() => fs.existsSync(agentSock), AGENT_START_MS, 'ssh-agent socket');
      expect(spawnSync('ssh-add', [fleet.clientKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: agentSock }, stdio: 'ignore' }).status).toBe(0);
      daemon = await fleet.startDaemon({ SSH_AUTH_SOCK: agentSock });
      const r = await scoutctl(['doctor', '--probe'], daemon.env);
      expect(r.stdout).not.toContain('FAIL');
      expect(r.code).toBe(0);
      expect(linesFor(r.stdout, 'agent')[0]).toMatch(/^ok\s+agent\s+ssh-agent at .* holds 1 key$/);
      for (const h of ['web1', 'web2', 'web3']) expect(linesFor(r.stdout, h).join('\n')).toMatch(/^ok\s+\S+\s+127\.0\.0\.1:\d+ connected and logged in/m);
      // The agent going away is a problem doctor names.
      agent.kill('SIGTERM');
      await until(() => !fs.existsSync(agentSock), AGENT_START_MS, 'ssh-agent to exit');
      const gone = await scoutctl(['doctor'], daemon.env);
      expect(gone.code).toBe(1);
      expect(linesFor(gone.stdout, 'agent')[0]).toMatch(/^FAIL\s+agent\s+ssh-agent at .* unreachable/);
    } finally {
      agent.kill('SIGKILL');
    }
  });

  it('a daemon that is not running is a problem it names, with the way to start one', async () => {
    const r = await scoutctl(['doctor'], fleet.daemonEnv());
    expect(r.code).toBe(1);
    expect(linesFor(r.stdout, 'daemon')[0]).toMatch(/^FAIL\s+daemon\s+no scoutd answers on/);
    expect(r.stdout).toContain('scoutctl service install');
    expect(linesFor(r.stdout, 'service')[0]).toMatch(/^\s+service\s+not installed/);
  });

  it('an installed service whose unit names another scoutd is a warning with the fix', async () => {
    const unitDir = path.join(fleet.home, '.config', 'systemd', 'user');
    fs.mkdirSync(unitDir, { recursive: true });
    try {
      fs.writeFileSync(path.join(unitDir, 'scoutd.service'), '[Service]\nExecStart=/old/node /old/scoutd.js\n');
      fs.writeFileSync(path.join(unitDir, 'scoutd.socket'), '[Socket]\n');
      const r = await scoutctl(['doctor'], fleet.daemonEnv());
      expect(linesFor(r.stdout, 'service')[0]).toMatch(/^WARN\s+service\s+.*scoutd\.service.* differ from what this scoutctl would install/);
      expect(r.stdout).toContain("run 'scoutctl service install' again");
    } finally {
      fs.rmSync(path.join(fleet.home, '.config'), { recursive: true, force: true });
    }
  });
});
