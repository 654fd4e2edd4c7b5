// Per-host policy from the Scout config file, end to end against real sshd: read-only hosts, deny and allow
// command patterns, and path roots judged on the remote's own resolution of `..` and symlinks. Every refusal
// is POLICY_DENIED and leaves the remote untouched.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ScoutClient } from '../src/client/client.js';
import { isScoutError, type ScoutError } from '../src/protocol/errors.js';
import type { StatusResult } from '../src/protocol/methods/index.js';
import { SCOUTD, runNode, scoutctl, type DaemonProc } from './fixtures/daemon.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1', 'web2', 'web3']);
let daemon: DaemonProc;
let client: ScoutClient;
/** Remote tree, owned by the remote user: app/ is the root; secret/ is outside it. */
let R: string;
let local: string;
let configFile: string;

beforeAll(async () => {
  R = path.join(fleet.root, 'remote');
  // The fleet root belongs to the test runner; the remote user gets a directory of its own in it.
  fs.mkdirSync(R, { mode: 0o755 });
  const id = (await fleet.runAsUser('id -u; id -g')).stdout.trim().split('\n').map(Number);
  fs.chownSync(R, id[0], id[1]);
  const setup = await fleet.runAsUser(
    [
      `mkdir -p ${R}/app/sub ${R}/secret`,
      `echo app-data > ${R}/app/file.txt`,
      `echo top-secret > ${R}/secret/key.txt`,
      `ln -s ../secret ${R}/app/escape`,
      `ln -s sub ${R}/app/inside`,
      `echo sub-data > ${R}/app/sub/f.txt`,
    ].join(' && '),
  );
  expect(setup.stderr).toBe('');
  local = path.join(fleet.root, 'local');
  fs.mkdirSync(local);
  fs.writeFileSync(path.join(local, 'up.txt'), 'uploaded\n');
  configFile = path.join(fleet.root, 'config.json');
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      hosts: {
        web1: { roots: [`${R}/app`], deny: ['rm *', 'shutdown*'] },
        web2: { readOnly: true },
        '*3': { allow: ['echo *', 'uname'] },
      },
    }),
  );
  daemon = await fleet.startDaemon({ SCOUT_CONFIG: configFile });
  client = await daemon.client('policy-test');
});

afterEach(async () => {
  await fleet.runAsUser(`rm -f ${R}/marker ${R}/app/new.txt ${R}/secret/new.txt`);
});

async function denied(p: Promise<unknown>, reason?: string): Promise<ScoutError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isScoutError(err)) throw new Error(`expected POLICY_DENIED, got ${err === undefined ? 'a result' : String(err)}`);
  expect(err.code, err.message).toBe('POLICY_DENIED');
  expect(err.rpcCode).toBe(-32018);
  if (reason) expect(err.details.reason).toBe(reason);
  return err;
}

const remoteExists = (p: string) => fleet.runAsUser(`test -e ${p}`).then((r) => r.code === 0);
const exec = (host: string, command: string, extra: Record<string, unknown> = {}) => client.call('ssh.exec', { host, command, ...extra });

describe('readOnly', () => {
  it('refuses exec, jobs and uploads on the host and runs nothing; reads still work', async () => {
    const e = await denied(exec('web2', `touch ${R}/marker`), 'read-only');
    expect(e.message).toMatch(/web2 is read-only/);
    await denied(client.call('jobs.start', { host: 'web2', command: `touch ${R}/marker` }), 'read-only');
    await denied(client.call('transfer.put', { host: 'web2', localPath: path.join(local, 'up.txt'), remotePath: `${R}/app/new.txt` }), 'read-only');
    await denied(client.call('transfer.copy', { from: { host: 'web1', path: `${R}/app/file.txt` }, to: { host: 'web2', path: `${R}/app/new.txt` } }), 'read-only');
    expect(await remoteExists(`${R}/marker`)).toBe(false);
    expect(await remoteExists(`${R}/app/new.txt`)).toBe(false);
    const out = path.join(local, 'from-web2.txt');
    await client.call('transfer.get', { host: 'web2', remotePath: `${R}/secret/key.txt`, localPath: out });
    expect(fs.readFileSync(out, 'utf8')).toBe('top-secret\n');
  });

  it('fleet.exec refuses the read-only host alone; the others run', async () => {
    const r = await client.call('fleet.exec', { hosts: ['web2', 'web1'], command: 'echo hi' });
    expect(r.results.map((x) => [x.host, x.ok, x.error?.code])).toEqual([
      ['web2', false, 'POLICY_DENIED'],
      ['web1', true, undefined],
    ]);
    expect(r.results[1].result?.stdout).toBe('hi\n');
  });
});

describe('command patterns', () => {
  it('deny matches the whole command or any simple command in it', async () => {
    await denied(exec('web1', `rm -f ${R}/app/file.txt`), 'deny');
    await denied(exec('web1', `echo a; rm -f ${R}/app/file.txt`), 'deny');
    await denied(exec('web1', `true && rm -f ${R}/app/file.txt`), 'deny');
    await denied(client.call('jobs.start', { host: 'web1', command: 'shutdown -h now' }), 'deny');
    expect(await remoteExists(`${R}/app/file.txt`)).toBe(true);
    expect((await exec('web1', 'echo fine')).stdout).toBe('fine\n');
  });

  it('allow (via a glob entry) runs only matching simple commands', async () => {
    expect((await exec('web3', 'echo hello world')).stdout).toBe('hello world\n');
    expect((await exec('web3', 'uname')).exitCode).toBe(0);
    await denied(exec('web3', 'ls /'), 'not-allowed');
    await denied(exec('web3', `echo hi; touch ${R}/marker`), 'shell-control');
    await denied(exec('web3', `echo $(touch ${R}/marker)`), 'shell-control');
    await denied(exec('web3', `echo hi > ${R}/marker`), 'shell-control');
    await denied(exec('web3', `echo hi\ntouch ${R}/marker`), 'shell-control');
    expect(await remoteExists(`${R}/marker`)).toBe(false);
  });
});

describe('roots', () => {
  const get = (remotePath: string) => client.call('transfer.get', { host: 'web1', remotePath, localPath: path.join(local, `got-${Math.random()}`) });

  it('reads inside the root (through an inside symlink too), refuses ../ and a symlink that leads out', async () => {
    await get(`${R}/app/file.txt`);
    await get(`${R}/app/inside/f.txt`);
    await get(`${R}/app/sub/../file.txt`);
    const e = await denied(get(`${R}/app/../secret/key.txt`), 'outside-roots');
    expect(e.details.resolved).toBe(`${R}/secret/key.txt`);
    const viaLink = await denied(get(`${R}/app/escape/key.txt`), 'outside-roots');
    expect(viaLink.details.resolved).toBe(`${R}/secret/key.txt`);
    await denied(get(`${R}/secret/key.txt`), 'outside-roots');
    // Relative paths are relative to the login directory, which is outside the root.
    await denied(get('key.txt'));
    expect(fs.readdirSync(local).filter((f) => f.startsWith('got-'))).toHaveLength(3);
  });

  it('uploads to a new file inside the root; through an outside symlink or ../ they are refused and nothing is written', async () => {
    const up = (remotePath: string) => client.call('transfer.put', { host: 'web1', localPath: path.join(local, 'up.txt'), remotePath });
    await up(`${R}/app/new.txt`);
    expect((await fleet.runAsUser(`cat ${R}/app/new.txt`)).stdout).toBe('uploaded\n');
    await denied(up(`${R}/app/escape/new.txt`), 'outside-roots');
    await denied(up(`${R}/app/missing/../../secret/new.txt`), 'outside-roots');
    expect(await remoteExists(`${R}/secret/new.txt`)).toBe(false);
    await denied(client.call('transfer.copy', { from: { host: 'web1', path: `${R}/app/escape/key.txt` }, to: { host: 'web3', path: `${R}/marker` } }), 'outside-roots');
  });

  it('put -r onto a symlink inside the root that leads out replaces the link and writes nothing outside', async () => {
    // A local tree named like the root's `escape` link (→ ../secret): the copy lands beside its temp dir in
    // the root and is renamed over the link itself; nothing goes through the link.
    const tree = path.join(local, 'tree', 'escape');
    fs.mkdirSync(tree, { recursive: true });
    fs.writeFileSync(path.join(tree, 'key.txt'), 'overwritten?\n');
    try {
      const r = await client.call('transfer.put', { host: 'web1', localPath: tree, remotePath: `${R}/app`, recursive: true });
      expect(r.path).toBe(`${R}/app/escape`);
      expect((await fleet.runAsUser(`cat ${R}/secret/key.txt; ls ${R}/secret; test -L ${R}/app/escape || cat ${R}/app/escape/key.txt`)).stdout).toBe('top-secret\nkey.txt\noverwritten?\n');
    } finally {
      await fleet.runAsUser(`rm -rf ${R}/app/escape && ln -s ../secret ${R}/app/escape`);
    }
  });

  it('exec runs in the root by default and refuses a cwd outside it', async () => {
    expect((await exec('web1', 'pwd')).stdout).toBe(`${R}/app\n`);
    expect((await exec('web1', 'pwd', { cwd: `${R}/app/inside` })).stdout).toBe(`${R}/app/sub\n`);
    await denied(exec('web1', `touch marker`, { cwd: `${R}/app/escape` }), 'outside-roots');
    await denied(exec('web1', `touch marker`, { cwd: `${R}/app/..` }), 'outside-roots');
    await denied(client.call('jobs.start', { host: 'web1', command: 'touch marker', cwd: `${R}/secret` }), 'outside-roots');
    expect(await remoteExists(`${R}/marker`)).toBe(false);
    expect(await remoteExists(`${R}/secret/marker`)).toBe(false);
  });
});

describe('fs.* under policy', () => {
  it('roots: reads inside, refuses ../ and a symlink leading out; readOnly and roots refuse writes', async () => {
    expect((await client.call('fs.read', { host: 'web1', path: `${R}/app/file.txt` })).content).toBe('app-data\n');
    expect((await client.call('fs.list', { host: 'web1', path: `${R}/app/inside` })).entries).toHaveLength(1);
    await denied(client.call('fs.read', { host: 'web1', path: `${R}/app/escape/key.txt` }), 'outside-roots');
    await denied(client.call('fs.read', { host: 'web1', path: `${R}/app/../secret/key.txt` }), 'outside-roots');
    await denied(client.call('fs.list', { host: 'web1', path: `${R}/app/..` }), 'outside-roots');
    await denied(client.call('fs.stat', { host: 'web1', path: `${R}/secret` }), 'outside-roots');
    await denied(client.call('fs.tree', { host: 'web1', path: `${R}/app/escape` }), 'outside-roots');
    await denied(client.call('fs.find', { host: 'web1', path: '/', pattern: '*.txt' }), 'outside-roots');
    await denied(client.call('fs.write', { host: 'web1', path: `${R}/app/escape/new.txt`, content: 'x' }), 'outside-roots');
    await client.call('fs.write', { host: 'web1', path: `${R}/app/new.txt`, content: 'inside\n' });
    expect((await fleet.runAsUser(`cat ${R}/app/new.txt`)).stdout).toBe('inside\n');
    await denied(client.call('fs.write', { host: 'web2', path: `${R}/app/new2.txt`, content: 'x' }), 'read-only');
    expect(await remoteExists(`${R}/secret/new.txt`)).toBe(false);
    expect(await remoteExists(`${R}/app/new2.txt`)).toBe(false);
    // Reads on the read-only host still work.
    expect((await client.call('fs.read', { host: 'web2', path: `${R}/secret/key.txt` })).content).toBe('top-secret\n');
  });
});

describe('visibility and configuration errors', () => {
  it('scoutctl status lists the restricted hosts', async () => {
    const text = await scoutctl(['status'], daemon.env);
    expect(text.stdout).toContain(`policy:      ${configFile}: 3 restricted hosts`);
    expect(text.stdout).toMatch(/web2\s+web2\s+yes/);
    expect(text.stdout).toMatch(/web3\s+\*3\s+no\s+2\s+0/);
    const status = JSON.parse((await scoutctl(['status', '--json'], daemon.env)).stdout) as StatusResult;
    expect(status.policy?.hosts.find((h) => h.host === 'web1')).toEqual({ host: 'web1', entry: 'web1', readOnly: false, allow: 0, deny: 2, roots: [`${R}/app`], confirm: [], sudo: false });
  });

  it('a malformed config file stops scoutd with the field named', async () => {
    const bad = path.join(fleet.root, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ hosts: { web1: { roots: ['relative/dir'] } } }));
    const r = await runNode(SCOUTD, [], fleet.env({ SCOUT_SOCKET: path.join(fleet.root, 'run2', 's.sock'), SCOUT_CONFIG: bad }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/hosts\.web1\.roots\.0' roots must be absolute/);
  });
});
