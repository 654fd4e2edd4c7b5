// Durable jobs end to end: a command detached on a real sshd host, followed by scoutd, surviving scoutd's
// kill -9 and the host's sshd restart, reattached by id; signals and removal after a restart.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ScoutClient } from '../src/client/client.js';
import { durableLines } from '../src/daemon/remote/durable.js';
import type { JobInfo } from '../src/protocol/methods/index.js';
import { SCOUTCTL, scoutctl, type DaemonProc } from './fixtures/daemon.js';
import { remoteProcesses, until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1']);

/** A job that prints `line 1` … `line N`, one every `gap` seconds, then exits with `code`. */
const numbered = (n: number, gap: number, code: number) => `i=1; while [ $i -le ${n} ]; do echo "line $i"; i=$((i+1)); sleep ${gap}; done; exit ${code}`;
const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}\n`).join('');

/** `scoutctl jobs logs ID -f` as a separate process: its output as it comes, and its exit code. */
function follow(env: NodeJS.ProcessEnv, jobId: string) {
  const p = spawn(process.execPath, [SCOUTCTL, 'jobs', 'logs', jobId, '-f'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const r = { stdout: '', stderr: '', code: new Promise<number | null>((resolve) => p.on('close', (c) => resolve(c))) };
  p.stdout.on('data', (d: Buffer) => (r.stdout += d.toString()));
  p.stderr.on('data', (d: Buffer) => (r.stderr += d.toString()));
  return r;
}

async function info(c: ScoutClient, jobId: string): Promise<JobInfo | undefined> {
  return (await c.call('jobs.list', {})).jobs.find((j) => j.jobId === jobId);
}

async function jobDir(jobId: string): Promise<string> {
  const r = await fleet.runAsUser(`echo "\${XDG_STATE_HOME:-$HOME/.local/state}/scout/jobs/${jobId}"`);
  return r.stdout.trim();
}

const exists = async (p: string) => (await fleet.runAsUser(`test -e '${p}'`)).code === 0;

describe('durable jobs', () => {
  it('scoutd killed with -9 mid-job and started again: logs -f goes on with no line lost or repeated, exits with the code', async () => {
    let daemon: DaemonProc = await fleet.startDaemon();
    const { jobId } = await (await daemon.client()).call('jobs.start', { host: 'web1', command: numbered(20, 0.25, 7), durable: true });
    const logs = follow(daemon.env, jobId);
    await until(() => logs.stdout.includes('line 4\n'), 10_000, 'the first lines');
    await daemon.kill9();
    daemon = await fleet.startDaemon();
    expect(await logs.code).toBe(7);
    expect(logs.stdout).toBe(lines(20));
    expect(logs.stderr).toContain('scoutd went away');
    const c = await daemon.client();
    expect(await info(c, jobId)).toMatchObject({ state: 'exited', exitCode: 7, durable: true, bytes: lines(20).length });
    // A reader that comes after the restart reads it all from the host, once.
    const again = await scoutctl(['jobs', 'logs', jobId], daemon.env);
    expect(again.stdout).toBe(lines(20));
    // Nothing the old scoutd started to follow the job is left on the host.
    const dir = await jobDir(jobId);
    await until(async () => (await remoteProcesses(fleet.user, `tail -c .* -f output`)).length === 0, 5_000, 'the followers to go');
    await c.call('jobs.forget', { jobId });
    expect(await exists(dir)).toBe(false);
  });

  it("the host's sshd restarts mid-job: the job runs on; after the reconnect its output and state are right", async () => {
    const daemon = await fleet.startDaemon();
    const c = await daemon.client();
    const { jobId } = await c.call('jobs.start', { host: 'web1', command: `${numbered(12, 0.25, 0)}`, durable: true });
    await until(async () => ((await info(c, jobId))?.bytes ?? 0) >= 'line 1\nline 2\n'.length, 10_000, 'output');
    await fleet.server('web1').kill9();
    await until(async () => (await info(c, jobId))?.state === 'unknown', 10_000, 'the job to be unknown');
    // sshd and every session it had are gone; the job is not one of them.
    expect(await remoteProcesses(fleet.user, 'line \\$i')).not.toEqual([]);
    await fleet.server('web1').start();
    const done = await c.call('jobs.wait', { jobId, timeoutMs: 30_000 });
    expect(done).toMatchObject({ state: 'exited', exitCode: 0, bytes: lines(12).length });
    const out = await c.call('jobs.output', { jobId, offset: 0 });
    expect(out.data).toBe(lines(12));
    await c.call('jobs.forget', { jobId });
  });

  it('jobs kill after a scoutd restart ends the remote process group', async () => {
    let daemon = await fleet.startDaemon();
    const { jobId } = await (await daemon.client()).call('jobs.start', { host: 'web1', command: 'sleep 731 & sleep 732; wait', durable: true });
    await until(async () => (await remoteProcesses(fleet.user, '^sleep 73[12]')).length === 2, 5_000, 'both sleeps');
    await daemon.kill9();
    daemon = await fleet.startDaemon();
    const killed = await scoutctl(['jobs', 'kill', jobId], daemon.env);
    expect(killed.stdout).toBe(`sent TERM to job ${jobId}\n`);
    await until(async () => (await remoteProcesses(fleet.user, '^sleep 73[12]')).length === 0, 5_000, 'the process group to exit');
    const c = await daemon.client();
    expect(await c.call('jobs.wait', { jobId, timeoutMs: 10_000 })).toMatchObject({ state: 'exited', exitCode: null, signal: 'SIGTERM' });
    expect((await scoutctl(['jobs', 'logs', jobId, '-f'], daemon.env)).code).toBe(143);
    await c.call('jobs.forget', { jobId });
  });

  it('forget and the TTL leave no file of the job on the host; a running job is not forgotten', async () => {
    const daemon = await fleet.startDaemon({ SCOUT_JOB_TTL: '1' });
    const c = await daemon.client();
    const running = await c.call('jobs.start', { host: 'web1', command: 'sleep 733', durable: true });
    const runningDir = await jobDir(running.jobId);
    await expect(c.call('jobs.forget', { jobId: running.jobId })).rejects.toMatchObject({ code: 'BUSY' });
    expect(await exists(runningDir)).toBe(true);
    await c.call('jobs.signal', { jobId: running.jobId, signal: 'KILL' });
    expect(await c.call('jobs.wait', { jobId: running.jobId, timeoutMs: 10_000 })).toMatchObject({ state: 'exited', signal: 'SIGKILL' });
    // The TTL (1 s here) removes the files, then the job.
    await until(async () => (await info(c, running.jobId)) === undefined, 10_000, 'the TTL');
    expect(await exists(runningDir)).toBe(false);
    // Forget, by hand, at once.
    const short = await c.call('jobs.start', { host: 'web1', command: 'echo hi; echo err >&2', durable: true });
    const shortDir = await jobDir(short.jobId);
    expect(await c.call('jobs.wait', { jobId: short.jobId, timeoutMs: 10_000 })).toMatchObject({ state: 'exited', exitCode: 0 });
    expect((await c.call('jobs.output', { jobId: short.jobId, offset: 0 })).data).toBe('hi\nerr\n');
    await expect(c.call('jobs.output', { jobId: short.jobId, stream: 'stderr' })).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
    await c.call('jobs.forget', { jobId: short.jobId });
    expect(await exists(shortDir)).toBe(false);
    expect(await exists(shortDir.replace(/\/[^/]+$/, ''))).toBe(true);
  });

  it('a launch scoutd journaled but never heard back from (killed in between) is found by id, or reported lost', async () => {
    const journal = `${fleet.root}/journal-window.jsonl`;
    const [ran, never] = [`j${randomBytes(5).toString('hex')}`, `j${randomBytes(5).toString('hex')}`];
    const launching = (id: string) =>
      JSON.stringify({ op: 'launch', id, host: 'web1', dir: '', pid: 0, command: 'echo hi; exit 3', client: 'test', startedAt: new Date().toISOString(), deadline: Date.now() + 60_000 });
    fs.writeFileSync(journal, `${launching(ran)}\n${launching(never)}\n`, { mode: 0o600 });
    // The first launch reached the host (run as the remote user, as sshd would); its answer never reached scoutd.
    expect((await fleet.runAsUser(durableLines.launch(ran, 'echo hi; exit 3', false))).code).toBe(0);
    const daemon = await fleet.startDaemon({ SCOUT_JOB_JOURNAL: journal });
    const c = await daemon.client();
    expect(await c.call('jobs.wait', { jobId: ran, timeoutMs: 10_000 })).toMatchObject({ state: 'exited', exitCode: 3, durable: true });
    expect((await c.call('jobs.output', { jobId: ran, offset: 0 })).data).toBe('hi\n');
    expect(await c.call('jobs.wait', { jobId: never, timeoutMs: 10_000 })).toMatchObject({ state: 'lost', error: { code: 'CONNECTION_LOST' } });
    const dir = await jobDir(ran);
    await c.call('jobs.forget', { jobId: ran });
    await c.call('jobs.forget', { jobId: never });
    expect(await exists(dir)).toBe(false);
  });

  it('output older than the ring is read from the host: a durable job drops nothing', async () => {
    const daemon = await fleet.startDaemon({ SCOUT_JOB_BUFFER: '4096' });
    const c = await daemon.client();
    const { jobId } = await c.call('jobs.start', { host: 'web1', command: 'seq 1 20000', durable: true });
    const done = await c.call('jobs.wait', { jobId, timeoutMs: 10_000 });
    const expected = (await fleet.runAsUser('seq 1 20000')).stdout;
    expect(done).toMatchObject({ state: 'exited', exitCode: 0, bytes: expected.length, keptBytes: 4096 });
    const logs = await scoutctl(['jobs', 'logs', jobId], daemon.env);
    expect(logs.stderr).toBe('');
    expect(logs.stdout).toBe(expected);
    await c.call('jobs.forget', { jobId });
  });

  it('a full job table makes room by forgetting the oldest finished durable job, its files included', async () => {
    const daemon = await fleet.startDaemon({ SCOUT_MAX_JOBS: '1' });
    const c = await daemon.client();
    const first = await c.call('jobs.start', { host: 'web1', command: 'true', durable: true });
    const firstDir = await jobDir(first.jobId);
    await c.call('jobs.wait', { jobId: first.jobId, timeoutMs: 10_000 });
    const second = await c.call('jobs.start', { host: 'web1', command: 'true', durable: true });
    expect((await c.call('jobs.list', {})).jobs.map((j) => j.jobId)).toEqual([second.jobId]);
    await until(async () => !(await exists(firstDir)), 5_000, "the first job's files to go");
    await c.call('jobs.wait', { jobId: second.jobId, timeoutMs: 10_000 });
    await c.call('jobs.forget', { jobId: second.jobId });
  });

  it("a reload that changes the host's route moves the follower to the new connection; the old one closes", async () => {
    const daemon = await fleet.startDaemon();
    const c = await daemon.client();
    try {
      const { jobId } = await c.call('jobs.start', { host: 'web1', command: 'i=1; while :; do echo "line $i"; i=$((i+1)); sleep 0.2; done', durable: true });
      await until(async () => ((await info(c, jobId))?.bytes ?? 0) > 0, 10_000, 'output');
      const old = (await c.call('pool.list')).connections.find((x) => x.host === 'web1')!.id;
      fleet.writeConfig({ web1: ['ServerAliveInterval 7'] });
      expect(await c.call('daemon.reload')).toMatchObject({ changed: ['web1'] });
      // While the job runs (a follower never ends by itself, so it must move for the old connection to close).
      await until(async () => !(await c.call('pool.list')).connections.some((x) => x.id === old), 5_000, 'the old connection to close');
      const moved = (await info(c, jobId))!;
      expect(moved.state).toBe('running');
      await until(async () => ((await info(c, jobId))?.bytes ?? 0) > moved.bytes, 5_000, 'output through the new connection');
      await c.call('jobs.signal', { jobId, signal: 'TERM' });
      expect(await c.call('jobs.wait', { jobId, timeoutMs: 10_000 })).toMatchObject({ state: 'exited', signal: 'SIGTERM' });
      // Every line once, in order, across the move (the shell may add its own `Terminated` at the end).
      const numberedLines = (await c.call('jobs.output', { jobId, offset: 0 })).data.split('\n').filter((l) => l.startsWith('line '));
      expect(numberedLines.join('\n') + '\n').toBe(lines(numberedLines.length));
      await c.call('jobs.forget', { jobId });
    } finally {
      fleet.writeConfig();
    }
  });

  it('scoutctl exec --detach starts a durable job; stdin and env reach it', async () => {
    const daemon = await fleet.startDaemon();
    const r = await scoutctl(['exec', '--detach', '--stdin', 'web1', '--', 'read x; echo "got $x in $(pwd)"'], daemon.env, 'hello\n');
    expect(r.code, r.stderr).toBe(0);
    const jobId = r.stdout.trim();
    const logs = await scoutctl(['jobs', 'logs', jobId, '-f'], daemon.env);
    expect(logs.code).toBe(0);
    const home = (await fleet.runAsUser('pwd -P; cd; pwd -P')).stdout.trim().split('\n')[1];
    expect(logs.stdout).toBe(`got hello in ${home}\n`);
    const c = await daemon.client();
    expect(await info(c, jobId)).toMatchObject({ durable: true, state: 'exited' });
    await c.call('jobs.forget', { jobId });
  });
});
