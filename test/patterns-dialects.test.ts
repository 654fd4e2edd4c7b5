// One pattern language: `db[12]` means db1 and db2 wherever a host pattern is written (a fleet call, a policy
// entry, SCOUT_EXEC_MODE), and a pattern a setting cannot honour stops start and reload with its name, never
// protecting nothing in silence. Before, `"db[12]": {"readOnly": true}` protected no host and said nothing.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCOUTD, runNode } from './fixtures/daemon.js';
import { expectCode } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['db1', 'db2', 'db3']);

describe('host patterns in settings', () => {
  it('"db[12]": {"readOnly": true} makes db1 and db2 read-only and leaves db3 alone', async () => {
    const config = path.join(fleet.root, 'policy-db12.json');
    fs.writeFileSync(config, JSON.stringify({ hosts: { 'db[12]': { readOnly: true } } }));
    const d = await fleet.startDaemon({ SCOUT_CONFIG: config });
    const c = await d.client();
    for (const host of ['db1', 'db2']) {
      await expectCode(c.call('ssh.exec', { host, command: 'touch /tmp/scout-db12-must-not-exist' }), 'POLICY_DENIED');
      await expectCode(c.call('fs.write', { host, path: '/tmp/scout-db12-must-not-exist', content: 'x' }), 'POLICY_DENIED');
    }
    expect(await fleet.runAsUser('test -e /tmp/scout-db12-must-not-exist; echo $?')).toMatchObject({ stdout: '1\n' });
    expect(await c.call('ssh.exec', { host: 'db3', command: 'echo free' })).toMatchObject({ exitCode: 0, stdout: 'free\n' });
  });

  it('a policy host entry that is not a valid pattern stops start and reload, naming the entry', async () => {
    const config = path.join(fleet.root, 'policy-bad.json');
    fs.writeFileSync(config, JSON.stringify({ hosts: { 'db[2-1]': { readOnly: true } } }));
    const r = await runNode(SCOUTD, [], fleet.env({ SCOUT_SOCKET: path.join(fleet.root, 'run-bad', 's.sock'), SCOUT_CONFIG: config }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("host entry 'db[2-1]' is not a valid pattern");

    // Reload: the broken file is refused and the policy in force stays (db1 still read-only).
    fs.writeFileSync(config, JSON.stringify({ hosts: { db1: { readOnly: true } } }));
    const d = await fleet.startDaemon({ SCOUT_CONFIG: config });
    const c = await d.client();
    fs.writeFileSync(config, JSON.stringify({ hosts: { 'db[2-1]': { readOnly: true } } }));
    const e = await expectCode(c.call('daemon.reload'), 'CONFIG_INVALID');
    expect(e.message).toContain("'db[2-1]'");
    await expectCode(c.call('ssh.exec', { host: 'db1', command: 'true' }), 'POLICY_DENIED');
  });

  it('SCOUT_EXEC_MODE=auto,db[12]=off sends db1 and db2 through exec channels, db3 through its warm shell', async () => {
    const d = await fleet.startDaemon({ SCOUT_EXEC_MODE: 'auto,db[12]=off' });
    const c = await d.client();
    const via: Record<string, string | undefined> = {};
    for (const host of ['db1', 'db2', 'db3']) {
      // Twice: the first call may open the warm shell; the second shows the path the host takes.
      await c.call('ssh.exec', { host, command: 'true' });
      via[host] = (await c.call('ssh.exec', { host, command: 'true' })).via;
    }
    expect(via).toEqual({ db1: 'exec-channel', db2: 'exec-channel', db3: 'warm-shell' });
  });

  it('SCOUT_EXEC_MODE with a pattern that is not one stops scoutd, naming it', async () => {
    const r = await runNode(SCOUTD, [], fleet.env({ SCOUT_SOCKET: path.join(fleet.root, 'run-mode', 's.sock'), SCOUT_EXEC_MODE: 'auto,db[2-1]=off' }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("SCOUT_EXEC_MODE: 'db[2-1]' is not a valid host pattern");
  });
});
