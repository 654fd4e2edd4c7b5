// Issue 17, item 4: one call's output must never land in another client's result. A command can leave a
// process behind that keeps the resident shell's stdout or stderr and writes later; on the warm-shell path
// those bytes used to arrive in whatever call ran next on that shell. Two separate clients of one real scoutd
// (exec mode on) against a real sshd: A leaves a writer behind, B runs next and must see only its own bytes.
//
// No timing is assumed: A's leftover writes only once B's command has started (B creates `go`), and B ends only
// once the leftover has written (or tried to: `written`), so on a shell that kept the leftover's pipe its bytes
// reach B's call every time.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ScoutClient } from '../src/client/client.js';
import { remoteProcesses, until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1']);
let a: ScoutClient;
let b: ScoutClient;

beforeAll(async () => {
  const daemon = await fleet.startDaemon({ SCOUT_EXEC_MODE: 'on' });
  a = await daemon.client('client-a');
  b = await daemon.client('client-b');
});

const exec = (c: ScoutClient, command: string) => c.call('ssh.exec', { host: 'web1', command, timeoutMs: 20_000 });
const warmShell = async () => (await a.call('daemon.status')).warmShell!;

let runs = 0;
/** A fresh directory the remote user can write, holding `late.sh`: the leftover's body. */
function scratch(): { dir: string; late: string; script(name: string, body: string): string } {
  const dir = fs.mkdtempSync(path.join(fleet.root, `iso-${runs++}-`));
  fs.chmodSync(dir, 0o777);
  const script = (name: string, body: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, body, { mode: 0o755 });
    return file;
  };
  // SIGPIPE ignored: on a closed pipe the writes fail (EPIPE) and `written` still tells B the attempt is over.
  const late = script('late.sh', ["trap '' PIPE", `while [ ! -e ${dir}/go ]; do sleep 0.01; done`, 'echo FROM-A', 'echo ERR-A >&2', `touch ${dir}/written`, ''].join('\n'));
  return { dir, late, script };
}

/** Client A runs `leftover` (it must return at once), then client B runs; B's result must be B's alone. */
async function crossClient(leftover: (s: ReturnType<typeof scratch>) => string): Promise<void> {
  const s = scratch();
  const first = await exec(a, leftover(s));
  expect(first).toMatchObject({ stdout: '', stderr: '', exitCode: 0, via: 'warm-shell' });
  const second = await exec(b, `touch ${s.dir}/go; while [ ! -e ${s.dir}/written ]; do sleep 0.01; done; echo B; echo EB >&2`);
  expect({ stdout: second.stdout, stderr: second.stderr, via: second.via }).toEqual({ stdout: 'B\n', stderr: 'EB\n', via: 'warm-shell' });
}

describe('output written by a process a call left behind never reaches another client', () => {
  it("setsid -f: client B gets only B's stdout and stderr, 10 runs out of 10", async () => {
    const before = (await warmShell()).restarts;
    for (let i = 0; i < 10; i++) await crossClient((s) => `setsid -f sh -c '. ${s.late}'`);
    // Each run retired the shell that held A's leftover. A dead shell is counted when a call next looks for one.
    await until(
      async () => {
        await exec(b, 'true');
        return (await warmShell()).restarts === before + 10;
      },
      5_000,
      'ten retired shells',
    );
  });

  it('a script that backgrounds with &, and nohup … &', async () => {
    for (let i = 0; i < 3; i++) {
      await crossClient((s) => `sh ${s.script('bg.sh', `( sh ${s.late} ) &\n`)}`);
      // nohup keeps an output that is not a terminal: the pipe stays with the process.
      await crossClient((s) => `sh ${s.script('nohup.sh', `nohup sh ${s.late} &\n`)}`);
    }
  });

  it('a daemon that double-forks into a new session, and one that moved the pipe to fd 5', async () => {
    for (let i = 0; i < 3; i++) {
      await crossClient((s) => `sh ${s.script('daemon.sh', `( ( exec setsid sh ${s.late} ) & )\n`)}`);
      // Its fds 0-2 are /dev/null; the pipes are on 5 and 6 only.
      await crossClient(
        (s) =>
          `sh ${s.script(
            'fd5.sh',
            ['exec 5>&1 6>&2 >/dev/null 2>&1', `( trap '' PIPE; while [ ! -e ${s.dir}/go ]; do sleep 0.01; done; echo FROM-A >&5; echo ERR-A >&6; touch ${s.dir}/written ) &`, ''].join('\n'),
          )}`,
      );
    }
  });

  it('a leftover that keeps only stderr', async () => {
    for (let i = 0; i < 3; i++) await crossClient((s) => `setsid -f sh ${s.late} >/dev/null`);
  });
});

describe('the cost of a leftover', () => {
  it('one whose output goes elsewhere keeps the shell: no restart', async () => {
    const before = await warmShell();
    await crossClient((s) => `setsid -f sh ${s.late} >/dev/null 2>&1`);
    // Redirected before the fork. (`( … ) >log &` redirects in the child after the fork: a check that runs
    // before the child does sees the pipe and retires the shell, which costs a restart but is not wrong.)
    await crossClient((s) => `sh ${s.script('quiet.sh', `exec >${s.dir}/log 2>&1\n( sh ${s.late} ) &\n`)}`);
    const after = await warmShell();
    expect({ started: after.started, restarts: after.restarts }).toEqual({ started: before.started, restarts: before.restarts });
  });

  it('a call that starts hundreds of processes (every process is looked at) keeps the shell', async () => {
    const before = await warmShell();
    const r = await exec(a, 'i=0; while [ $i -lt 300 ]; do /bin/true; i=$((i+1)); done; echo $i');
    expect(r).toMatchObject({ stdout: '300\n', via: 'warm-shell' });
    expect((await exec(b, 'echo next')).stdout).toBe('next\n');
    expect((await warmShell()).restarts).toBe(before.restarts);
  });

  it("a retired shell's channel is closed: a leftover that keeps writing is not left blocked on a pipe nobody reads", async () => {
    const r = await exec(a, "setsid -f sh -c 'while :; do echo tick-3176; sleep 0.05; done'");
    expect(r.via).toBe('warm-shell');
    // Its next write after the close fails with SIGPIPE.
    await until(async () => (await remoteProcesses(fleet.user, 'tick-3176')).length === 0, 5_000, 'the leftover writer to end');
    await until(
      async () => {
        const web1 = (await a.call('pool.list')).connections.find((x) => x.host === 'web1')!;
        return web1.channels.open === web1.warmShells;
      },
      5_000,
      "the retired shell's channel to be released",
    );
    expect((await exec(b, 'echo after')).stdout).toBe('after\n');
  });
});
