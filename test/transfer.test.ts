// Transfers end to end: scoutctl / client → scoutd → pooled SFTP → real sshd, with the bytes checked by
// sha256, the daemon's memory watched, and sshd killed mid-way.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TransferProgress, TransferResult } from '../src/protocol/methods/index.js';
import { scoutctl, type DaemonProc } from './fixtures/daemon.js';
import { expectCode, until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

const pexec = promisify(execFile);
const BIG = 100 * 1024 * 1024;
const MiB = 1024 * 1024;

const fleet = useFleet(['src1', 'dst1', 'flaky']);
let daemon: DaemonProc | undefined;
/** Local side (read and written by scoutd as this process's user). */
let local: string;
/** Remote side: a directory owned by the remote user, visible to this (root) process at the same path. */
let remote: string;
let bigFile: string;
let bigSha: string;

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Leftover temp names (`.NAME.scout-XXXX.tmp/.old`) in a directory. */
function temps(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.includes('.scout-'));
}

function vmRssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

beforeAll(async () => {
  local = path.join(fleet.root, 'local');
  remote = path.join(fleet.root, 'remote');
  fs.mkdirSync(local);
  await pexec('install', ['-d', '-o', fleet.user, remote]);
  // 100 MB of random bytes, written in 1 MiB pieces (never all in memory).
  bigFile = path.join(local, 'big.bin');
  const fd = fs.openSync(bigFile, 'w');
  for (let i = 0; i < BIG / MiB; i++) fs.writeSync(fd, randomBytes(MiB));
  fs.closeSync(fd);
  bigSha = await sha256(bigFile);
});

describe('100 MB files', () => {
  it('put, get and a remote-to-remote copy are byte-exact; the copy keeps the daemon small', async () => {
    daemon = await fleet.startDaemon();
    const client = await daemon.client();
    const onHost = path.join(remote, 'big-put.bin');
    const put = await client.call('transfer.put', { host: 'src1', localPath: bigFile, remotePath: onHost });
    expect(put).toMatchObject({ bytes: BIG, files: 1, path: onHost });
    expect(await sha256(onHost)).toBe(bigSha);

    const back = path.join(local, 'big-get.bin');
    const get = await client.call('transfer.get', { host: 'src1', remotePath: onHost, localPath: back });
    expect(get).toMatchObject({ bytes: BIG, files: 1, path: back });
    expect(await sha256(back)).toBe(bigSha);

    // Remote to remote between two fleet hosts, sampling the daemon's resident memory while it runs.
    const copied = path.join(remote, 'big-copy.bin');
    const before = vmRssBytes(daemon.pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, vmRssBytes(daemon!.pid))), 20);
    let copy: TransferResult;
    try {
      copy = await client.call('transfer.copy', { from: { host: 'src1', path: onHost }, to: { host: 'dst1', path: copied } });
    } finally {
      clearInterval(sampler);
    }
    expect(copy).toMatchObject({ bytes: BIG, files: 1, path: copied });
    expect(await sha256(copied)).toBe(bigSha);
    expect(peak - before, `RSS grew from ${before} to ${peak}`).toBeLessThan(64 * MiB);
    expect(temps(remote)).toEqual([]);
    expect(temps(local)).toEqual([]);
    client.close();
  });

  it('progress notifications arrive during the transfer, only grow, and end at the total', async () => {
    daemon = await fleet.startDaemon();
    const client = await daemon.client();
    const events: TransferProgress[] = [];
    const dest = path.join(remote, 'big-progress.bin');
    const r = await client.call(
      'transfer.put',
      { host: 'dst1', localPath: bigFile, remotePath: dest },
      {
        onNotification: (m, p) => {
          if (m === 'transfer.progress') events.push(p as unknown as TransferProgress);
        },
      },
    );
    expect(r.bytes).toBe(BIG);
    expect(events.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < events.length; i++) expect(events[i].bytes).toBeGreaterThan(events[i - 1].bytes);
    expect(events.every((e) => e.totalBytes === BIG && e.file === bigFile)).toBe(true);
    expect(events.at(-1)!.bytes).toBe(BIG);
    expect(events[0].bytes).toBeLessThan(BIG);
    client.close();
  });
});

describe('trees', () => {
  it('a directory with nested dirs, an empty dir, a symlink and modes 0600/0755 round-trips', async () => {
    const tree = path.join(local, 'tree');
    fs.mkdirSync(path.join(tree, 'sub', 'nested'), { recursive: true });
    fs.mkdirSync(path.join(tree, 'empty'));
    fs.writeFileSync(path.join(tree, 'sub', 'nested', 'deep.txt'), 'deep\n');
    fs.writeFileSync(path.join(tree, 'secret'), 'key material\n');
    fs.chmodSync(path.join(tree, 'secret'), 0o600);
    fs.writeFileSync(path.join(tree, 'run.sh'), '#!/bin/sh\necho hi\n');
    fs.chmodSync(path.join(tree, 'run.sh'), 0o755);
    fs.chmodSync(path.join(tree, 'sub'), 0o700);
    fs.chmodSync(tree, 0o755);
    fs.symlinkSync('sub/nested/deep.txt', path.join(tree, 'link'));

    daemon = await fleet.startDaemon();
    const client = await daemon.client();
    const onHost = path.join(remote, 'tree');
    const put = await client.call('transfer.put', { host: 'src1', localPath: tree, remotePath: onHost, recursive: true });
    expect(put).toMatchObject({ files: 3, path: onHost });
    // On the host, as the remote user wrote it.
    expect(fs.statSync(path.join(onHost, 'secret')).mode & 0o777).toBe(0o600);
    expect(fs.readlinkSync(path.join(onHost, 'link'))).toBe('sub/nested/deep.txt');
    expect((await fleet.runAsUser(`cat ${onHost}/link`)).stdout).toBe('deep\n');

    const back = path.join(local, 'tree-back');
    await client.call('transfer.get', { host: 'src1', remotePath: onHost, localPath: back, recursive: true });
    const describeTree = (root: string) => {
      const out: string[] = [];
      const walk = (rel: string) => {
        for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
          const r = path.join(rel, name);
          const st = fs.lstatSync(path.join(root, r));
          if (st.isSymbolicLink()) out.push(`${r} -> ${fs.readlinkSync(path.join(root, r))}`);
          else if (st.isDirectory()) {
            out.push(`${r}/ ${(st.mode & 0o7777).toString(8)}`);
            walk(r);
          } else out.push(`${r} ${(st.mode & 0o7777).toString(8)} ${fs.readFileSync(path.join(root, r), 'utf8')}`);
        }
      };
      walk('');
      return { mode: (fs.statSync(root).mode & 0o7777).toString(8), out };
    };
    expect(describeTree(back)).toEqual(describeTree(tree));
    expect(describeTree(onHost)).toEqual(describeTree(tree));
    expect(describeTree(back).out).toEqual(expect.arrayContaining(['empty/ 755', 'secret 600 key material\n', 'run.sh 755 #!/bin/sh\necho hi\n', 'sub/ 700', 'link -> sub/nested/deep.txt']));

    // Put into the parent directory (like cp -r): the existing remote tree is replaced as a whole, so a file
    // removed locally is gone remotely too.
    fs.rmSync(path.join(tree, 'run.sh'));
    const again = await client.call('transfer.put', { host: 'src1', localPath: tree, remotePath: remote, recursive: true });
    expect(again.path).toBe(onHost);
    expect(fs.existsSync(path.join(onHost, 'run.sh'))).toBe(false);
    expect(fs.readFileSync(path.join(onHost, 'secret'), 'utf8')).toBe('key material\n');
    expect(temps(remote)).toEqual([]);
    client.close();
  });

  it('a directory without recursive, and a relative local path, are refused with codes', async () => {
    daemon = await fleet.startDaemon();
    const client = await daemon.client();
    const e = await expectCode(client.call('transfer.get', { host: 'src1', remotePath: remote, localPath: path.join(local, 'x') }), 'REMOTE_IO');
    expect(e.details.reason).toBe('is-directory');
    await expectCode(client.call('transfer.put', { host: 'src1', localPath: 'big.bin', remotePath: path.join(remote, 'x') }), 'LOCAL_PATH');
    await expectCode(client.call('transfer.get', { host: 'src1', remotePath: path.join(remote, 'missing'), localPath: path.join(local, 'x') }), 'REMOTE_NOT_FOUND');
    await fleet.runAsUser(`printf x > ${remote}/one-byte`);
    const noDir = await expectCode(client.call('transfer.get', { host: 'src1', remotePath: `${remote}/one-byte`, localPath: path.join(local, 'no', 'such', 'x') }), 'LOCAL_PATH');
    expect(noDir.details).toMatchObject({ path: path.join(local, 'no', 'such'), reason: 'not-found' });
    client.close();
  });
});

describe('interrupted transfers leave the old destination and no temp file', () => {
  it('sshd killed during a put: CONNECTION_LOST, old remote file intact, remote temp removed once the host is back', async () => {
    const dest = path.join(remote, 'victim-put.bin');
    await fleet.runAsUser(`printf old > ${dest}`);
    daemon = await fleet.startDaemon();
    const client = await daemon.client();
    const server = fleet.server('flaky');
    let killed: Promise<void> | undefined;
    const call = client.call(
      'transfer.put',
      { host: 'flaky', localPath: bigFile, remotePath: dest },
      {
        onNotification: (m, p) => {
          if (m === 'transfer.progress' && (p.bytes as number) > 0 && !killed) killed = server.kill9();
        },
      },
    );
    await expectCode(call, 'CONNECTION_LOST');
    await killed;
    expect(fs.readFileSync(dest, 'utf8')).toBe('old');
    expect(temps(local)).toEqual([]);
    // The host is gone, so its temp file can only go when it is back: scoutd retries in the background.
    expect(temps(remote)).toHaveLength(1);
    await server.start();
    await until(() => temps(remote).length === 0, 20_000, 'the remote temp file to be removed');
    expect(fs.readFileSync(dest, 'utf8')).toBe('old');
    client.close();
  });

  it('sshd killed during a get: a coded error, old local file intact, no local temp file', async () => {
    const src = path.join(remote, 'big-get-src.bin');
    fs.copyFileSync(bigFile, src);
    fs.chmodSync(src, 0o644);
    const dest = path.join(local, 'victim-get.bin');
    fs.writeFileSync(dest, 'old');
    daemon = await fleet.startDaemon();
    const client = await daemon.client();
    const server = fleet.server('flaky');
    await server.start();
    let killed: Promise<void> | undefined;
    const call = client.call(
      'transfer.get',
      { host: 'flaky', remotePath: src, localPath: dest },
      {
        onNotification: (m, p) => {
          if (m === 'transfer.progress' && (p.bytes as number) > 0 && !killed) killed = server.kill9();
        },
      },
    );
    await expectCode(call, 'CONNECTION_LOST');
    await killed;
    expect(fs.readFileSync(dest, 'utf8')).toBe('old');
    expect(temps(local)).toEqual([]);
    await server.start();
    client.close();
  });

  it('$/cancel during a put: CANCELLED, old file intact, temp file already gone when the call returns', async () => {
    const dest = path.join(remote, 'victim-cancel.bin');
    await fleet.runAsUser(`printf old > ${dest}`);
    daemon = await fleet.startDaemon();
    const client = await daemon.client();
    const ac = new AbortController();
    const call = client.call(
      'transfer.put',
      { host: 'dst1', localPath: bigFile, remotePath: dest },
      {
        signal: ac.signal,
        onNotification: (m, p) => {
          if (m === 'transfer.progress' && (p.bytes as number) > 0) ac.abort();
        },
      },
    );
    await expectCode(call, 'CANCELLED');
    expect(fs.readFileSync(dest, 'utf8')).toBe('old');
    expect(temps(remote)).toEqual([]);
    client.close();
  });

  it('a client that disconnects mid-transfer: the temp file is removed and the old file stays', async () => {
    const dest = path.join(remote, 'victim-disconnect.bin');
    await fleet.runAsUser(`printf old > ${dest}`);
    daemon = await fleet.startDaemon();
    const client = await daemon.client();
    const call = client.call(
      'transfer.put',
      { host: 'dst1', localPath: bigFile, remotePath: dest },
      {
        onNotification: (m, p) => {
          if (m === 'transfer.progress' && (p.bytes as number) > 0) client.close();
        },
      },
    );
    await expectCode(call, 'DAEMON_UNAVAILABLE');
    // Nobody is left to answer, so there is no event: poll the daemon's clean-up with a bound.
    await until(() => temps(remote).length === 0, 10_000, 'the temp file of the abandoned put to be removed');
    expect(fs.readFileSync(dest, 'utf8')).toBe('old');
  });
});

describe('scoutctl get / put / cp', () => {
  it('copies files, prints a summary without a bar when not on a terminal, and --json gives the result', async () => {
    daemon = await fleet.startDaemon();
    const small = path.join(local, 'small.txt');
    fs.writeFileSync(small, 'hello fleet\n');
    fs.chmodSync(small, 0o640);
    const onHost = path.join(remote, 'small.txt');
    const put = await scoutctl(['put', small, `src1:${onHost}`], daemon.env);
    expect(put.stderr).toContain(`${small} → src1:${onHost}: 12 B in 1 file`);
    expect(put.stderr).not.toContain('\r');
    expect(put.code).toBe(0);
    expect(fs.statSync(onHost).mode & 0o777).toBe(0o640);

    const cp = await scoutctl(['cp', `src1:${onHost}`, `dst1:${remote}/small-copy.txt`, '--json'], daemon.env);
    expect(cp.code).toBe(0);
    expect(JSON.parse(cp.stdout)).toMatchObject({ bytes: 12, files: 1, path: `${remote}/small-copy.txt` });

    // An existing local directory receives the file inside it, like cp and scp.
    const into = path.join(local, 'into');
    fs.mkdirSync(into);
    const get = await scoutctl(['get', `dst1:${remote}/small-copy.txt`, into], daemon.env);
    expect(get.code).toBe(0);
    expect(fs.readFileSync(path.join(into, 'small-copy.txt'), 'utf8')).toBe('hello fleet\n');

    const bad = await scoutctl(['get', `dst1:${remote}/nope`, into], daemon.env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('[REMOTE_NOT_FOUND]');
  });
});
