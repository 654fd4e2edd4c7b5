// Tuning aid, not part of `npm run bench`: SFTP read throughput of the transfer pipeline on a raw ssh2
// connection for a sweep of chunk size × requests in flight (how 128 KiB × 16 was chosen, see
// src/ssh/transfer.ts). transfer.get against scp is row 9 of bench/run.ts.
// Run: npm run build:bench && node dist-bench/bench/sweep.js
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import ssh2 from 'ssh2';
import { RemoteFs, LocalFs, transfer } from '../src/ssh/transfer.js';
import { startFleet } from '../test/fixtures/sshd.js';

const pexec = promisify(execFile);
const SIZE = 100 * 1024 * 1024;
const fleet = await startFleet(['bench1']);
try {
  const srv = fleet.server('bench1');
  const remoteDir = path.join(fleet.root, 'remote');
  await pexec('install', ['-d', '-o', fleet.user, remoteDir]);
  const src = path.join(remoteDir, 'big.bin');
  const local = path.join(fleet.root, 'local-big.bin');
  const fd = fs.openSync(local, 'w');
  for (let i = 0; i < SIZE / (1 << 20); i++) fs.writeSync(fd, randomBytes(1 << 20));
  fs.closeSync(fd);
  await fleet.runAsUser(`cat ${local} > ${src}`);
  const mbps = (ms: number) => (SIZE / (1 << 20) / (ms / 1000)).toFixed(0);

  // A raw ssh2 connection with TCP_NODELAY, as scoutd has.
  const conn = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', () => resolve()).once('error', reject);
    const sock = net.connect({ host: '127.0.0.1', port: srv.port });
    sock.setNoDelay(true);
    conn.connect({ sock, username: fleet.user, privateKey: fs.readFileSync(fleet.clientKeyPath) });
  });
  const sftp = await new Promise<ssh2.SFTPWrapper>((res, rej) => conn.sftp((e, s) => (e ? rej(e) : res(s))));
  const lost = new AbortController().signal;
  for (const chunk of [32, 64, 128, 256]) {
    for (const inFlight of [8, 16, 32, 64]) {
      const dest = path.join(fleet.root, `sweep.bin`);
      const t = performance.now();
      await transfer({ src: new RemoteFs(sftp, 'bench1', lost), srcPath: src, dst: new LocalFs(), dstPath: dest, recursive: false, chunkBytes: chunk * 1024, inFlight });
      const ms = performance.now() - t;
      console.log(`chunk ${chunk} KiB × ${inFlight}: ${ms.toFixed(0)} ms = ${mbps(ms)} MB/s`);
      fs.rmSync(dest);
    }
  }
  conn.end();
} finally {
  await fleet.cleanup();
}
