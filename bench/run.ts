// `npm run bench`: Scout against the tools a user would otherwise reach for, side by side in one run on the
// same machine (DESIGN.md, "Tests and benchmarks"; issue 10). Starts its own loopback sshd fleet (the test
// fixture, clean-shell user; as root also a bash user with a slow ~/.bashrc for row 11, issue 11's warm-shell
// rows) and a real scoutd from dist/, measures, prints a Markdown table and writes the same as JSON to
// bench/results/<date>-<short sha>.json (`-quick` suffix for --quick, `-smoke` for --smoke).
//
//   npm run bench                 full run (a few minutes)
//   npm run bench -- --quick      short run (< 60 s): fewer samples, 10 MB instead of 100 MB transfers
//   npm run bench -- --smoke      every row once or a few times (the test suite's end-to-end check; no figure
//                                 of it means anything)
//   npm run bench -- --out DIR    write the JSON elsewhere
//   npm run bench -- --only 9,14  only the steps that measure these rows (their fleet, daemon and ControlMaster
//                                 as in a full run), with the full run's sample counts unless --quick; only
//                                 the targets over those rows; the JSON gets an `-only9,14` suffix
//
// Runs as compiled JS (tsconfig.bench.json → dist-bench/), never through tsx: a transpiler in the measuring
// process would distort the raw ssh2 floor.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import ssh2 from 'ssh2';
import type { ScoutClient } from '../src/client/client.js';
import { isScoutError } from '../src/protocol/errors.js';
import { FLEET_OUTPUT_BUDGET, type StatusResult } from '../src/protocol/methods/index.js';
import { isOpenRefusal } from '../src/ssh/errors.js';
import { ROOT, SCOUTCTL, socketIn, startDaemon, type DaemonProc } from '../test/fixtures/daemon.js';
import { ensureUser, startFleet, type Fleet } from '../test/fixtures/sshd.js';
import type { SpawnDone, SpawnJob } from './spawner.js';
import { compare, round, summarize, table, target, type BenchResult, type Row, type Target } from './report.js';

// ---------------------------------------------------------------------------------------------------------
// Sizes of the run

interface Plan {
  /** Sequential warm execs per kind (daemon, raw ssh2), in interleaved blocks of BLOCK. */
  warmExecs: number;
  muxExecs: number;
  coldExecs: number;
  processStarts: number;
  /** Rounds of 100 concurrent execs. */
  concurrencyRounds: number;
  fanouts: number;
  transferBytes: number;
  transferRounds: number;
  fsReads: number;
  /** Let the daemon's heap settle after opening connections before RSS is read (no event says "settled"). */
  rssSettleMs: number;
  /** RSS readings per step (their median is the figure). */
  rssSamples: number;
  /** Row 11, per user: `ssh.exec true` mode on (fast path); for the clean user also mode off. */
  shellFast: number;
  /** Row 11, clean user: `ssh -S <mux> host true`. */
  shellMux: number;
  /** Row 11, slow-rc user: mode off and ControlMaster samples, each paying the 200 ms rc. */
  shellSlow: number;
  /** Row 13: `scoutctl shell` sessions opened, and keystrokes echoed per kind (scoutd, raw ssh2). */
  ttyOpens: number;
  keystrokes: number;
  /** Row 15: aliases (each a connection of its own) spread over MANY_SERVERS sshd; 0 skips the row. */
  manyHosts: number;
}

const FULL: Plan = {
  warmExecs: 1000,
  muxExecs: 250,
  coldExecs: 30,
  processStarts: 30,
  concurrencyRounds: 10,
  fanouts: 200,
  transferBytes: 100 * 1024 * 1024,
  transferRounds: 5,
  fsReads: 200,
  rssSettleMs: 1_000,
  rssSamples: 5,
  shellFast: 500,
  shellMux: 100,
  shellSlow: 25,
  ttyOpens: 50,
  keystrokes: 500,
  manyHosts: 1000,
};
const QUICK: Plan = {
  warmExecs: 100,
  muxExecs: 20,
  coldExecs: 3,
  processStarts: 3,
  concurrencyRounds: 1,
  fanouts: 10,
  transferBytes: 10 * 1024 * 1024,
  transferRounds: 1,
  fsReads: 20,
  rssSettleMs: 300,
  rssSamples: 1,
  shellFast: 100,
  shellMux: 10,
  shellSlow: 5,
  ttyOpens: 10,
  keystrokes: 100,
  // A thousand hosts start 2,000 sshd processes and take a minute: full runs only.
  manyHosts: 0,
};

/** The fewest samples that still run every row: test/bench.test.ts checks the bench works end to end with it. */
const SMOKE: Plan = {
  ...QUICK,
  warmExecs: 20,
  muxExecs: 5,
  coldExecs: 2,
  processStarts: 2,
  fanouts: 5,
  transferBytes: 2 * 1024 * 1024,
  fsReads: 5,
  rssSettleMs: 100,
  shellFast: 20,
  shellMux: 3,
  shellSlow: 2,
  ttyOpens: 3,
  keystrokes: 20,
};

/** Calls of each scoutd kind in row 6 before its samples: a fresh client's 1 MB reads settle within ~50. */
const FS_WARM_CALLS = 60;

/** Interleave kinds in blocks of this many samples, so a burst of load from elsewhere hits all of them. */
const BLOCK = 50;
const CONCURRENT = 100;
/** Channels in flight on the raw ssh2 comparison (the issue's "raw ssh2 with 8 channels"). */
const RAW_CHANNELS = 8;
const FLEET_SIZE = 10;
/** Row 15's sshd servers (the aliases are spread over them, as a large fleet spreads over machines). */
const MANY_SERVERS = 20;
/** Row 15's warm runs over every host. */
const MANY_WARM_RUNS = 3;
const POOLED_STEPS = [1, 10, 50];
const RSS_SAMPLE_GAP_MS = 200;
const MUX_READY_TIMEOUT_MS = 10_000;
/**
 * Row 11's second remote user: bash, whose ~/.bashrc only sleeps RC_SLEEP_MS, standing for a login rc that
 * loads a version manager. bash started by sshd sources ~/.bashrc even for a non-interactive command (Debian
 * builds it with SSH_SOURCE_BASHRC); the bench checks that it does before measuring. Created with useradd,
 * so root only; it is allowed on b1 only and reached through the alias SLOW_RC_HOST.
 */
const SLOW_RC_USER = 'scout-bench';
const SLOW_RC_HOST = 'slowrc';
const RC_SLEEP_MS = 200;

// ---------------------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  const r = await fn();
  // A process's own time, as the spawner took it (without the pipe to it).
  return r instanceof ProcTime ? r.ms : performance.now() - t;
}

/** How long a process the spawner ran took, spawn to close. */
class ProcTime {
  constructor(readonly ms: number) {}
}

/** bench/spawner.ts as a child of this process: started on first use, unreferenced while it has nothing to run. */
class Spawner {
  private child: ChildProcess | undefined;
  private next = 0;
  private readonly pending = new Map<number, (d: SpawnDone) => void>();

  run(job: Omit<SpawnJob, 'id'>): Promise<SpawnDone> {
    const child = this.start();
    const id = ++this.next;
    if (this.pending.size === 0) this.hold(true);
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      child.stdin!.write(`${JSON.stringify({ ...job, id })}\n`);
    });
  }

  private start(): ChildProcess {
    if (this.child) return this.child;
    const child = spawn(process.execPath, [path.join(ROOT, 'dist-bench', 'bench', 'spawner.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      for (const [id, resolve] of this.pending) resolve({ id, ms: 0, code: null, signal: null, stderr: '', error: `the spawner exited (${code ?? signal})` });
      this.pending.clear();
    });
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const done = JSON.parse(buf.slice(0, nl)) as SpawnDone;
        buf = buf.slice(nl + 1);
        this.pending.get(done.id)?.(done);
        this.pending.delete(done.id);
        if (this.pending.size === 0) this.hold(false);
      }
    });
    this.child = child;
    return child;
  }

  /** Keep the event loop alive only while a job runs, so the bench exits on its own when done. */
  private hold(on: boolean): void {
    const c = this.child;
    if (!c) return;
    for (const h of [c, c.stdin, c.stdout] as Array<{ ref?: () => void; unref?: () => void } | null>) (on ? h?.ref : h?.unref)?.call(h);
  }
}

const spawner = new Spawner();

/**
 * Run a process to its end, started by the spawner (bench/spawner.ts: a fork from this process would slow the
 * scoutd client measured here); rejects on a non-zero exit (a failed sample must not count as a fast one).
 */
async function runProc(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: string; stdout?: string } = {}): Promise<ProcTime> {
  const d = await spawner.run({ cmd, args, ...opts });
  if (d.error || d.code !== 0) throw new Error(`${cmd} ${args.join(' ')} ${d.error ?? `exited ${d.code ?? d.signal}`}: ${d.stderr.trim()}`);
  return new ProcTime(d.ms);
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

async function settledRss(pid: number, plan: Plan): Promise<number> {
  await sleep(plan.rssSettleMs);
  const samples: number[] = [];
  for (let i = 0; i < plan.rssSamples; i++) {
    samples.push(rssKb(pid));
    await sleep(RSS_SAMPLE_GAP_MS);
  }
  return summarize(samples).p50;
}

function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `loadavg ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`;
  }
}

function gitInfo(): { sha: string; dirty: boolean } {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--', '.', ':!bench/results'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return { sha, dirty: status.length > 0 };
  } catch {
    return { sha: 'nogit', dirty: false };
  }
}

function versionOf(cmd: string, args: string[]): string {
  // `ssh -V` prints its version on stderr.
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] || 'unknown';
}

function machine(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    ssh: versionOf('ssh', ['-V']),
    ssh2: readVersion('ssh2'),
  };
}

function readVersion(pkg: string): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------------------
// The raw ssh2 floor: a connection in this process with the socket options scoutd uses (TCP_NODELAY).

async function rawConnect(fleet: Fleet, host: string): Promise<ssh2.Client> {
  const conn = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', () => resolve()).once('error', reject);
    const sock = net.connect({ host: '127.0.0.1', port: fleet.server(host).port });
    sock.setNoDelay(true); // as scoutd does (src/ssh/connection.ts)
    conn.connect({ sock, username: fleet.user, privateKey: fs.readFileSync(fleet.clientKeyPath) });
  });
  return conn;
}

/** Where one raw exec's time goes: channel open + exec request, the command until exit-status, then close. */
interface Phases {
  open: number;
  run: number;
  close: number;
}

/** One exec with stdin closed and output drained, as scoutd runs it; resolves with the exit code. */
function rawExec(conn: ssh2.Client, command: string, phases?: Phases[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    conn.exec(command, (err, stream) => {
      if (err) return reject(err);
      const t1 = performance.now();
      let t2 = t1;
      let code: number | null = null;
      stream.on('exit', (c: number | null) => {
        code = c;
        t2 = performance.now();
      });
      stream.on('close', () => {
        phases?.push({ open: t1 - t0, run: t2 - t1, close: performance.now() - t2 });
        resolve(code);
      });
      stream.on('data', () => {});
      stream.stderr.on('data', () => {});
      stream.end();
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// The bench

interface Ctx {
  fleet: Fleet;
  plan: Plan;
  daemon: DaemonProc;
  client: ScoutClient;
  raw: ssh2.Client;
  ssh: string[];
  mux: string[];
  remoteDir: string;
  localDir: string;
  rows: Row[];
  notes: string[];
  log: (line: string) => void;
  /** Row 11's slow-rc user is set up, or why not. */
  slowRc: { ok: true } | { ok: false; reason: string };
}

function addRow(ctx: Ctx, row: Omit<Row, 'value' | 'count' | 'notMeasured'> & { samples?: number[]; value?: number }): void {
  const { samples, ...rest } = row;
  const stats = samples ? summarize(samples) : { value: row.value!, count: 1 };
  const r: Row = { ...rest, ...Object.fromEntries(Object.entries(stats).map(([k, v]) => [k, round(v, 3)])) } as Row;
  ctx.rows.push(r);
  ctx.log(`  ${r.id.padEnd(28)} ${String(r.value).padStart(10)} ${r.unit}${r.count > 1 ? `  (p95 ${r.p95}, p99 ${r.p99}, n ${r.count})` : ''}`);
}

/** A row this run cannot measure: in the table and the JSON with the reason, never a made-up figure. */
function addNotMeasured(ctx: Ctx, row: Omit<Row, 'value' | 'count' | 'notMeasured'>, reason: string): void {
  ctx.rows.push({ ...row, value: null, count: 0, notMeasured: reason });
  ctx.log(`  ${row.id.padEnd(28)} not measured: ${reason}`);
}

/** Run each kind to its total, in `blocks` interleaved blocks, so a burst of load from elsewhere hits all. */
async function interleave(blocks: number, kinds: Array<{ total: number; run: () => Promise<unknown>; samples: number[] }>): Promise<void> {
  const upTo = (total: number, b: number) => Math.round((total * (b + 1)) / blocks);
  for (let b = 0; b < blocks; b++) {
    for (const k of kinds) while (k.samples.length < upTo(k.total, b)) k.samples.push(await timed(k.run));
  }
}

/** `ssh.exec true`; `inDaemon` collects the daemon's own durationMs (channel open to close, in scoutd). */
async function scoutExec(client: ScoutClient, host: string, inDaemon?: number[]): Promise<void> {
  const r = await client.call('ssh.exec', { host, command: 'true' });
  if (r.exitCode !== 0) throw new Error(`ssh.exec true on ${host} exited ${r.exitCode}`);
  inDaemon?.push(r.durationMs);
}

async function warmExec(ctx: Ctx): Promise<void> {
  ctx.log('1-4. exec of `true`: scoutd, raw ssh2, ControlMaster, cold ssh (interleaved blocks)');
  const scout: number[] = [];
  const raw: number[] = [];
  const mux: number[] = [];
  const cold: number[] = [];
  const inDaemon: number[] = [];
  const phases: Phases[] = [];
  // Warm-up: pool connection, JIT, sshd's first sessions.
  for (let i = 0; i < 20; i++) {
    await scoutExec(ctx.client, 'b1');
    await rawExec(ctx.raw, 'true');
  }
  await runProc('ssh', [...ctx.mux, 'b1', 'true']);
  // Each block runs every kind, each its share of its total, so the ratios come from the same minutes.
  const blocks = Math.ceil(ctx.plan.warmExecs / BLOCK);
  const upTo = (total: number, b: number) => Math.round((total * (b + 1)) / blocks);
  for (let b = 0; b < blocks; b++) {
    while (scout.length < upTo(ctx.plan.warmExecs, b)) scout.push(await timed(() => scoutExec(ctx.client, 'b1', inDaemon)));
    while (raw.length < upTo(ctx.plan.warmExecs, b)) raw.push(await timed(() => rawExec(ctx.raw, 'true', phases)));
    while (mux.length < upTo(ctx.plan.muxExecs, b)) mux.push(await timed(() => runProc('ssh', [...ctx.mux, 'b1', 'true'])));
    while (cold.length < upTo(ctx.plan.coldExecs, b)) cold.push(await timed(() => runProc('ssh', [...ctx.ssh, 'b1', 'true'])));
  }
  // Profile: the p50 of the exec inside scoutd (its durationMs) against the client's round trip, and the
  // raw exec's phases: what is SSH and the remote command, what is Scout's socket, JSON and dispatch.
  const p50 = (xs: number[]) => round(summarize(xs).p50, 2);
  addRow(ctx, {
    id: 'exec.scout',
    group: 1,
    label: 'warm `ssh.exec true` through scoutd, persistent client',
    unit: 'ms',
    better: 'lower',
    samples: scout,
    extra: { 'p50 inside scoutd (channel open→close)': `${p50(inDaemon)} ms` },
  });
  addRow(ctx, {
    id: 'exec.ssh2',
    group: 2,
    label: 'raw ssh2 exec `true` in the bench process (TCP_NODELAY)',
    unit: 'ms',
    better: 'lower',
    samples: raw,
    extra: {
      'p50 phases: open+exec request': `${p50(phases.map((x) => x.open))} ms`,
      'command to exit-status': `${p50(phases.map((x) => x.run))} ms`,
      'exit-status to close': `${p50(phases.map((x) => x.close))} ms`,
    },
  });
  addRow(ctx, { id: 'exec.mux', group: 3, label: '`ssh -S <mux> host true` (ControlMaster)', unit: 'ms', better: 'lower', samples: mux });
  addRow(ctx, { id: 'exec.cold', group: 4, label: 'cold `ssh host true`', unit: 'ms', better: 'lower', samples: cold });
}

async function processStarts(ctx: Ctx): Promise<void> {
  ctx.log('5. `scoutctl exec host -- true` as a new process, and `node -e 0`');
  const cli: number[] = [];
  const node: number[] = [];
  for (let i = 0; i < ctx.plan.processStarts; i++) {
    cli.push(await timed(() => runProc(process.execPath, [SCOUTCTL, 'exec', 'b1', '--', 'true'], { env: ctx.daemon.env })));
    node.push(await timed(() => runProc(process.execPath, ['-e', '0'])));
  }
  addRow(ctx, { id: 'cli.scoutctl', group: 5, label: '`scoutctl exec host -- true` (new process, warm daemon)', unit: 'ms', better: 'lower', samples: cli });
  addRow(ctx, { id: 'cli.node', group: 5, label: '`node -e 0` (process start floor)', unit: 'ms', better: 'lower', samples: node });
}

async function files(ctx: Ctx): Promise<void> {
  ctx.log('6. fs.stat and fs.read of 1 KB and 1 MB through scoutd vs `ssh -S <mux> host stat|cat`');
  const sizes = { '1k': 1024, '1m': 1024 * 1024 };
  const file = (k: string) => path.join(ctx.remoteDir, `file-${k}.txt`);
  for (const [k, n] of Object.entries(sizes)) {
    const r = await ctx.fleet.runAsUser(`head -c ${n} /dev/zero | tr '\\0' a > ${file(k)}`);
    if (r.code !== 0) throw new Error(`preparing ${file(k)}: ${r.stderr}`);
  }
  const stat = async () => {
    const r = await ctx.client.call('fs.stat', { host: 'b1', path: file('1k') });
    if (r.size !== sizes['1k']) throw new Error(`fs.stat: size ${r.size}`);
  };
  const read = (k: '1k' | '1m') => async () => {
    const r = await ctx.client.call('fs.read', { host: 'b1', path: file(k), maxBytes: sizes[k] });
    if (r.bytes !== sizes[k] || r.truncated) throw new Error(`fs.read ${k}: ${r.bytes} bytes, truncated ${r.truncated}`);
  };
  const mux = (cmd: string) => () => runProc('ssh', [...ctx.mux, 'b1', cmd]);
  const kinds: Array<{ id: string; label: string; run: () => Promise<unknown>; every: number; samples: number[] }> = [
    { id: 'fs.stat.scout', label: '`fs.stat` through scoutd (SFTP lstat)', run: stat, every: 1, samples: [] },
    { id: 'fs.stat.mux', label: '`ssh -S <mux> host stat file`', run: mux(`stat ${file('1k')}`), every: 4, samples: [] },
    { id: 'fs.read1k.scout', label: '`fs.read` 1 KB through scoutd', run: read('1k'), every: 1, samples: [] },
    { id: 'fs.read1k.mux', label: '`ssh -S <mux> host cat file` 1 KB', run: mux(`cat ${file('1k')}`), every: 4, samples: [] },
    { id: 'fs.read1m.scout', label: '`fs.read` 1 MB through scoutd', run: read('1m'), every: 2, samples: [] },
    { id: 'fs.read1m.mux', label: '`ssh -S <mux> host cat file` 1 MB', run: mux(`cat ${file('1m')}`), every: 4, samples: [] },
  ];
  // Warm-up: the SFTP session and the page cache, and the steady state of a long-lived client (an agent's MCP
  // shim). A fresh node process's first 25 reads of 1 MB take p50 5.2–6.7 ms, later ones 3.5–5.5 (before the
  // client read into one reused buffer: 9.2–11.7 and 4.8–6.2). The `ssh -S` rows start a fresh process per
  // sample either way.
  for (const k of kinds) for (let i = 0; i < (k.id.endsWith('.scout') ? FS_WARM_CALLS : 1); i++) await k.run();
  const block = Math.min(BLOCK, ctx.plan.fsReads);
  for (let done = 0; done < ctx.plan.fsReads; done += block) {
    for (const k of kinds) for (let i = 0; i < block / k.every; i++) k.samples.push(await timed(k.run));
  }
  for (const k of kinds) addRow(ctx, { id: k.id, group: 6, label: k.label, unit: 'ms', better: 'lower', samples: k.samples });
}

async function concurrency(ctx: Ctx): Promise<void> {
  ctx.log(`7. ${CONCURRENT} concurrent execs on one host (MaxSessions 10)`);
  const scoutMs: number[] = [];
  const rawMs: number[] = [];
  const unboundedMs: number[] = [];
  const errors = new Map<string, number>();
  let failed = 0;
  let rawRefused = 0;
  let rawRetried = 0;
  const refusedOpens = async () => (await ctx.client.call('pool.list', {})).connections.find((c) => c.host === 'b1')?.refusedOpens ?? 0;
  const refusedBefore = await refusedOpens();
  for (let round = 0; round < ctx.plan.concurrencyRounds; round++) {
    scoutMs.push(
      await timed(async () => {
        const outcomes = await Promise.allSettled(Array.from({ length: CONCURRENT }, () => ctx.client.call('ssh.exec', { host: 'b1', command: 'true' })));
        for (const o of outcomes) {
          if (o.status === 'fulfilled' && o.value.exitCode === 0) continue;
          failed++;
          const code = o.status === 'rejected' ? (isScoutError(o.reason) ? o.reason.code : String(o.reason)) : `exit ${o.value.exitCode}`;
          errors.set(code, (errors.get(code) ?? 0) + 1);
        }
      }),
    );
    rawMs.push(
      await timed(async () => {
        let next = 0;
        const worker = async () => {
          while (next < CONCURRENT) {
            next++;
            // sshd frees a MaxSessions slot lazily, so even 8 in flight meet an occasional refusal: the
            // floor retries at once (and counts it), as any client on a busy connection has to.
            for (;;) {
              try {
                const code = await rawExec(ctx.raw, 'true');
                if (code !== 0) throw new Error(`raw exec exited ${code}`);
                break;
              } catch (err) {
                if (!isOpenRefusal(err)) throw err;
                rawRetried++;
              }
            }
          }
        };
        await Promise.all(Array.from({ length: RAW_CHANNELS }, worker));
      }),
    );
    // What a naive client sees: all 100 at once on one connection, beyond MaxSessions.
    unboundedMs.push(
      await timed(async () => {
        const outcomes = await Promise.allSettled(Array.from({ length: CONCURRENT }, () => rawExec(ctx.raw, 'true')));
        rawRefused += outcomes.filter((o) => o.status === 'rejected').length;
      }),
    );
  }
  const reopened = (await refusedOpens()) - refusedBefore;
  const total = CONCURRENT * ctx.plan.concurrencyRounds;
  const tput = (ms: number[]) => ms.map((m) => CONCURRENT / (m / 1000));
  const failures = [...errors].map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  addRow(ctx, {
    id: 'concurrency.scout',
    group: 7,
    label: `${CONCURRENT} concurrent \`ssh.exec\` through scoutd: completion time`,
    unit: 'ms',
    better: 'lower',
    samples: scoutMs,
    extra: { failed: `${failed}/${total}`, errors: failures, 'refused by sshd and reopened': reopened },
  });
  addRow(ctx, { id: 'concurrency.scout.rate', group: 7, label: `… throughput`, unit: 'exec/s', better: 'higher', samples: tput(scoutMs) });
  addRow(ctx, {
    id: 'concurrency.ssh2',
    group: 7,
    label: `${CONCURRENT} execs on raw ssh2, ${RAW_CHANNELS} channels in flight: completion time`,
    unit: 'ms',
    better: 'lower',
    samples: rawMs,
    extra: { 'refused and retried': rawRetried },
  });
  addRow(ctx, { id: 'concurrency.ssh2.rate', group: 7, label: `… throughput`, unit: 'exec/s', better: 'higher', samples: tput(rawMs) });
  addRow(ctx, {
    id: 'concurrency.ssh2.unbounded',
    group: 7,
    label: `${CONCURRENT} execs on raw ssh2 all at once (no channel limit)`,
    unit: 'ms',
    better: 'lower',
    samples: unboundedMs,
    extra: { refused: `${rawRefused}/${total}` },
  });
  if (failed > 0) ctx.notes.push(`${failed} of ${total} concurrent execs through scoutd failed: ${failures}`);
}

async function fanout(ctx: Ctx): Promise<void> {
  ctx.log(`8. fleet.exec \`true\` on ${FLEET_SIZE} hosts vs one host`);
  const all = ctx.fleet.servers.map((s) => s.name);
  const run = async (hosts: string[]) => {
    const r = await ctx.client.call('fleet.exec', { hosts, command: 'true' });
    if (r.summary.ok !== hosts.length) throw new Error(`fleet.exec: ${r.summary.failed} of ${hosts.length} failed: ${JSON.stringify(r.results.find((x) => !x.ok))}`);
  };
  await run(all); // every connection warm
  const ten: number[] = [];
  const one: number[] = [];
  for (let done = 0; done < ctx.plan.fanouts; done += BLOCK) {
    const n = Math.min(BLOCK, ctx.plan.fanouts - done);
    for (let i = 0; i < n; i++) ten.push(await timed(() => run(all)));
    for (let i = 0; i < n; i++) one.push(await timed(() => run(['b1'])));
  }
  addRow(ctx, { id: 'fleet.10', group: 8, label: `\`fleet.exec true\` on ${FLEET_SIZE} hosts (warm)`, unit: 'ms', better: 'lower', samples: ten });
  addRow(ctx, { id: 'fleet.1', group: 8, label: '`fleet.exec true` on 1 host (warm)', unit: 'ms', better: 'lower', samples: one });
}

async function transfers(ctx: Ctx): Promise<void> {
  const { transferBytes: size, transferRounds: rounds } = ctx.plan;
  const mb = size / (1 << 20);
  ctx.log(`9. transfer.get / transfer.put of ${mb} MB vs scp vs ssh -S <mux> cat`);
  const remoteSrc = path.join(ctx.remoteDir, 'big.bin');
  const remoteDst = path.join(ctx.remoteDir, 'big-put.bin');
  const localSrc = path.join(ctx.localDir, 'big.bin');
  const localDst = path.join(ctx.localDir, 'big-get.bin');
  execFileSync('head', ['-c', String(size), '/dev/urandom'], { stdio: ['ignore', fs.openSync(localSrc, 'w'), 'inherit'] });
  const r = await ctx.fleet.runAsUser(`cat ${localSrc} > ${remoteSrc}`);
  if (r.code !== 0) throw new Error(`preparing ${remoteSrc}: ${r.stderr}`);
  const rate = (ms: number) => mb / (ms / 1000);
  const check = (file: string) => {
    const got = fs.statSync(file).size;
    if (got !== size) throw new Error(`${file}: ${got} bytes, expected ${size}`);
  };
  const kinds: Record<string, { samples: number[]; run: () => Promise<unknown>; after: () => Promise<void> | void }> = {
    'get.scout': { samples: [], run: () => ctx.client.call('transfer.get', { host: 'b1', remotePath: remoteSrc, localPath: localDst }).then(() => undefined), after: () => check(localDst) },
    'get.scp': { samples: [], run: () => runProc('scp', ['-q', ...ctx.ssh, `b1:${remoteSrc}`, localDst]), after: () => check(localDst) },
    'get.mux': { samples: [], run: () => runProc('ssh', [...ctx.mux, 'b1', `cat ${remoteSrc}`], { stdout: localDst }), after: () => check(localDst) },
    'put.scout': {
      samples: [],
      run: () => ctx.client.call('transfer.put', { host: 'b1', localPath: localSrc, remotePath: remoteDst }).then(() => undefined),
      after: () => remoteSize(ctx, remoteDst, size),
    },
    'put.scp': { samples: [], run: () => runProc('scp', ['-q', ...ctx.ssh, localSrc, `b1:${remoteDst}`]), after: () => remoteSize(ctx, remoteDst, size) },
    'put.mux': {
      samples: [],
      run: () => runProc('ssh', [...ctx.mux, 'b1', `cat > ${remoteDst}`], { stdin: localSrc }),
      after: () => remoteSize(ctx, remoteDst, size),
    },
  };
  // One unmeasured round of scoutd's own first: its first streamed file pays the per-connection exec probe,
  // the SFTP session and the JIT, as rows 1 and 11 warm up before they measure.
  for (const id of ['get.scout', 'put.scout']) {
    await kinds[id].run();
    await kinds[id].after();
    fs.rmSync(localDst, { force: true });
  }
  for (let i = 0; i < rounds; i++) {
    for (const k of Object.values(kinds)) {
      k.samples.push(rate(await timed(k.run)));
      await k.after();
      fs.rmSync(localDst, { force: true });
    }
  }
  const label: Record<string, string> = {
    'get.scout': `\`transfer.get\` ${mb} MB through scoutd (streamed: \`cat\` on an exec channel)`,
    'get.scp': `\`scp host:file .\` ${mb} MB`,
    'get.mux': `\`ssh -S <mux> host cat file > local\` ${mb} MB`,
    'put.scout': `\`transfer.put\` ${mb} MB through scoutd (streamed: \`cat >\` on an exec channel)`,
    'put.scp': `\`scp file host:\` ${mb} MB`,
    'put.mux': `\`ssh -S <mux> host 'cat > file' < local\` ${mb} MB`,
  };
  for (const [id, k] of Object.entries(kinds)) addRow(ctx, { id, group: 9, label: label[id], unit: 'MB/s', better: 'higher', samples: k.samples });
}

async function remoteSize(ctx: Ctx, file: string, size: number): Promise<void> {
  const r = await ctx.fleet.runAsUser(`wc -c < ${file}`);
  if (Number(r.stdout.trim()) !== size) throw new Error(`${file} on the remote side: ${r.stdout.trim()} bytes, expected ${size}`);
}

/**
 * Row 11 (issue 11): `ssh.exec true` through the warm-shell fast path (mode on) against an exec channel per
 * command (mode off) and `ssh host true` over a live ControlMaster, for the clean /bin/sh user (b1) and for
 * the bash user whose ~/.bashrc sleeps 200 ms (SLOW_RC_HOST). A sample served the other way fails the run.
 */
async function warmShell(ctx: Ctx): Promise<void> {
  ctx.log('11. `ssh.exec true` fast path (mode on) vs exec channel (mode off) vs ControlMaster, clean user and slow-rc user');
  const exec = (host: string, mode: 'on' | 'off', inDaemon?: number[]) => async () => {
    const r = await ctx.client.call('ssh.exec', { host, command: 'true', mode });
    const via = mode === 'on' ? 'warm-shell' : 'exec-channel';
    if (r.exitCode !== 0 || r.via !== via) throw new Error(`ssh.exec true mode ${mode} on ${host}: expected exit 0 via ${via}, got exit ${r.exitCode} via ${r.via}`);
    inDaemon?.push(r.durationMs);
  };
  const p50 = (xs: number[]) => `${round(summarize(xs).p50, 2)} ms`;
  const label = (what: string, user: string) => `${what}, ${user}`;
  const users = [
    { key: 'clean', host: 'b1', user: `clean /bin/sh user`, mux: ctx.mux, channel: ctx.plan.shellFast, muxN: ctx.plan.shellMux },
    {
      key: 'slowrc',
      host: SLOW_RC_HOST,
      user: `bash user whose ~/.bashrc sleeps ${RC_SLEEP_MS} ms`,
      mux: [...ctx.ssh, '-S', path.join(ctx.fleet.root, 'mux-slowrc.sock')],
      channel: ctx.plan.shellSlow,
      muxN: ctx.plan.shellSlow,
    },
  ];
  for (const u of users) {
    const rows = {
      fast: { id: `shell.${u.key}.fast`, group: 11, label: label('`ssh.exec true` mode on (warm-shell fast path)', u.user), unit: 'ms', better: 'lower' },
      channel: { id: `shell.${u.key}.channel`, group: 11, label: label('`ssh.exec true` mode off (exec channel)', u.user), unit: 'ms', better: 'lower' },
      mux: { id: `shell.${u.key}.mux`, group: 11, label: label('`ssh -S <mux> host true` (ControlMaster)', u.user), unit: 'ms', better: 'lower' },
    } as const;
    if (u.key === 'slowrc' && !ctx.slowRc.ok) {
      for (const r of Object.values(rows)) addNotMeasured(ctx, r, ctx.slowRc.reason);
      continue;
    }
    // The right user, and (slow rc) the rc really runs on an exec channel: else the rows measure nothing.
    const t = performance.now();
    const probe = await ctx.client.call('ssh.exec', { host: u.host, command: 'id -un', mode: 'off' });
    const probeMs = performance.now() - t;
    const expectUser = u.key === 'clean' ? ctx.fleet.user : SLOW_RC_USER;
    if (probe.stdout.trim() !== expectUser) throw new Error(`${u.host}: logged in as '${probe.stdout.trim()}', expected ${expectUser}`);
    if (u.key === 'slowrc' && probeMs < RC_SLEEP_MS) throw new Error(`the ${RC_SLEEP_MS} ms ~/.bashrc of ${SLOW_RC_USER} did not run: an exec channel took ${probeMs.toFixed(1)} ms`);
    // Warm-up: the resident shell (its first command pays the rc once), JIT; and the host's ControlMaster.
    for (let i = 0; i < 20; i++) await exec(u.host, 'on')();
    if (u.key === 'clean') for (let i = 0; i < 20; i++) await exec(u.host, 'off')();
    const master = u.key === 'clean' ? undefined : await startMaster(u.mux, u.host, ctx.daemon.env);
    try {
      await runProc('ssh', [...u.mux, u.host, 'true']);
      const inDaemon: number[] = [];
      const kinds = {
        fast: { total: ctx.plan.shellFast, run: exec(u.host, 'on', inDaemon), samples: [] as number[] },
        channel: { total: u.channel, run: exec(u.host, 'off'), samples: [] as number[] },
        mux: { total: u.muxN, run: () => runProc('ssh', [...u.mux, u.host, 'true']), samples: [] as number[] },
      };
      await interleave(Math.ceil(ctx.plan.shellFast / BLOCK), Object.values(kinds));
      addRow(ctx, { ...rows.fast, samples: kinds.fast.samples, extra: { 'p50 inside scoutd': p50(inDaemon), via: 'warm-shell (checked on every sample)' } });
      addRow(ctx, { ...rows.channel, samples: kinds.channel.samples, extra: { via: 'exec-channel (checked on every sample)' } });
      addRow(ctx, { ...rows.mux, samples: kinds.mux.samples });
    } finally {
      if (master) await stopMaster(master);
    }
  }
}

/** Full GC in the row-10 daemon (bench/gc-on-signal.ts): its RSS then, and its live heap + external memory. */
/** Type one key into a PTY session and wait for its echo (the remote tty echoes it in cooked mode). */
function keystroke(sock: NodeJS.ReadWriteStream): Promise<void> {
  return new Promise((resolve) => {
    const onData = (d: Buffer) => {
      if (d.includes(0x61)) {
        sock.off('data', onData);
        resolve();
      }
    };
    sock.on('data', onData);
    sock.write('a');
  });
}

/** Wait until a session's output shows its prompt: the shell is ready for keys. */
function prompt(sock: NodeJS.ReadWriteStream): Promise<void> {
  return new Promise((resolve) => {
    const onData = (d: Buffer) => {
      if (d.includes(0x24) || d.includes(0x23)) {
        sock.off('data', onData);
        resolve();
      }
    };
    sock.on('data', onData);
  });
}

const PTY = { term: 'xterm', cols: 80, rows: 24 };

/** A `scoutctl shell` session as the CLI opens it: shell.open until shell.ready, then shell.attach. */
async function openSession(client: ScoutClient, host: string): Promise<{ sock: net.Socket; ended: Promise<unknown> }> {
  let ready!: (token: string) => void;
  const token = new Promise<string>((r) => (ready = r));
  const ended = client.call('shell.open', { host, pty: PTY }, { onNotification: (m, p) => m === 'shell.ready' && ready(p.token) });
  const sock = await client.attach({ token: await token });
  sock.resume();
  return { sock, ended };
}

async function interactive(ctx: Ctx): Promise<void> {
  ctx.log('13. scoutctl shell: session open vs cold ssh; keystroke echo vs a raw ssh2 shell channel');
  const opens: number[] = [];
  for (let i = 0; i < ctx.plan.ttyOpens + 3; i++) {
    const t0 = performance.now();
    const s = await openSession(ctx.client, 'b1');
    const took = performance.now() - t0;
    if (i >= 3) opens.push(took); // the first ones warm the pool and the JIT
    s.sock.end('exit\n');
    await s.ended;
  }
  addRow(ctx, { id: 'tty.open.scout', group: 13, label: 'scoutctl shell: session open (shell.open to attached, PTY, warm pool)', unit: 'ms', better: 'lower', samples: opens });
  const scout = await openSession(ctx.client, 'b1');
  await prompt(scout.sock).catch(() => {});
  const raw = await new Promise<ssh2.ClientChannel>((resolve, reject) => ctx.raw.shell(PTY, (err, ch) => (err ? reject(err) : resolve(ch))));
  await prompt(raw);
  const viaScout: number[] = [];
  const viaRaw: number[] = [];
  await interleave(Math.ceil(ctx.plan.keystrokes / BLOCK), [
    { total: ctx.plan.keystrokes, run: () => keystroke(scout.sock), samples: viaScout },
    { total: ctx.plan.keystrokes, run: () => keystroke(raw), samples: viaRaw },
  ]);
  // Ctrl-U clears the typed line, then the sessions end.
  scout.sock.end('\x15exit\n');
  await scout.ended;
  raw.end('\x15exit\n');
  addRow(ctx, { id: 'tty.echo.scout', group: 13, label: 'keystroke echo through scoutctl shell (raw bytes over the attached socket)', unit: 'ms', better: 'lower', samples: viaScout });
  addRow(ctx, { id: 'tty.echo.ssh2', group: 13, label: 'keystroke echo on a raw ssh2 shell channel in the bench process', unit: 'ms', better: 'lower', samples: viaRaw });
}

/**
 * Row 15: `fleet.exec` over plan.manyHosts aliases, each its own pooled connection, spread over MANY_SERVERS
 * sshd: cold (every connect), warm, the daemon's RSS holding them all, and one call where every host prints
 * 1 MiB (the call's output bound must hold). A daemon and fleet of its own, so the other rows are unaffected.
 */
/** True when `name` is a program on PATH. */
function hasCommand(name: string): boolean {
  try {
    execFileSync('/bin/sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function thousandHosts(ctx: Ctx): Promise<void> {
  const n = ctx.plan.manyHosts;
  const rows = {
    cold: { id: 'many.cold', group: 15, label: `\`fleet.exec true\` over ${n || 'N'} hosts, cold (every host connects)`, unit: 'ms', better: 'lower' },
    warm: {
      id: 'many.warm',
      group: 15,
      label: `\`fleet.exec true\` over ${n || 'N'} hosts, warm (resident shells, one PID namespace per sshd; exec channels where none)`,
      unit: 'ms',
      better: 'lower',
    },
    floor: {
      id: 'many.warm.ssh2',
      group: 15,
      label: `raw ssh2: \`true\` on ${n || 'N'} open connections in the bench process, 100 at a time (the floor)`,
      unit: 'ms',
      better: 'lower',
    },
    ok: { id: 'many.ok', group: 15, label: 'hosts that succeeded, fewest of the cold and warm runs', unit: 'count', better: 'higher' },
    rss: { id: 'many.rss', group: 15, label: `scoutd RSS holding ${n || 'N'} connections`, unit: 'KB', better: 'lower' },
    output: { id: 'many.output', group: 15, label: `output kept by one \`fleet.exec\` where each of ${n || 'N'} hosts prints 1 MiB`, unit: 'KB', better: 'lower' },
  } as const;
  if (n === 0) {
    for (const r of Object.values(rows)) addNotMeasured(ctx, r, 'full runs only (npm run bench without --quick)');
    return;
  }
  ctx.log(`15. a thousand hosts: fleet.exec over ${n} aliases on ${MANY_SERVERS} sshd, cold and warm; RSS; 1 MiB from every host`);
  // Each sshd a host of its own: a PID namespace and /proc of its own (root with util-linux unshare), so a
  // resident shell's leftover check sees its host's processes, not all 3,000 of this machine. Then the daemon
  // runs as users run it (SCOUT_EXEC_MODE auto: resident shells). Without namespaces every shell would scan
  // the same shared /proc after each command, a cost no real host has (warm 74 s measured at 1,000 aliases
  // before the check had a round limit), so the row falls back to exec channels, which cost what the floor
  // row costs (9.4 s against 9.4 s at a77f867).
  const ownPidNamespace = process.getuid?.() === 0 && hasCommand('unshare');
  const fleet = await startFleet(
    Array.from({ length: MANY_SERVERS }, (_, i) => `m${i + 1}`),
    // Connects arrive 100 at a time: OpenSSH's default MaxStartups (10:30:100) drops unauthenticated ones past 10.
    { config: ['MaxStartups 200:30:400'], ownPidNamespace },
  );
  try {
    const extra: Record<string, string[]> = {};
    const hosts = Array.from({ length: n }, (_, i) => `x${i + 1}`);
    hosts.forEach((h, i) => {
      const s = fleet.servers[i % MANY_SERVERS];
      extra[h] = ['HostName 127.0.0.1', `Port ${s.port}`, `User ${fleet.user}`, `IdentityFile ${fleet.clientKeyPath}`, `UserKnownHostsFile ${fleet.knownHostsPath}`, 'IdentitiesOnly yes'];
    });
    fleet.writeConfig(extra);
    // A descriptor per connection: the limit a service unit gives (LimitNOFILE), within this shell's hard limit.
    const hard = Number(execFileSync('/bin/sh', ['-c', 'ulimit -Hn']).toString().trim()) || 4096;
    const daemon = await startDaemon(fleet.env({ SCOUT_SOCKET: socketIn(fleet.root), SCOUT_MAX_POOL_SIZE: String(n), SCOUT_EXEC_MODE: ownPidNamespace ? 'auto' : 'off' }), {
      fdLimit: Math.min(16384, hard),
    });
    try {
      const client = await daemon.client('bench-many');
      try {
        const run = async (command: string) => {
          const t = performance.now();
          const r = await client.call('fleet.exec', { hosts, command, concurrency: 100, timeoutMs: 120_000 });
          return { ms: performance.now() - t, r };
        };
        const cold = await run('true');
        const okCounts = [cold.r.summary.ok];
        if (cold.r.summary.failed) ctx.notes.push(`row 15 cold: ${cold.r.summary.failed} hosts failed, e.g. ${JSON.stringify(cold.r.results.find((x) => !x.ok)?.error)}`);
        // The floor: the same execs on as many raw ssh2 connections in this process, no daemon between. On 2
        // cores it is sshd's fork and `sh -c true` that take the time: `perf record -a` of it, sshd 65% and sh
        // 22% of the machine's CPU, the ssh2 client 5%; 7.2 to 8.7 s at concurrency 20, 50, 100 or 200 alike.
        let shellsBefore: StatusResult['warmShell'];
        const raws: ssh2.Client[] = [];
        const warm: number[] = [];
        const floor: number[] = [];
        let floorFailed = 0;
        try {
          for (let i = 0; i < n; i += CONCURRENT) {
            raws.push(...(await Promise.all(hosts.slice(i, i + CONCURRENT).map((_, j) => rawConnect(fleet, fleet.servers[(i + j) % MANY_SERVERS].name)))));
          }
          const rawRun = async () => {
            let next = 0;
            await Promise.all(
              Array.from({ length: CONCURRENT }, async () => {
                while (next < raws.length) if ((await rawExec(raws[next++], 'true')) !== 0) floorFailed++;
              }),
            );
          };
          // What the warm runs cost in resident shells: started afresh, ended (a leftover check that could not
          // tell retires its shell), exec-channel fallbacks.
          shellsBefore = (await client.call('daemon.status', {})).warmShell;
          // Alternating, so a burst of load from elsewhere hits both.
          for (let i = 0; i < MANY_WARM_RUNS; i++) {
            const w = await run('true');
            warm.push(w.ms);
            okCounts.push(w.r.summary.ok);
            floor.push(await timed(rawRun));
          }
        } finally {
          for (const c of raws) c.end();
        }
        const shellsAfter = (await client.call('daemon.status', {})).warmShell;
        const shellNote =
          shellsBefore && shellsAfter
            ? `${shellsAfter.hits - shellsBefore.hits} on resident shells, ${shellsAfter.started - shellsBefore.started} shells started, ${shellsAfter.restarts - shellsBefore.restarts} ended, fallbacks ${JSON.stringify(shellsAfter.fallbacks)}`
            : 'no resident shell counters';
        if (floorFailed) ctx.notes.push(`row 15 floor: ${floorFailed} raw execs did not exit 0`);
        const pool = await client.call('pool.list', {});
        addRow(ctx, { ...rows.cold, value: cold.ms });
        addRow(ctx, { ...rows.warm, samples: warm, extra: { 'warm runs': shellNote, 'ms per run, in order': warm.map((ms) => Math.round(ms)).join(', ') } });
        addRow(ctx, { ...rows.floor, samples: floor });
        addRow(ctx, { ...rows.ok, value: Math.min(...okCounts), extra: { 'per run (cold first)': okCounts.join(', ') } });
        addRow(ctx, { ...rows.rss, value: rssKb(daemon.pid), extra: { 'pooled connections': String(pool.connections.length) } });
        // Every host prints 1 MiB; the daemon keeps each host's share of the call's bound and counts the rest.
        let peak = rssKb(daemon.pid);
        const sampler = setInterval(() => (peak = Math.max(peak, rssKb(daemon.pid))), 50);
        let big: Awaited<ReturnType<typeof run>>;
        try {
          big = await run('head -c 1048576 /dev/zero');
        } finally {
          clearInterval(sampler);
        }
        const kept = big.r.results.reduce((sum, h) => sum + (h.result ? Buffer.byteLength(h.result.stdout) + Buffer.byteLength(h.result.stderr) : 0), 0);
        addRow(ctx, {
          ...rows.output,
          value: Math.max(0.001, kept / 1024),
          extra: {
            'hosts ok': `${big.r.summary.ok} of ${n}`,
            'daemon peak RSS meanwhile': `${peak} KB`,
            'bound (FLEET_OUTPUT_BUDGET)': `${FLEET_OUTPUT_BUDGET / 1024} KB`,
            took: `${Math.round(big.ms)} ms`,
          },
        });
      } finally {
        client.close();
      }
    } finally {
      await daemon.stop();
    }
  } finally {
    await fleet.cleanup();
  }
}

/** A sink here that counts what arrives and says `ok` at the end: the far side of a forward. */
async function sink(): Promise<{ port: number; close: () => void }> {
  const server = net.createServer((s) => {
    s.on('data', () => {});
    s.on('end', () => s.end('ok'));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

/** Push `bytes` through 127.0.0.1:port and wait for the sink's `ok`: MB/s. */
async function through(port: number, bytes: number): Promise<number> {
  const chunk = Buffer.alloc(256 * 1024, 0x5a);
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
      s.end();
    };
    s.on('connect', pump);
    s.on('data', () => resolve());
    s.on('error', reject);
  });
  return bytes / 1024 / 1024 / ((performance.now() - t0) / 1000);
}

async function forwardThroughput(ctx: Ctx): Promise<void> {
  ctx.log('14. bytes through a -L forward: scoutd vs `ssh -L` on a ControlMaster (ssh -O forward)');
  const far = await sink();
  const scoutPort = await freeLocalPort();
  const muxPort = await freeLocalPort();
  try {
    const f = await ctx.client.call('forward.open', { host: 'b1', kind: 'local', bindPort: scoutPort, targetHost: '127.0.0.1', targetPort: far.port });
    await runProc('ssh', [...ctx.mux, '-O', 'forward', '-L', `127.0.0.1:${muxPort}:127.0.0.1:${far.port}`, 'b1']);
    const scout: number[] = [];
    const mux: number[] = [];
    await through(scoutPort, 1024 * 1024);
    await through(muxPort, 1024 * 1024);
    for (let i = 0; i < ctx.plan.transferRounds; i++) {
      scout.push(await through(scoutPort, ctx.plan.transferBytes));
      mux.push(await through(muxPort, ctx.plan.transferBytes));
    }
    await ctx.client.call('forward.close', { id: f.id });
    await runProc('ssh', [...ctx.mux, '-O', 'cancel', '-L', `127.0.0.1:${muxPort}:127.0.0.1:${far.port}`, 'b1']).catch(() => {});
    addRow(ctx, { id: 'fwd.scout', group: 14, label: `bytes through \`scoutctl forward -L\` (${ctx.plan.transferBytes / 1024 / 1024} MB)`, unit: 'MB/s', better: 'higher', samples: scout });
    addRow(ctx, { id: 'fwd.mux', group: 14, label: 'bytes through `ssh -L` on a ControlMaster (same link)', unit: 'MB/s', better: 'higher', samples: mux });
  } finally {
    far.close();
  }
}

async function freeLocalPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function afterGc(daemon: DaemonProc): Promise<{ rssKb: number; liveKb: number }> {
  const line = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('scoutd did not report the forced GC (bench/gc-on-signal.ts not loaded?)')), 10_000);
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('utf8');
      const m = /bench-gc-done (\{.*\})\n/.exec(buf);
      if (!m) return;
      clearTimeout(timer);
      daemon.proc.stderr!.off('data', onData);
      resolve(m[1]);
    };
    daemon.proc.stderr!.on('data', onData);
  });
  daemon.proc.kill('SIGUSR2');
  const m = JSON.parse(await line) as { rss: number; heapUsed: number; external: number };
  return { rssKb: Math.round(m.rss / 1024), liveKb: Math.round((m.heapUsed + m.external) / 1024) };
}

/** Row 10 on a fresh daemon: the bench's main daemon carries the heap of everything measured before. */
async function memory(ctx: Ctx, master: ChildProcess): Promise<void> {
  ctx.log(`10. daemon RSS: idle, with ${POOLED_STEPS.join(', ')} pooled connections; one ControlMaster`);
  const preload = path.join(ROOT, 'dist-bench', 'bench', 'gc-on-signal.js');
  const daemon = await startDaemon(
    ctx.fleet.env({
      SCOUT_SOCKET: path.join(ctx.fleet.root, 'run-rss', 'scoutd.sock'),
      NODE_OPTIONS: `--expose-gc --import ${pathToFileURL(preload).href}`,
    }),
  );
  try {
    const client = await daemon.client('bench-rss');
    try {
      const rss: Record<number, number> = { 0: await settledRss(daemon.pid, ctx.plan) };
      const gc: Record<number, { rssKb: number; liveKb: number }> = { 0: await afterGc(daemon) };
      let open = 0;
      for (const step of POOLED_STEPS) {
        const aliases = Array.from({ length: step - open }, (_, i) => `p${open + i + 1}`);
        await Promise.all(aliases.map((h) => scoutExec(client, h)));
        open = step;
        const pool = await client.call('pool.list', {});
        const ready = pool.connections.filter((c) => c.state === 'ready').length;
        if (ready !== step) throw new Error(`expected ${step} pooled connections, pool.list shows ${ready}`);
        rss[step] = await settledRss(daemon.pid, ctx.plan);
        gc[step] = await afterGc(daemon);
      }
      const [a, b, c] = POOLED_STEPS;
      const gcNote = (n: number) => ({ 'after a full GC': `${gc[n].rssKb} KB`, 'live JS heap + external': `${gc[n].liveKb} KB` });
      addRow(ctx, { id: 'rss.idle', group: 10, label: 'scoutd RSS, idle (no connection)', unit: 'KB', better: 'lower', value: rss[0], extra: gcNote(0) });
      addRow(ctx, { id: `rss.${a}`, group: 10, label: `scoutd RSS, ${a} pooled connection`, unit: 'KB', better: 'lower', value: rss[a], extra: gcNote(a) });
      addRow(ctx, { id: `rss.${b}`, group: 10, label: `scoutd RSS, ${b} pooled connections`, unit: 'KB', better: 'lower', value: rss[b], extra: gcNote(b) });
      addRow(ctx, { id: `rss.${c}`, group: 10, label: `scoutd RSS, ${c} pooled connections`, unit: 'KB', better: 'lower', value: rss[c], extra: gcNote(c) });
      // The marginal cost of connections 11..50, past the one-off cost of the first (crypto, ssh2 modules).
      // RSS moves by megabytes as V8 grows and returns heap pages, even right after a full GC (it has dropped
      // while 40 connections were added), which is more than 40 connections' worth: the per-connection figure
      // is therefore the live JS heap + external memory after a full GC; both RSS slopes are shown beside it.
      const slope = (f: (n: number) => number) => round((f(c) - f(b)) / (c - b), 1);
      addRow(ctx, {
        id: 'rss.perconn',
        group: 10,
        label: `scoutd memory per idle pooled connection: live JS heap + external after a full GC, (M(${c}) − M(${b})) / ${c - b}`,
        unit: 'KB/conn',
        better: 'lower',
        value: Math.max(
          0.001,
          slope((n) => gc[n].liveKb),
        ),
        extra: {
          'RSS slope as sampled': `${slope((n) => rss[n])} KB/conn`,
          'RSS slope after GC': `${slope((n) => gc[n].rssKb)} KB/conn`,
          'first connection (RSS after GC)': `${gc[a].rssKb - gc[0].rssKb} KB`,
        },
      });
      addRow(ctx, { id: 'rss.controlmaster', group: 10, label: 'RSS of one OpenSSH ControlMaster process', unit: 'KB', better: 'lower', value: rssKb(master.pid!) });
    } finally {
      client.close();
    }
  } finally {
    await daemon.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------

async function startMaster(mux: string[], host: string, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const master = spawn('ssh', [...mux, '-M', '-N', '-o', 'ControlPersist=no', host], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  master.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const deadline = Date.now() + MUX_READY_TIMEOUT_MS;
  // `ssh -O check` answers once the master listens on its socket; there is no event to wait for instead.
  for (;;) {
    if (master.exitCode !== null) throw new Error(`ControlMaster exited ${master.exitCode}: ${err}`);
    try {
      await runProc('ssh', [...mux, '-O', 'check', host]);
      return master;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`ControlMaster not ready within ${MUX_READY_TIMEOUT_MS} ms: ${(e as Error).message} ${err}`);
      await sleep(50);
    }
  }
}

async function stopMaster(master: ChildProcess): Promise<void> {
  if (master.exitCode !== null || master.signalCode !== null) return;
  const exited = new Promise((r) => master.once('exit', r));
  master.kill('SIGTERM');
  await exited;
}

/** Row 11's slow-rc user (root only): created once, its ~/.bashrc rewritten on every run. */
function prepareSlowRcUser(): { ok: true } | { ok: false; reason: string } {
  const uid = process.getuid?.();
  if (uid !== 0) return { ok: false, reason: `needs root to create the bash user ${SLOW_RC_USER} (useradd); the bench ran as uid ${uid ?? 'unknown'}` };
  const user = ensureUser(SLOW_RC_USER, '/bin/bash');
  // Nothing but the delay: the point is the cost of an rc, not what it does.
  fs.writeFileSync(path.join(user.home, '.bashrc'), `sleep ${RC_SLEEP_MS / 1000}\n`);
  return { ok: true };
}

function parseArgs(argv: string[]): { quick: boolean; smoke: boolean; out: string; only?: number[] } {
  let quick = false;
  let smoke = false;
  let out = path.join(ROOT, 'bench', 'results');
  let only: number[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--quick') quick = true;
    else if (argv[i] === '--smoke') smoke = quick = true;
    else if (argv[i] === '--out' && argv[i + 1]) out = path.resolve(argv[++i]);
    else if (argv[i] === '--only' && /^\d+(,\d+)*$/.test(argv[i + 1] ?? '')) only = argv[++i].split(',').map(Number);
    else throw new Error(`usage: npm run bench -- [--quick | --smoke] [--out DIR] [--only ROW,ROW…]  (unknown argument '${argv[i]}')`);
  }
  return { quick, smoke, out, ...(only ? { only } : {}) };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const plan = args.smoke ? SMOKE : args.quick ? QUICK : FULL;
  const started = new Date();
  const before = uptime();
  const t0 = performance.now();
  const log = (line: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
  log(`scout bench (${args.smoke ? 'smoke' : args.quick ? 'quick' : 'full'}), ${before}`);
  const names = Array.from({ length: FLEET_SIZE }, (_, i) => `b${i + 1}`);
  const slowRc = prepareSlowRcUser();
  // MaxSessions 10 is OpenSSH's default, spelled out because row 7 is about it. The fixture's AllowUsers
  // names only its test user; sshd adds up AllowUsers lines, so b1 also lets row 11's slow-rc user in.
  const fleet = await startFleet(names, { config: ['MaxSessions 10'], perHost: slowRc.ok ? { b1: { config: [`AllowUsers ${SLOW_RC_USER}`] } } : {} });
  let master: ChildProcess | undefined;
  let daemon: DaemonProc | undefined;
  let raw: ssh2.Client | undefined;
  try {
    // p1..p50: aliases spread over the fleet's servers, for row 10's pooled connections (one per alias).
    const extra: Record<string, string[]> = {};
    for (let i = 1; i <= Math.max(...POOLED_STEPS); i++) {
      const s = fleet.servers[(i - 1) % fleet.servers.length];
      extra[`p${i}`] = ['HostName 127.0.0.1', `Port ${s.port}`, `User ${fleet.user}`, `IdentityFile ${fleet.clientKeyPath}`, `UserKnownHostsFile ${fleet.knownHostsPath}`, 'IdentitiesOnly yes'];
    }
    // Row 11's slow-rc user on b1 (the fleet's authorized_keys serves every user the sshd lets in).
    const b1 = fleet.server('b1');
    extra[SLOW_RC_HOST] = ['HostName 127.0.0.1', `Port ${b1.port}`, `User ${SLOW_RC_USER}`, `IdentityFile ${fleet.clientKeyPath}`, `UserKnownHostsFile ${fleet.knownHostsPath}`, 'IdentitiesOnly yes'];
    fleet.writeConfig(extra);
    const env = fleet.env({ SCOUT_SOCKET: socketIn(fleet.root) });
    const ssh = ['-F', fleet.sshConfigPath, '-o', 'BatchMode=yes'];
    const mux = [...ssh, '-S', path.join(fleet.root, 'mux.sock')];
    const remoteDir = path.join(fleet.root, 'remote');
    const localDir = path.join(fleet.root, 'local');
    fs.mkdirSync(localDir);
    execFileSync('install', ['-d', '-o', fleet.user, remoteDir]);
    master = await startMaster(mux, 'b1', env);
    daemon = await startDaemon(env);
    const client = await daemon.client('bench');
    raw = await rawConnect(fleet, 'b1');
    const ctx: Ctx = { fleet, plan, daemon, client, raw, ssh, mux, remoteDir, localDir, rows: [], notes: [], log, slowRc };
    // Each step with the rows it measures (--only picks steps by row).
    const wanted = (...groups: number[]) => !args.only || groups.some((g) => args.only!.includes(g));
    if (wanted(1, 2, 3, 4)) await warmExec(ctx);
    if (wanted(5)) await processStarts(ctx);
    if (wanted(6)) await files(ctx);
    if (wanted(7)) await concurrency(ctx);
    if (wanted(8)) await fanout(ctx);
    if (wanted(9)) await transfers(ctx);
    if (wanted(11)) await warmShell(ctx);
    if (wanted(13)) await interactive(ctx);
    if (wanted(14)) await forwardThroughput(ctx);
    if (wanted(15)) await thousandHosts(ctx);
    client.close();
    if (wanted(10)) await memory(ctx, master);

    // In row order: row 11 is measured before row 10, whose fresh daemon closes the run.
    const rows = ctx.rows.sort((a, b) => a.group - b.group);
    compare(rows, 'exec.scout', ['exec.ssh2', 'exec.mux', 'exec.cold']);
    compare(rows, 'exec.mux', ['exec.ssh2']);
    compare(rows, 'cli.scoutctl', ['cli.node', 'exec.mux', 'exec.cold']);
    compare(rows, 'fs.stat.scout', ['fs.stat.mux']);
    compare(rows, 'fs.read1k.scout', ['fs.read1k.mux']);
    compare(rows, 'fs.read1m.scout', ['fs.read1m.mux']);
    compare(rows, 'concurrency.scout.rate', ['concurrency.ssh2.rate']);
    compare(rows, 'fleet.10', ['fleet.1', 'exec.scout']);
    compare(rows, 'get.scout', ['get.scp', 'get.mux']);
    compare(rows, 'put.scout', ['put.scp', 'put.mux']);
    compare(rows, 'rss.perconn', ['rss.controlmaster']);
    compare(rows, 'shell.clean.fast', ['shell.clean.channel', 'shell.clean.mux']);
    compare(rows, 'shell.slowrc.fast', ['shell.slowrc.channel', 'shell.slowrc.mux']);
    compare(rows, 'tty.open.scout', ['exec.cold']);
    compare(rows, 'tty.echo.scout', ['tty.echo.ssh2']);
    compare(rows, 'fwd.scout', ['fwd.mux']);
    compare(rows, 'many.warm', ['many.warm.ssh2']);
    const v = (id: string) => rows.find((r) => r.id === id)?.value ?? NaN;
    const unmeasured = (id: string) => rows.find((r) => r.id === id)?.notMeasured;
    const allTargets: Target[] = [
      target('warm exec through scoutd ≤ 1.15× raw ssh2', 'exec.scout / exec.ssh2', v('exec.scout') / v('exec.ssh2'), '<=', 1.15),
      target('warm exec ≥ 3× faster than ControlMaster', 'exec.mux / exec.scout', v('exec.mux') / v('exec.scout'), '>=', 3),
      target('warm exec ≥ 50× faster than cold ssh', 'exec.cold / exec.scout', v('exec.cold') / v('exec.scout'), '>=', 50),
      target('fs.stat through scoutd ≥ 10× faster than ssh -S host stat', 'fs.stat.mux / fs.stat.scout', v('fs.stat.mux') / v('fs.stat.scout'), '>=', 10),
      target('fs.read of 1 MB ≥ 5× faster than `ssh -S <mux> cat`', 'fs.read1m.mux / fs.read1m.scout', v('fs.read1m.mux') / v('fs.read1m.scout'), '>=', 5),
      target(
        '100 concurrent execs: all succeed',
        'succeeded / total',
        1 - Number(String(rows.find((r) => r.id === 'concurrency.scout')?.extra?.failed).split('/')[0]) / (CONCURRENT * plan.concurrencyRounds),
        '>=',
        1,
      ),
      target('100 concurrent execs: throughput ≥ 0.9× raw ssh2 with 8 channels', 'concurrency.scout.rate / concurrency.ssh2.rate', v('concurrency.scout.rate') / v('concurrency.ssh2.rate'), '>=', 0.9),
      target('transfer.get ≥ 1.3× scp', 'get.scout / get.scp', v('get.scout') / v('get.scp'), '>=', 1.3),
      target('transfer.get ≥ 0.9× `ssh -S <mux> cat`', 'get.scout / get.mux', v('get.scout') / v('get.mux'), '>=', 0.9),
      target('transfer.put ≥ 0.9× `ssh -S <mux> cat`', 'put.scout / put.mux', v('put.scout') / v('put.mux'), '>=', 0.9),
      target('transfer.get and put ≥ 2× scp', 'min(get.scout / get.scp, put.scout / put.scp)', Math.min(v('get.scout') / v('get.scp'), v('put.scout') / v('put.scp')), '>=', 2),
      target('≤ 100 KB daemon memory per idle pooled connection', 'rss.perconn: live heap + external, KB', v('rss.perconn'), '<=', 100),
      target(`slow-rc user (${RC_SLEEP_MS} ms ~/.bashrc): fast path p50 < 5 ms`, 'shell.slowrc.fast, ms', v('shell.slowrc.fast'), '<', 5, unmeasured('shell.slowrc.fast')),
      target(
        `slow-rc user: exec channel p50 > ${RC_SLEEP_MS} ms (checks the fixture: the rc runs on every exec channel)`,
        'shell.slowrc.channel, ms',
        v('shell.slowrc.channel'),
        '>',
        RC_SLEEP_MS,
        unmeasured('shell.slowrc.channel'),
      ),
      target(`${FULL.manyHosts} hosts: every host succeeds cold and warm`, 'many.ok / hosts', v('many.ok') / FULL.manyHosts, '>=', 1, unmeasured('many.ok')),
      target(`${FULL.manyHosts} hosts: warm fleet.exec ≤ 3 s`, 'many.warm, ms', v('many.warm'), '<=', 3000, unmeasured('many.warm')),
      target(`${FULL.manyHosts} hosts: daemon RSS ≤ 250 MB`, 'many.rss, KB', v('many.rss'), '<=', 250 * 1024, unmeasured('many.rss')),
      target(
        `${FULL.manyHosts} hosts × 1 MiB: output kept within the call's bound`,
        'many.output / FLEET_OUTPUT_BUDGET',
        v('many.output') / (FLEET_OUTPUT_BUDGET / 1024),
        '<=',
        1,
        unmeasured('many.output'),
      ),
      target('scoutctl one-shot ≤ `node -e 0` + 30 ms', 'cli.scoutctl − cli.node, ms', v('cli.scoutctl') - v('cli.node'), '<=', 30),
      target('scoutctl shell opens ≥ 20× faster than cold ssh', 'exec.cold / tty.open.scout', v('exec.cold') / v('tty.open.scout'), '>=', 20),
      target('keystroke echo p50 ≤ 1.5× a raw ssh2 shell channel', 'tty.echo.scout / tty.echo.ssh2', v('tty.echo.scout') / v('tty.echo.ssh2'), '<=', 1.5),
      target('clean user: fast path ≤ 0.6× an exec channel', 'shell.clean.fast / shell.clean.channel', v('shell.clean.fast') / v('shell.clean.channel'), '<=', 0.6),
    ];
    // --only: the targets over rows this run measured (the others would read as failed).
    const targets = args.only ? allTargets.filter((t) => t.notMeasured !== undefined || (t.measured !== null && Number.isFinite(t.measured))) : allTargets;
    const result: BenchResult = {
      schema: 1,
      quick: args.quick,
      startedAt: started.toISOString(),
      durationS: round((Date.now() - started.getTime()) / 1000, 1),
      git: gitInfo(),
      machine: machine(),
      uptime: { before, after: uptime() },
      rows,
      targets,
      notes: [
        'Loopback sshd (OpenSSH) and scoutd on the same machine; ratios compare figures from this one run.',
        'p50/p95/p99 are nearest-rank percentiles of the samples; throughput rows are per-transfer MB/s (1 MB = 2^20 bytes).',
        ...ctx.notes,
      ],
    };
    fs.mkdirSync(args.out, { recursive: true });
    const suffix = `${args.smoke ? '-smoke' : args.quick ? '-quick' : ''}${args.only ? `-only${args.only.join(',')}` : ''}`;
    const file = path.join(args.out, `${started.toISOString().slice(0, 10)}-${result.git.sha}${suffix}.json`);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(result, null, 2) + '\n');
    fs.renameSync(`${file}.tmp`, file);
    process.stdout.write(
      `${table(result)}\n\nmachine: ${Object.entries(result.machine)
        .map(([k, x]) => `${k} ${x}`)
        .join(', ')}\nload: before: ${result.uptime.before}\n      after:  ${result.uptime.after}\nduration: ${result.durationS} s\nJSON: ${file}\n`,
    );
  } finally {
    raw?.end();
    await daemon?.stop();
    master?.kill('SIGTERM');
    await fleet.cleanup();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
