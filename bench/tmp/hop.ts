import fs from 'node:fs';
import { socketIn, startDaemon } from '../../test/fixtures/daemon.js';
import { startFleet } from '../../test/fixtures/sshd.js';
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p / 100 * xs.length)];
const fleet = await startFleet(['clean']);
try {
  const prof = process.argv.includes('--prof');
  const env = fleet.env({ SCOUT_SOCKET: socketIn(fleet.root), ...(prof ? { NODE_OPTIONS: `--require ${process.cwd()}/bench/tmp/prof.cjs` } : {}) });
  const daemon = await startDaemon(env);
  const client = await daemon.client();
  await client.call('ssh.exec', { host: 'clean', command: 'true', mode: 'on' });
  for (const [label, method, params] of [['hello', 'daemon.hello', { protocol: 1 }], ['hosts.list', 'hosts.list', {}], ['exec on', 'ssh.exec', { host: 'clean', command: 'true', mode: 'on' }], ['exec off', 'ssh.exec', { host: 'clean', command: 'true', mode: 'off' }]] as const) {
    const times: number[] = [];
    for (let i = 0; i < (prof ? 1000 : 300); i++) {
      const t = performance.now();
      await client.call(method, params).catch((e) => { if (i === 0) console.log(label, e.message); });
      times.push(performance.now() - t);
    }
    console.log(label.padEnd(10), 'p50', pct(times, 50).toFixed(3), 'p90', pct(times, 90).toFixed(3));
  }
  client.close();
  await daemon.stop();
  console.log(daemon.logs().split('\n').slice(-4).join('\n').slice(0, 600));
} finally { await fleet.cleanup(); }
