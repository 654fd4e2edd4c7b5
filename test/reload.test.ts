// Reload (SIGHUP, daemon.reload): edited ssh config applies without a restart, and only the connections
// whose settings changed are replaced; the others stay warm.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scoutctl, type DaemonProc } from './fixtures/daemon.js';
import { until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

/** Bound on a reload taking effect after SIGHUP (it re-reads one small file). */
const RELOAD_WAIT_MS = 10_000;

const fleet = useFleet(['web1', 'web2', 'web3']);
let daemon: DaemonProc | undefined;

/** Rewrite ~/.ssh/config from the fleet, then leave out some hosts' blocks. */
function writeConfigWithout(hidden: string[], extra: Record<string, string[]> = {}): void {
  fleet.writeConfig(extra);
  const blocks = fs.readFileSync(fleet.sshConfigPath, 'utf8').split(/\n(?=Host )/);
  fs.writeFileSync(fleet.sshConfigPath, blocks.filter((b) => !hidden.some((h) => b.startsWith(`Host ${h}\n`))).join('\n'));
}

describe('reload', () => {
  it("SIGHUP after adding a host and changing another's port: the new host is listed, the changed host's connection is replaced, the unchanged one stays", async () => {
    writeConfigWithout(['web3']);
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    try {
      expect((await c.call('hosts.list')).map((h) => h.name)).toEqual(['web1', 'web2']);
      for (const host of ['web1', 'web2']) expect((await c.call('ssh.exec', { host, command: 'echo hi' })).stdout).toBe('hi\n');
      const before = await c.call('pool.list');
      const web1Conn = before.connections.find((x) => x.host === 'web1')!.id;

      // web3 appears; web2 now points at web3's sshd (another port, same known_hosts file).
      writeConfigWithout([], { web2: [`Port ${fleet.server('web3').port}`] });
      process.kill(daemon.pid, 'SIGHUP');
      await until(() => daemon!.logLines().some((l) => l.msg === 'configuration reloaded'), RELOAD_WAIT_MS, 'the reload log line');
      const reloaded = daemon.logLines().find((l) => l.msg === 'configuration reloaded')!;
      expect(reloaded).toMatchObject({ added: ['web3'], changed: ['web2'], removed: [] });

      expect((await c.call('hosts.list')).map((h) => [h.name, h.port])).toEqual([
        ['web1', fleet.server('web1').port],
        ['web2', fleet.server('web3').port],
        ['web3', fleet.server('web3').port],
      ]);
      await until(async () => !(await c.call('pool.list')).connections.some((x) => x.host === 'web2'), RELOAD_WAIT_MS, "web2's old connection to close");

      for (const host of ['web1', 'web2']) expect((await c.call('ssh.exec', { host, command: 'echo again' })).stdout).toBe('again\n');
      const after = await c.call('pool.list');
      const stats = (h: string) => after.hosts.find((x) => x.host === h)!;
      // web1: the very same connection, still one login on its sshd.
      expect(after.connections.find((x) => x.host === 'web1')!.id).toBe(web1Conn);
      expect(stats('web1').created).toBe(1);
      expect(fleet.server('web1').acceptedLogins()).toBe(1);
      // web2: a second connection, and it went to the new port (web3's sshd logged the login).
      expect(stats('web2').created).toBe(2);
      expect(fleet.server('web2').acceptedLogins()).toBe(1);
      expect(fleet.server('web3').acceptedLogins()).toBe(1);

      // daemon.reload says what changed: removing web3 again.
      writeConfigWithout(['web3'], { web2: [`Port ${fleet.server('web3').port}`] });
      expect(await c.call('daemon.reload')).toEqual({ hosts: 2, added: [], removed: ['web3'], changed: [] });
      expect(after.connections.find((x) => x.host === 'web1')!.id).toBe((await c.call('pool.list')).connections.find((x) => x.host === 'web1')!.id);

      // scoutctl reload, after web2 goes back to its own port.
      writeConfigWithout(['web3']);
      const r = await scoutctl(['reload'], daemon.env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('reloaded: 2 hosts; added -; removed -; changed web2 (their connections close once the calls on them end; others stay warm)\n');
    } finally {
      c.close();
    }
  });

  it('a call and a job running on a host whose settings change finish on the old connection; new calls use the new settings', async () => {
    writeConfigWithout(['web3']);
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    const dir = fs.mkdtempSync(path.join(fleet.root, 'retire-'));
    fs.chmodSync(dir, 0o777);
    const gate = path.join(dir, 'gate');
    // Each command says it started, then waits for the gate this test opens.
    const gated = (name: string) => `touch ${dir}/${name}; while [ ! -e ${gate} ]; do sleep 0.05; done; echo ${name} done`;
    try {
      const logins = { web2: fleet.server('web2').acceptedLogins(), web3: fleet.server('web3').acceptedLogins() };
      const call = c.call('ssh.exec', { host: 'web2', command: gated('call') });
      const { jobId } = await c.call('jobs.start', { host: 'web2', command: gated('job') });
      await until(() => fs.existsSync(`${dir}/call`) && fs.existsSync(`${dir}/job`), RELOAD_WAIT_MS, 'the call and the job to start');
      const old = (await c.call('pool.list')).connections.find((x) => x.host === 'web2')!;

      // web2 now points at web3's sshd.
      writeConfigWithout([], { web2: [`Port ${fleet.server('web3').port}`] });
      expect(await c.call('daemon.reload')).toMatchObject({ changed: ['web2'] });
      const during = (await c.call('pool.list')).connections.filter((x) => x.host === 'web2');
      expect(during).toEqual([expect.objectContaining({ id: old.id, retiring: true })]);
      expect((await scoutctl(['pool'], daemon.env)).stdout).toMatch(new RegExp(`web2 +${old.id} +retiring `));

      // A new call dials the new settings; the running ones are untouched.
      expect(await c.call('ssh.exec', { host: 'web2', command: 'echo new' })).toMatchObject({ stdout: 'new\n', exitCode: 0 });
      expect(fleet.server('web3').acceptedLogins()).toBe(logins.web3 + 1);
      expect(fleet.server('web2').acceptedLogins()).toBe(logins.web2 + 1);

      fs.writeFileSync(gate, '');
      expect(await call).toMatchObject({ stdout: 'call done\n', exitCode: 0 });
      expect(await c.call('jobs.wait', { jobId, timeoutMs: RELOAD_WAIT_MS })).toMatchObject({ state: 'exited', exitCode: 0 });
      // With its last user gone, the retired connection closes; the new one stays.
      await until(async () => !(await c.call('pool.list')).connections.some((x) => x.id === old.id), RELOAD_WAIT_MS, 'the retired connection to close');
      expect((await c.call('pool.list')).connections.filter((x) => x.host === 'web2').map((x) => x.retiring ?? false)).toEqual([false]);
    } finally {
      c.close();
    }
  });
});
