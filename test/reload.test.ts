// Reload (SIGHUP, daemon.reload): edited ssh config applies without a restart, and only the connections
// whose settings changed are replaced; the others stay warm.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { HostInfo, PoolListResult, ReloadResult } from '../src/protocol/methods/index.js';
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
  it('SIGHUP after adding a host and changing another\'s port: the new host is listed, the changed host\'s connection is replaced, the unchanged one stays', async () => {
    writeConfigWithout(['web3']);
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    try {
      expect((await c.call<HostInfo[]>('hosts.list')).map((h) => h.name)).toEqual(['web1', 'web2']);
      for (const host of ['web1', 'web2']) expect((await c.call<{ stdout: string }>('ssh.exec', { host, command: 'echo hi' })).stdout).toBe('hi\n');
      const before = await c.call<PoolListResult>('pool.list');
      const web1Conn = before.connections.find((x) => x.host === 'web1')!.id;

      // web3 appears; web2 now points at web3's sshd (another port, same known_hosts file).
      writeConfigWithout([], { web2: [`Port ${fleet.server('web3').port}`] });
      process.kill(daemon.pid, 'SIGHUP');
      await until(() => daemon!.logLines().some((l) => l.msg === 'configuration reloaded'), RELOAD_WAIT_MS, 'the reload log line');
      const reloaded = daemon.logLines().find((l) => l.msg === 'configuration reloaded')!;
      expect(reloaded).toMatchObject({ added: ['web3'], changed: ['web2'], removed: [] });

      expect((await c.call<HostInfo[]>('hosts.list')).map((h) => [h.name, h.port])).toEqual([
        ['web1', fleet.server('web1').port],
        ['web2', fleet.server('web3').port],
        ['web3', fleet.server('web3').port],
      ]);
      await until(async () => !(await c.call<PoolListResult>('pool.list')).connections.some((x) => x.host === 'web2'), RELOAD_WAIT_MS, "web2's old connection to close");

      for (const host of ['web1', 'web2']) expect((await c.call<{ stdout: string }>('ssh.exec', { host, command: 'echo again' })).stdout).toBe('again\n');
      const after = await c.call<PoolListResult>('pool.list');
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
      expect(await c.call<ReloadResult>('daemon.reload')).toEqual({ hosts: 2, added: [], removed: ['web3'], changed: [] });
      expect(after.connections.find((x) => x.host === 'web1')!.id).toBe((await c.call<PoolListResult>('pool.list')).connections.find((x) => x.host === 'web1')!.id);

      // scoutctl reload, after web2 goes back to its own port.
      writeConfigWithout(['web3']);
      const r = await scoutctl(['reload'], daemon.env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('reloaded: 2 hosts; added -; removed -; changed web2 (their connections were closed; others stay warm)\n');
    } finally {
      c.close();
    }
  });
});
