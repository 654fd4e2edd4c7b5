// Latency of `ssh.exec true` through a real scoutd on a warm connection: the warm-shell fast path (mode on)
// against an exec channel per command (mode off) and against OpenSSH's ControlMaster (`ssh HOST true` over a
// live master), for two remote users:
//   clean   the fleet's test user, /bin/sh (dash) with no rc file;
//   slowrc  a bash user whose ~/.bashrc sleeps 200 ms (bash started by sshd sources ~/.bashrc even for a
//           non-interactive command: Debian builds bash with SSH_SOURCE_BASHRC). The bench checks it does.
// Needs root for the second user (it is created once: scout-bench, /bin/bash); without root only `clean` runs.
// Run: npm run build && npx tsx bench/exec-latency.ts [--runs 200]
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ExecResult } from '../src/protocol/methods/index.js';
import { socketIn, startDaemon } from '../test/fixtures/daemon.js';
import { startFleet } from '../test/fixtures/sshd.js';

const pexec = promisify(execFile);
const BENCH_USER = 'scout-bench';
const RC_SLEEP_S = 0.2;
const argRuns = process.argv.indexOf('--runs');
const RUNS = argRuns > 0 ? Number(process.argv[argRuns + 1]) : 200;
/** Runs for paths that pay the 200 ms rc each time: enough for a stable median without minutes of waiting. */
const SLOW_RUNS = Math.min(RUNS, 25);

const isRoot = process.getuid?.() === 0;

function ensureBenchUser(): boolean {
  if (!isRoot) return false;
  if (spawnSync('getent', ['passwd', BENCH_USER]).status !== 0) {
    const r = spawnSync('useradd', ['-m', '-s', '/bin/bash', '-p', '*', BENCH_USER], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`useradd ${BENCH_USER}: ${r.stderr}`);
  }
  const home = spawnSync('getent', ['passwd', BENCH_USER], { encoding: 'utf8' }).stdout.split(':')[5];
  // Nothing but the delay: the point is the cost of a login shell rc that loads a version manager.
  fs.writeFileSync(path.join(home, '.bashrc'), `sleep ${RC_SLEEP_S}\n`);
  return true;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const fmt = (ms: number) => `${ms.toFixed(2).padStart(8)} ms`;

const withSlow = ensureBenchUser();
const names = withSlow ? ['clean', 'slowrc'] : ['clean'];
// The fixture's AllowUsers names only its test user; sshd merges AllowUsers lines, so the bench user is added.
const fleet = await startFleet(names, withSlow ? { perHost: { slowrc: { config: [`AllowUsers ${BENCH_USER}`] } } } : {});
const rows: Array<{ host: string; path: string; min: number; p50: number; p90: number; runs: number }> = [];
try {
  if (withSlow) fleet.writeConfig({ slowrc: [`User ${BENCH_USER}`] });
  const daemon = await startDaemon(fleet.env({ SCOUT_SOCKET: socketIn(fleet.root) }));
  const client = await daemon.client();
  try {
    for (const host of names) {
      // Warm the connection and the resident shells (the first fast call pays the rc once).
      const probe = await client.call<ExecResult>('ssh.exec', { host, command: 'echo "$0"; id -un', mode: 'off' });
      await client.call('ssh.exec', { host, command: 'true', mode: 'on' });
      if (host === 'slowrc') {
        const t = performance.now();
        await client.call('ssh.exec', { host, command: 'true', mode: 'off' });
        const once = performance.now() - t;
        if (once < RC_SLEEP_S * 1000) throw new Error(`the slow rc did not run for ${BENCH_USER} (exec took ${once.toFixed(1)} ms; shell ${probe.stdout.trim()})`);
      }
      for (const mode of ['on', 'off'] as const) {
        const runs = host === 'slowrc' && mode === 'off' ? SLOW_RUNS : RUNS;
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          const t = performance.now();
          const r = await client.call<ExecResult>('ssh.exec', { host, command: 'true', mode });
          times.push(performance.now() - t);
          if (r.exitCode !== 0 || r.via !== (mode === 'on' ? 'warm-shell' : 'exec-channel')) throw new Error(`unexpected result ${JSON.stringify(r)}`);
        }
        rows.push({ host, path: mode === 'on' ? 'scout fast path' : 'scout exec channel', min: Math.min(...times), p50: pct(times, 50), p90: pct(times, 90), runs });
      }

      // OpenSSH with a live ControlMaster: each `ssh HOST true` is a new process and a new session on the master.
      const ctl = path.join(fleet.root, `cm-${host}`);
      const sshArgs = ['-F', fleet.sshConfigPath, '-o', `ControlPath=${ctl}`, '-o', 'BatchMode=yes'];
      await pexec('ssh', [...sshArgs, '-o', 'ControlMaster=yes', '-o', 'ControlPersist=120', '-f', '-N', host], { env: fleet.env() });
      const runs = host === 'slowrc' ? SLOW_RUNS : Math.min(RUNS, 50);
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        await pexec('ssh', [...sshArgs, host, 'true'], { env: fleet.env() });
        times.push(performance.now() - t);
      }
      rows.push({ host, path: 'ssh + ControlMaster', min: Math.min(...times), p50: pct(times, 50), p90: pct(times, 90), runs });
      await pexec('ssh', [...sshArgs, '-O', 'exit', host], { env: fleet.env() }).catch(() => undefined);
    }
  } finally {
    client.close();
    await daemon.stop();
  }
} finally {
  await fleet.cleanup();
}

console.log(`ssh.exec true on a warm connection (${RUNS} runs; ${SLOW_RUNS} where each run pays the 200 ms rc); load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`);
console.log(`${'user'.padEnd(8)} ${'path'.padEnd(20)} ${'min'.padStart(11)} ${'p50'.padStart(11)} ${'p90'.padStart(11)}  runs`);
for (const r of rows) console.log(`${r.host.padEnd(8)} ${r.path.padEnd(20)} ${fmt(r.min)} ${fmt(r.p50)} ${fmt(r.p90)}  ${r.runs}`);
for (const host of names) {
  const fast = rows.find((r) => r.host === host && r.path === 'scout fast path')!;
  const chan = rows.find((r) => r.host === host && r.path === 'scout exec channel')!;
  console.log(`${host}: fast path / exec channel = ${(fast.p50 / chan.p50).toFixed(2)}`);
}
