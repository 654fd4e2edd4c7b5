// The durable-job scripts run by this machine's /bin/sh, as sshd would run them on a host: a real shell, real
// processes, real files (the SSH side is test/jobs-durable.test.ts).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GONE, NOT_RUNNING, durableLines, parseCollect, parseLaunch, statusOutcome } from './durable.js';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'scout-durable-'));
const env = { PATH: process.env.PATH, HOME: home, SHELL: '/bin/sh' };
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

function sh(line: string, input = '') {
  const r = spawnSync('/bin/sh', ['-c', line], { input, env, encoding: 'utf8' });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

/** A process that runs: a zombie (ended, not yet reaped by whoever adopted it) does not count. */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** Wait for a file the job writes: the job's own event, read by polling (a file has no event we can wait on). */
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

let n = 0;
const newId = () => `j${(0xabc000 + n++).toString(16)}`;

describe('durable job scripts', () => {
  it('launch detaches the command into its own session, collect reads its output and exit status', async () => {
    const id = newId();
    const r = sh(durableLines.launch(id, 'echo out; echo err >&2; read x; echo "got $x"; exit 7', true), 'hello\n');
    expect(r.status, r.err).toBe(0);
    const { dir, pid } = parseLaunch(r.out);
    expect(dir).toBe(path.join(home, '.local/state/scout/jobs', id));
    expect((fs.statSync(dir).mode & 0o777).toString(8)).toBe('700');
    await until(() => fs.existsSync(path.join(dir, 'rc')));
    const c = sh(durableLines.collect(dir, 0));
    expect(parseCollect(c.err)).toEqual({ from: 0, state: { kind: 'ended', status: 7 } });
    expect(c.out).toBe('out\nerr\ngot hello\n');
    // From an offset, and from the end.
    expect(sh(durableLines.collect(dir, 4)).out).toBe('err\ngot hello\n');
    const tail = sh(durableLines.collect(dir, -6));
    expect(parseCollect(tail.err).from).toBe(c.out.length - 6);
    expect(tail.out).toBe('hello\n');
    expect(pid).toBeGreaterThan(0);
  });

  it('a signal reaches the whole process group and the monitor still records how it ended', async () => {
    const id = newId();
    const { dir, pid } = parseLaunch(sh(durableLines.launch(id, 'sleep 300 & sleep 301; wait', false)).out);
    const running = sh(durableLines.collect(dir, 0));
    expect(parseCollect(running.err).state).toEqual({ kind: 'running' });
    const group = spawnSync('pgrep', ['-g', String(pid)], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n');
    expect(group.length).toBeGreaterThanOrEqual(3); // the shell and both sleeps
    expect(sh(durableLines.signal(dir, 'TERM')).status).toBe(0);
    await until(() => fs.existsSync(path.join(dir, 'rc')));
    const st = parseCollect(sh(durableLines.collect(dir, 0)).err).state;
    expect(st).toEqual({ kind: 'ended', status: 143 });
    await until(() => group.every((p) => !alive(Number(p))));
    expect(sh(durableLines.signal(dir, 'TERM')).status).toBe(NOT_RUNNING);
  });

  it('follow streams output as it is written and exits when the job ends', async () => {
    const id = newId();
    const { dir } = parseLaunch(sh(durableLines.launch(id, 'for i in 1 2 3; do echo line$i; sleep 0.2; done', false)).out);
    const f = spawn('/bin/sh', ['-c', durableLines.follow(dir, 0)], { env });
    let got = '';
    f.stdout.on('data', (b) => (got += b));
    const code = await new Promise<number | null>((r) => f.on('close', (c) => r(c)));
    expect(code).toBe(0);
    // tail may not have printed the last line before it was stopped: a collect from the cursor gives the rest.
    const rest = sh(durableLines.collect(dir, Buffer.byteLength(got)));
    expect(got + rest.out).toBe('line1\nline2\nline3\n');
  });

  it('follow leaves nothing behind when its stdin closes (scoutd stopped, or the link dropped)', async () => {
    const id = newId();
    const { dir, pid } = parseLaunch(sh(durableLines.launch(id, 'while :; do echo tick; sleep 0.1; done', false)).out);
    const f = spawn('/bin/sh', ['-c', durableLines.follow(dir, 0)], { env, detached: true });
    await new Promise((r) => f.stdout.once('data', r));
    f.stdin.end();
    expect(await new Promise((r) => f.on('close', (c, s) => r(c ?? s)))).not.toBe(null);
    // Every process of the follower's group (tail, the waiting subshell) is gone; the job runs on.
    await until(() =>
      spawnSync('pgrep', ['-g', String(f.pid)], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n')
        .filter(Boolean)
        .every((p) => !alive(Number(p))),
    );
    expect(alive(pid)).toBe(true);
    sh(durableLines.signal(dir, 'KILL'));
    await until(() => fs.existsSync(path.join(dir, 'rc')));
    expect(statusOutcome(Number(fs.readFileSync(path.join(dir, 'rc'), 'utf8')), os.constants.signals)).toEqual({ exitCode: null, signal: 'SIGKILL' });
  });

  it('remove deletes the directory, and only a job directory', async () => {
    const id = newId();
    const { dir } = parseLaunch(sh(durableLines.launch(id, 'true', false)).out);
    await until(() => fs.existsSync(path.join(dir, 'rc')));
    expect(sh(durableLines.remove(dir)).status).toBe(0);
    expect(fs.existsSync(dir)).toBe(false);
    expect(sh(durableLines.collect(dir, 0)).status).toBe(GONE);
    expect(sh(durableLines.remove(home)).status).toBe(96);
    expect(fs.existsSync(home)).toBe(true);
  });

  it('a command with quotes, $ and newlines is run as written', async () => {
    const id = newId();
    const cmd = `printf '%s\\n' "it's" '$HOME' "a\nb"`;
    const { dir } = parseLaunch(sh(durableLines.launch(id, cmd, false)).out);
    await until(() => fs.existsSync(path.join(dir, 'rc')));
    expect(sh(durableLines.collect(dir, 0)).out).toBe(`it's\n$HOME\na\nb\n`);
    expect(fs.readFileSync(path.join(dir, 'command'), 'utf8')).toBe(`${cmd}\n`);
  });

  it('statusOutcome names signals above 128 and keeps plain codes', () => {
    expect(statusOutcome(0, os.constants.signals)).toEqual({ exitCode: 0, signal: null });
    expect(statusOutcome(143, os.constants.signals)).toEqual({ exitCode: null, signal: 'SIGTERM' });
    expect(statusOutcome(255, os.constants.signals)).toEqual({ exitCode: 255, signal: null });
  });
});
