// Large files move through `cat` on an exec channel (RemoteFs.streamFile / streamIn) and fall back to SFTP on
// a host where an exec channel does not run what it is asked: byte-exact either way, nothing left behind.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ScoutClient } from '../src/client/client.js';
import { STREAM_MIN_BYTES } from '../src/ssh/transfer.js';
import { expectCode, until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

const pexec = promisify(execFile);
const MiB = 1024 * 1024;
const FALLBACK_LOG = 'read it over SFTP instead';

// sftponly: sshd runs internal-sftp for every session, as hosts that offer file access only do. An exec
// channel opens there but runs the SFTP server instead of the command.
const fleet = useFleet(['s1', 'sftponly'], { perHost: { sftponly: { config: ['ForceCommand internal-sftp'] } } });
let local: string;
let remote: string;
/** 2 × STREAM_MIN_BYTES of random bytes: big enough to stream. */
let file: string;
let bytes: Buffer;

/** Leftover temp names (`.NAME.scout-XXXX.tmp`) in a directory. */
function temps(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.includes('.scout-'));
}

/** Processes (any user) whose command line contains `text`. */
async function running(text: string): Promise<string[]> {
  const r = await pexec('pgrep', ['-af', text]).catch(() => ({ stdout: '' }));
  return r.stdout.split('\n').filter((l) => l && !l.includes('pgrep'));
}

/**
 * Put `file` on `host` as `name` and get it back: both byte-exact with the mode kept (0640) and the byte count
 * in the result. Returns the remote path.
 */
async function roundTrip(client: ScoutClient, host: string, name: string): Promise<string> {
  const onHost = path.join(remote, name);
  const put = await client.call('transfer.put', { host, localPath: file, remotePath: onHost });
  expect(put.bytes).toBe(bytes.length);
  expect(fs.readFileSync(onHost).equals(bytes)).toBe(true);
  expect(fs.statSync(onHost).mode & 0o777).toBe(0o640);
  const back = path.join(local, `back-${name}`);
  const get = await client.call('transfer.get', { host, remotePath: onHost, localPath: back });
  expect(get.bytes).toBe(bytes.length);
  expect(fs.readFileSync(back).equals(bytes)).toBe(true);
  expect(fs.statSync(back).mode & 0o777).toBe(0o640);
  return onHost;
}

beforeAll(async () => {
  local = path.join(fleet.root, 'local');
  remote = path.join(fleet.root, 'remote');
  fs.mkdirSync(local);
  await pexec('install', ['-d', '-o', fleet.user, remote]);
  bytes = randomBytes(2 * STREAM_MIN_BYTES);
  file = path.join(local, 'stream.bin');
  fs.writeFileSync(file, bytes, { mode: 0o640 });
});

describe('large files stream through cat', () => {
  it('get and put are byte-exact, keep the mode, leave no temp file and no cat behind, and did not fall back', async () => {
    const daemon = await fleet.startDaemon();
    const client = await daemon.client();
    const onHost = await roundTrip(client, 's1', 'up.bin');
    expect(temps(remote)).toEqual([]);
    expect(temps(local)).toEqual([]);
    expect(await running(`cat -- ${onHost}`)).toEqual([]);
    expect(daemon.logs()).not.toContain(FALLBACK_LOG);
    client.close();
  });

  it('$/cancel during a streamed get: CANCELLED, the remote cat is gone, no local temp, the old file intact', async () => {
    // Big enough to be mid-stream at the first progress update.
    const huge = path.join(remote, 'huge.bin');
    await fleet.runAsUser(`head -c ${256 * MiB} /dev/zero > ${huge}`);
    const dest = path.join(local, 'cancelled.bin');
    fs.writeFileSync(dest, 'old');
    const daemon = await fleet.startDaemon();
    const client = await daemon.client();
    const ac = new AbortController();
    const call = client.call(
      'transfer.get',
      { host: 's1', remotePath: huge, localPath: dest },
      { signal: ac.signal, onNotification: (m, p) => m === 'transfer.progress' && (p.bytes as number) > 0 && ac.abort() },
    );
    await expectCode(call, 'CANCELLED');
    expect(fs.readFileSync(dest, 'utf8')).toBe('old');
    expect(temps(local)).toEqual([]);
    await until(async () => (await running(`cat -- ${huge}`)).length === 0, 3000, 'the remote cat to end');
    fs.rmSync(huge);
    client.close();
  });
});

describe('a host whose exec channels do not run the command', () => {
  it('get and put fall back to SFTP: byte-exact, nothing left behind, the reason logged', async () => {
    const daemon = await fleet.startDaemon();
    const client = await daemon.client();
    await roundTrip(client, 'sftponly', 'sftp-up.bin');

    expect(temps(remote)).toEqual([]);
    expect(temps(local)).toEqual([]);
    expect(daemon.logs()).toContain(FALLBACK_LOG);
    client.close();
  });
});
