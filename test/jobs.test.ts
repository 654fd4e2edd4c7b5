// Background jobs end to end: scoutd owns long commands on real sshd; clients come and go and read the output
// by cursor.
import { describe, expect, it } from 'vitest';
import type { ScoutClient } from '../src/client/client.js';
import type { JobInfo, JobOutputResult } from '../src/protocol/methods/index.js';
import { scoutctl, type DaemonProc } from './fixtures/daemon.js';
import { expectCode, remoteProcesses, until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

/** Read a job from `offset` to its end through the cursor, long-polling. */
async function readToEnd(c: ScoutClient, jobId: string, maxBytes: number): Promise<{ text: string; reads: number; last: JobOutputResult; dropped: number }> {
  let offset = 0;
  let text = '';
  let reads = 0;
  let dropped = 0;
  for (;;) {
    const r = await c.call('jobs.output', { jobId, offset, maxBytes, waitMs: 10_000 });
    reads++;
    expect(r.offset).toBe(offset + r.dropped);
    dropped += r.dropped;
    text += r.data;
    offset = r.nextOffset;
    if (r.done) return { text, reads, last: r, dropped };
  }
}

const fleet = useFleet(['web1', 'web2']);
let daemon: DaemonProc | undefined;

describe('jobs outlive their client', () => {
  it('a second client reads a 3 s job to the end through cursors: no byte lost or repeated, right exit code', async () => {
    daemon = await fleet.startDaemon();
    const starter = await daemon.client('starter');
    const { jobId } = await starter.call('jobs.start', {
      host: 'web1',
      command: 'i=1; while [ $i -le 30 ]; do echo "line $i"; i=$((i+1)); sleep 0.1; done; echo tail >&2; exit 3',
    });
    expect(jobId).toMatch(/^j[0-9a-f]+$/);
    starter.close(); // the starter goes away at once: the job must keep running

    const reader = await daemon.client('reader');
    // Small reads so the cursor crosses line boundaries and several long-polls happen while the job runs.
    const { text, reads, last } = await readToEnd(reader, jobId, 20);
    const expected = Array.from({ length: 30 }, (_, i) => `line ${i + 1}\n`).join('') + 'tail\n';
    expect(text).toBe(expected);
    expect(reads).toBeGreaterThan(10);
    expect(last).toMatchObject({ done: true, state: 'exited', exitCode: 3, signal: null, dropped: 0, totalBytes: expected.length });
    expect((await reader.call('daemon.status')).jobs).toEqual({ running: 0, finished: 1 });
    const list = await reader.call('jobs.list', {});
    expect(list.jobs.find((j) => j.jobId === jobId)).toMatchObject({ host: 'web1', client: 'starter', state: 'exited', exitCode: 3, bytes: expected.length, stderrBytes: 5 });
    reader.close();
  });

  it('a 50 MB job keeps daemon memory bounded and reports exactly what was dropped', async () => {
    const buffer = 1024 * 1024;
    daemon = await fleet.startDaemon({ SCOUT_JOB_BUFFER: String(buffer) });
    const c = await daemon.client();
    const total = 50 * 1024 * 1024;
    const before = (await c.call('daemon.status')).rssBytes;
    // 16-byte lines, so the kept tail is a whole number of lines we can check byte for byte.
    const { jobId } = await c.call('jobs.start', { host: 'web1', command: `yes 0123456789abcde | head -c ${total}` });
    let peak = before;
    let info: JobInfo;
    do {
      peak = Math.max(peak, (await c.call('daemon.status')).rssBytes);
      info = await c.call('jobs.wait', { jobId, timeoutMs: 100 });
      expect(info.keptBytes).toBeLessThanOrEqual(buffer);
    } while (info.state === 'running');
    peak = Math.max(peak, (await c.call('daemon.status')).rssBytes);
    expect(info).toMatchObject({ state: 'exited', exitCode: 0, bytes: total, droppedBytes: total - buffer });
    const r = await c.call('jobs.output', { jobId, offset: 0, maxBytes: 2 * buffer });
    expect(r.dropped).toBe(total - buffer);
    expect(r.offset).toBe(total - buffer);
    expect(r.nextOffset).toBe(total);
    expect(r.done).toBe(true);
    expect(r.data).toBe('0123456789abcde\n'.repeat(buffer / 16));
    expect(info.keptBytes).toBe(buffer);
    // RSS also carries ssh2's not-yet-collected packet garbage: measured +34 MiB peak with the 1 MiB ring and
    // +57…66 MiB when the ring is large enough to keep all 50 MiB. The bound says the daemon grew by less
    // than the output it streamed.
    console.log(`daemon rss: ${(before / 2 ** 20).toFixed(1)} MiB before, ${(peak / 2 ** 20).toFixed(1)} MiB peak while streaming 50 MiB`);
    expect(peak - before).toBeLessThan(total);
    c.close();
  });
});

describe('long-polling', () => {
  it('a long-poll wakes on new output; a cancelled one ends with CANCELLED and the job runs on', async () => {
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    // The job prints only once the test creates the gate file, so both polls below start before any output.
    const gate = `/tmp/scout-gate-${process.pid}-${Date.now()}`;
    const { jobId } = await c.call('jobs.start', {
      host: 'web1',
      command: `read line; while [ ! -e ${gate} ]; do sleep 0.02; done; rm -f ${gate}; echo "got $line"`,
      stdin: 'ping\n',
    });
    const ac = new AbortController();
    const cancelled = c.call('jobs.output', { jobId, waitMs: 60_000 }, { signal: ac.signal });
    ac.abort();
    await expectCode(cancelled, 'CANCELLED');
    const woken = c.call('jobs.output', { jobId, waitMs: 60_000 });
    await c.call('ssh.exec', { host: 'web1', command: `touch ${gate}` });
    const r = await woken;
    expect(r.data).toBe('got ping\n');
    const end = r.done ? r : await c.call('jobs.output', { jobId, offset: r.nextOffset, waitMs: 60_000 });
    expect(end).toMatchObject({ done: true, exitCode: 0 });
    c.close();
  });
});

describe('stopping jobs', () => {
  it('jobs.signal TERM stops the remote process group', async () => {
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    const { jobId } = await c.call('jobs.start', { host: 'web1', command: 'sleep 7301 & sleep 7302 | cat; wait' });
    await until(async () => (await remoteProcesses(fleet.user, '^sleep 730')).length === 2, 5_000, 'both remote sleeps to start');
    const sent = await c.call('jobs.signal', { jobId, signal: 'SIGTERM' });
    expect(sent).toMatchObject({ jobId, signal: 'TERM', sent: true });
    const info = await c.call('jobs.wait', { jobId, timeoutMs: 10_000 });
    expect(info).toMatchObject({ state: 'exited', signal: 'SIGTERM', exitCode: null });
    await until(async () => (await remoteProcesses(fleet.user, '^sleep 730')).length === 0, 3_000, 'the remote process group to exit');
    // Signalling an ended job is harmless and says so.
    expect(await c.call('jobs.signal', { jobId, signal: 'KILL' })).toMatchObject({ sent: false, state: 'exited' });
    await expectCode(c.call('jobs.signal', { jobId, signal: 'NOPE' }), 'INVALID_PARAMS');
    c.close();
  });

  it('sshd killed under a running job → lost with CONNECTION_LOST, and the daemon keeps serving', async () => {
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    const { jobId } = await c.call('jobs.start', { host: 'web2', command: 'echo started; sleep 7400' });
    const first = await c.call('jobs.output', { jobId, waitMs: 5_000 });
    expect(first.data).toBe('started\n');
    await fleet.server('web2').kill9();
    try {
      const info = await c.call('jobs.wait', { jobId, timeoutMs: 20_000 });
      expect(info.state).toBe('lost');
      expect(info.error?.code).toBe('CONNECTION_LOST');
      const out = await c.call('jobs.output', { jobId, offset: 0 });
      expect(out).toMatchObject({ data: 'started\n', done: true, state: 'lost', error: { code: 'CONNECTION_LOST' } });
      expect((await c.call('ssh.exec', { host: 'web1', command: 'echo alive' })).stdout).toBe('alive\n');
      expect(daemon.proc.exitCode).toBeNull();
    } finally {
      await fleet.server('web2').start();
    }
    // The host comes back: a new job on it runs on a fresh connection.
    const again = await c.call('jobs.start', { host: 'web2', command: 'echo back' });
    expect((await c.call('jobs.wait', { jobId: again.jobId, timeoutMs: 10_000 })).exitCode).toBe(0);
    c.close();
  });

  it('daemon shutdown stops running jobs on the remote side and logs how each ended', async () => {
    daemon = await fleet.startDaemon();
    const c = await daemon.client();
    const { jobId } = await c.call('jobs.start', { host: 'web1', command: 'sleep 7501' });
    await until(async () => (await remoteProcesses(fleet.user, '^sleep 7501')).length === 1, 5_000, 'the remote sleep to start');
    c.close();
    expect(await daemon.stop()).toBe(0);
    const ended = daemon.logLines().find((l) => l.msg === 'job ended' && l.job === jobId);
    expect(ended).toMatchObject({ host: 'web1', state: 'failed', error: 'SHUTTING_DOWN' });
    // The log names the job, never its command (which may carry secrets; the audit log keeps commands).
    expect(daemon.logLines().some((l) => l.msg === 'job started' && l.job === jobId && l.commandBytes === 'sleep 7501'.length && l.command === undefined)).toBe(true);
    await until(async () => (await remoteProcesses(fleet.user, '^sleep 7501')).length === 0, 3_000, 'the remote sleep to exit');
  });
});

describe('the job table', () => {
  it('survives daemon.reload and an idle reaper, with its connection held for the job', async () => {
    daemon = await fleet.startDaemon({ SCOUT_IDLE_TIMEOUT: '1' });
    const c = await daemon.client();
    const { jobId } = await c.call('jobs.start', { host: 'web1', command: 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do echo $i; sleep 0.1; done' });
    fleet.writeConfig();
    await c.call('daemon.reload');
    const { text, last } = await readToEnd(c, jobId, 1024);
    expect(text).toBe(Array.from({ length: 20 }, (_, i) => `${i + 1}\n`).join(''));
    expect(last.exitCode).toBe(0);
    c.close();
  });

  it('enforces per-host and total limits, forgets finished jobs on request and after their TTL', async () => {
    daemon = await fleet.startDaemon({ SCOUT_MAX_JOBS_PER_HOST: '1', SCOUT_MAX_JOBS: '2', SCOUT_JOB_TTL: '1' });
    const c = await daemon.client();
    const a = await c.call('jobs.start', { host: 'web1', command: 'sleep 7601' });
    const limited = await expectCode(c.call('jobs.start', { host: 'web1', command: 'true' }), 'LIMIT_REACHED');
    expect(limited.message).toContain('SCOUT_MAX_JOBS_PER_HOST');
    const b = await c.call('jobs.start', { host: 'web2', command: 'sleep 7602' });
    await expectCode(c.call('jobs.start', { host: 'web2', command: 'true' }), 'LIMIT_REACHED');
    await expectCode(c.call('jobs.forget', { jobId: b.jobId }), 'BUSY');
    await c.call('jobs.signal', { jobId: b.jobId, signal: 'KILL' });
    expect(await c.call('jobs.wait', { jobId: b.jobId, timeoutMs: 10_000 })).toMatchObject({ state: 'exited', signal: 'SIGKILL' });
    expect(await c.call('jobs.forget', { jobId: b.jobId })).toEqual({ jobId: b.jobId, forgotten: true });
    await expectCode(c.call('jobs.output', { jobId: b.jobId }), 'NOT_FOUND');
    // A finished job is kept for its TTL (1 s here), then reaped.
    await c.call('jobs.signal', { jobId: a.jobId, signal: 'TERM' });
    await c.call('jobs.wait', { jobId: a.jobId, timeoutMs: 10_000 });
    expect((await c.call('jobs.list', { host: 'web1' })).jobs.map((j) => j.jobId)).toEqual([a.jobId]);
    await until(async () => (await c.call('jobs.list', {})).jobs.length === 0, 5_000, 'the finished job to be reaped');
    c.close();
  });
});

describe('scoutctl', () => {
  it('exec --detach prints a job id; jobs lists it; jobs logs -f follows it and exits with its code; jobs kill stops one', async () => {
    daemon = await fleet.startDaemon();
    // --no-durable: scoutd's own channel, which keeps stdout and stderr apart (a durable job's are one stream).
    const started = await scoutctl(['exec', 'web1', '--detach', '--no-durable', '--', 'echo hello; sleep 0.5; echo oops >&2; exit 4'], daemon.env);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const jobId = started.stdout.trim();
    expect(jobId).toMatch(/^j[0-9a-f]+$/);
    const followed = await scoutctl(['jobs', 'logs', jobId, '-f'], daemon.env);
    expect(followed.stdout).toBe('hello\noops\n');
    expect(followed.code).toBe(4);
    const errOnly = await scoutctl(['jobs', 'logs', jobId, '--stream', 'stderr'], daemon.env);
    expect(errOnly.stdout).toBe('oops\n');
    expect(errOnly.code).toBe(0);

    const sleeper = (await scoutctl(['exec', 'web1', '--detach', '--', 'sleep', '7701'], daemon.env)).stdout.trim();
    const listed = await scoutctl(['jobs'], daemon.env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${jobId}\\s+web1\\s+exited\\s+4`));
    expect(listed.stdout).toMatch(new RegExp(`${sleeper}\\s+web1\\s+running`));
    const killed = await scoutctl(['jobs', 'kill', sleeper], daemon.env);
    expect(killed.stdout).toBe(`sent TERM to job ${sleeper}\n`);
    const c = await daemon.client();
    expect(await c.call('jobs.wait', { jobId: sleeper, timeoutMs: 10_000 })).toMatchObject({ state: 'exited', signal: 'SIGTERM', durable: true });
    await c.call('jobs.forget', { jobId: sleeper });
    c.close();
    const missing = await scoutctl(['jobs', 'logs', 'jnothere'], daemon.env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('NOT_FOUND');
  });
});
