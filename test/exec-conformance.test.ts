// The ssh.exec conformance suite, run against a real scoutd in both exec modes: `off` (an exec channel per
// command, the reference) and `on` (short commands through a resident shell), the latter for a /bin/sh (dash)
// login and for a bash login with rc files, where plain commands run in the resident shell itself
// (plain-command.ts). Every test asserts the same expected result in every configuration, and in `on` mode
// that the fast path really served the eligible calls.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoutClient } from '../src/client/client.js';
import type { ExecResult } from '../src/protocol/methods/index.js';
import { scoutctl, startDaemon, type DaemonProc } from './fixtures/daemon.js';
import { expectCode, remoteProcesses as processesOf, until } from './fixtures/expect.js';
import { ensureUser } from './fixtures/sshd.js';
import { useFleet } from './fixtures/suite.js';

/** A printf format printing bytes 0…255 in order, as octal escapes (printf turns \045 into a literal %). */
const ALL_BYTES_FORMAT = Array.from({ length: 256 }, (_, i) => `\\${i.toString(8).padStart(3, '0')}`).join('');

/** The second remote user, with bash as login shell (created as root; the rest of the suite needs no root). */
const BASH_USER = 'scout-test-bash';

// `slow` models a login whose rc files take a second: every session sleeps before running its command.
// `noloop` models a login shell that cannot run the resident loop (fish, csh): the loop's session fails at
// once while every other command runs.
// `bash1` logs in as a second user whose login shell is bash, with an rc file (bashRc).
const fleet = useFleet(['web1', 'slow', 'noloop', 'bash1'], {
  perHost: {
    bash1: { config: [`AllowUsers ${BASH_USER}`] },
    slow: { config: ['ForceCommand sleep 1; eval "$SSH_ORIGINAL_COMMAND"'] },
    noloop: { config: ['ForceCommand case "$SSH_ORIGINAL_COMMAND" in *__scout_n*) echo "unsupported shell" >&2; exit 127;; *) eval "$SSH_ORIGINAL_COMMAND";; esac'] },
  },
});

beforeAll(() => {
  fleet.writeConfig({ bash1: [`User ${BASH_USER}`] });
  writeBashRc(fleet.root);
});

/** Processes of the remote test user whose command line contains `needle`. */
const remoteProcesses = (needle: string, user = fleet.user) => processesOf(user, needle);

/**
 * The bash login's ~/.bashrc (bash started by sshd reads it even for a command: Debian's SSH_SOURCE_BASHRC):
 * a function, an alias, a function that shadows a program and changes the shell's directory, and a PATH with
 * two directories for the program-lookup test.
 */
function writeBashRc(root: string): void {
  const { home } = ensureUser(BASH_USER, '/bin/bash');
  for (const dir of ['bin-a', 'bin-b']) fs.mkdirSync(path.join(root, dir), { mode: 0o755 });
  fs.writeFileSync(
    path.join(home, '.bashrc'),
    ['greet() { echo "hello from rc"; }', 'stat() { cd /; command stat "$@"; }', "alias ll='ls -l'", `PATH=${root}/bin-a:${root}/bin-b:$PATH`, ''].join('\n'),
    { mode: 0o644 },
  );
}

/** A scoutd and its client for one describe block (its own socket): started before its tests, killed after them. */
function useDaemon(name: string, extra: Record<string, string> = {}): { daemon: DaemonProc; c: ScoutClient } {
  const d = {} as { daemon: DaemonProc; c: ScoutClient };
  beforeAll(async () => {
    d.daemon = await startDaemon(fleet.env({ SCOUT_SOCKET: path.join(fleet.root, `run-${name}`, 'scoutd.sock'), ...extra }));
    d.c = await d.daemon.client();
  });
  afterAll(async () => {
    d.c?.close();
    await d.daemon?.kill9();
  });
  return d;
}

const CONFIGS = [
  { mode: 'off', host: 'web1', tag: 42, login: 'sh' },
  { mode: 'on', host: 'web1', tag: 41, login: 'sh' },
  { mode: 'off', host: 'bash1', tag: 44, login: 'bash' },
  { mode: 'on', host: 'bash1', tag: 43, login: 'bash' },
] as const;

describe.each(CONFIGS)('ssh.exec with SCOUT_EXEC_MODE=$mode, $login login', ({ mode, host, tag, login }) => {
  const user = () => (login === 'bash' ? BASH_USER : fleet.user);
  const d = useDaemon(`${mode}-${login}`, { SCOUT_EXEC_MODE: mode });
  // (tag: fresh sleep arguments per configuration, so pgrep in one never sees another's processes.)

  /** Run a command; `fast` says whether the fast path must serve it in `on` mode (else it falls back). */
  async function run(command: string, extra: Record<string, unknown> = {}, fast = true): Promise<ExecResult> {
    const r = await d.c.call('ssh.exec', { host, command, ...extra });
    expect(r.via, command).toBe(mode === 'on' && fast ? 'warm-shell' : 'exec-channel');
    return r;
  }

  it('stdout and stderr apart, exactly, with the exit code; output without a trailing newline; cwd', async () => {
    expect(await run("printf 'out\\nline2'; printf 'err' >&2; exit 7")).toMatchObject({ stdout: 'out\nline2', stderr: 'err', exitCode: 7, signal: null, truncated: false });
    expect(await run('id -un; pwd', { cwd: '/tmp' })).toMatchObject({ stdout: `${user()}\n/tmp\n`, exitCode: 0 });
    expect(await run('printf ""')).toMatchObject({ stdout: '', stderr: '', exitCode: 0 });
    const missing = await run('nosuchcommand-7');
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toMatch(/nosuchcommand-7.*not found/);
  });

  it('binary output comes back as base64, every byte intact', async () => {
    const r = await run(`printf '${ALL_BYTES_FORMAT}'`);
    expect(r.encoding).toBe('base64');
    expect(Buffer.from(r.stdout, 'base64')).toEqual(Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
  });

  it('truncates at maxOutputBytes per stream and says so', async () => {
    const r = await run('head -c 5000 /dev/zero | tr "\\0" a; head -c 300 /dev/zero | tr "\\0" b >&2', { maxOutputBytes: 1000 });
    expect(r).toMatchObject({ stdout: 'a'.repeat(1000), stderr: 'b'.repeat(300), truncated: true, exitCode: 0 });
  });

  it('hostile input: quotes, backslashes, newlines, here-docs, marker-like lines and unicode pass through untouched', async () => {
    const cmd = [`printf '%s\\n' "it's" 'say "hi"' 'back\\slash' '$HOME' '\`date\`' 'ünï ✓'`, "cat <<'EOF'", 'S0123 E0123 0', '', '  indented\\', 'EOF', 'echo end'].join('\n');
    expect(await run(cmd)).toMatchObject({ stdout: `it's\nsay "hi"\nback\\slash\n$HOME\n\`date\`\nünï ✓\nS0123 E0123 0\n\n  indented\\\nend\n`, exitCode: 0 });
    expect(await run('echo "$(printf \'\\nE%032d 0\\n\' 5)"; echo tail')).toMatchObject({ stdout: `\nE${'0'.repeat(31)}5 0\ntail\n` });
  });

  it('commands that read stdin see end-of-file at once', async () => {
    expect(await run('cat; read x; echo "read=$? x=${x-unset}"')).toMatchObject({ stdout: 'read=1 x=\n', exitCode: 0 });
  });

  it('stdin given to the call reaches the command (an exec channel serves it), and so does env', async () => {
    expect(await run('cat; echo " [$?]"', { stdin: 'fed in' }, false)).toMatchObject({ stdout: 'fed in [0]\n', exitCode: 0 });
    expect(await run('true', { env: { SCOUT_Z: '1' } }, false)).toMatchObject({ exitCode: 0 });
  });

  it('streamed output arrives as exec.output notifications that add up to the result', async () => {
    const got = { stdout: '', stderr: '' };
    const r = await d.c.call(
      'ssh.exec',
      { host, command: "printf 'one\n'; printf 'err1' >&2; sleep 0.2; printf 'two'", stream: true },
      {
        onNotification: (m, params) => {
          if (m === 'exec.output') got[params.stream as 'stdout' | 'stderr'] += params.data as string;
        },
      },
    );
    expect(r).toMatchObject({ stdout: 'one\ntwo', stderr: 'err1', exitCode: 0, via: mode === 'on' ? 'warm-shell' : 'exec-channel' });
    expect(got).toEqual({ stdout: 'one\ntwo', stderr: 'err1' });
  });

  it('commands that close stdout early, and a reader that stops a pipe', async () => {
    expect(await run('exec >&-; echo lost 2>/dev/null; echo kept >&2; exit 4')).toMatchObject({ stdout: '', stderr: 'kept\n', exitCode: 4 });
    expect(await run('yes | head -n 2')).toMatchObject({ stdout: 'y\ny\n', exitCode: 0 });
  });

  it('`exit` inside the command and `exec` replacing the shell', async () => {
    expect(await run('echo a; exit 42; echo b')).toMatchObject({ stdout: 'a\n', exitCode: 42 });
    expect(await run('exec sh -c \'echo "$0 $1"; exit 5\' named arg')).toMatchObject({ stdout: 'named arg\n', exitCode: 5 });
    // The shell that served them is still there for the next call.
    expect(await run('echo after')).toMatchObject({ stdout: 'after\n' });
  });

  it('background & children: output they write before closing stdout is part of the result', async () => {
    const t0 = Date.now();
    const r = await run('(sleep 0.3; echo late) & echo early', {}, false);
    expect(r).toMatchObject({ stdout: 'early\nlate\n', exitCode: 0 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    // Detached from stdout, a background child does not hold the call.
    expect(await run(`sleep ${tag}01 >/dev/null 2>&1 & echo detached`, {}, false)).toMatchObject({ stdout: 'detached\n' });
    await d.c.call('ssh.exec', { host, command: `pkill -f 'sleep ${tag}01' || true` });
  });

  it('a command killed by a signal reports the signal', async () => {
    expect(await run('kill -TERM $$', {}, false)).toMatchObject({ exitCode: null, signal: 'SIGTERM' });
    expect(await run('timeout -s KILL 0.2 sleep 5; echo "status $?"')).toMatchObject({ stdout: 'status 137\n', exitCode: 0 });
  });

  it('no state leaks between calls: cd, export, umask, functions', async () => {
    const before = await run('pwd; umask; echo "${SCOUT_Y-unset}"');
    await run('cd /tmp; export SCOUT_Y=1; umask 077; g() { :; }');
    const after = await run('pwd; umask; echo "${SCOUT_Y-unset}"; command -v g || echo no-g');
    expect(after.stdout).toBe(`${before.stdout}no-g\n`);
  });

  it('a timeout kills the command and its children and the connection stays usable', async () => {
    const t0 = Date.now();
    await expectCode(d.c.call('ssh.exec', { host, command: `sleep ${tag}02 | cat; echo never`, timeoutMs: 500 }), 'COMMAND_TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(5_000);
    await until(async () => (await remoteProcesses(`sleep ${tag}02`, user())).length === 0, 5_000, 'the remote sleep to exit');
    expect(await run('echo ok')).toMatchObject({ stdout: 'ok\n' });
    expect((await d.c.call('pool.list')).hosts.find((h) => h.host === host)?.created).toBe(1);
  });

  it('cancellation kills the command and the next call succeeds', async () => {
    const ac = new AbortController();
    const p = d.c.call('ssh.exec', { host, command: `sleep ${tag}03; echo never` }, { signal: ac.signal });
    await until(async () => (await remoteProcesses(`sleep ${tag}03`, user())).length > 0, 5_000, 'the remote sleep to start');
    ac.abort();
    await expectCode(p, 'CANCELLED');
    await until(async () => (await remoteProcesses(`sleep ${tag}03`, user())).length === 0, 5_000, 'the remote sleep to exit');
    expect(await run('echo ok')).toMatchObject({ stdout: 'ok\n' });
  });

  // More calls at once than resident shells: the rest take exec channels. (Kept within MaxSessions: sshd frees
  // a session slot lazily after the cancels above, so more at once can meet "open failed" in either mode.)
  it('six concurrent calls all succeed with their own output', async () => {
    const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => d.c.call('ssh.exec', { host, command: `sleep 0.2; echo n${i}; echo e${i} >&2` })));
    expect(rs.map((r) => r.stdout)).toEqual(Array.from({ length: 6 }, (_, i) => `n${i}\n`));
    expect(rs.map((r) => r.stderr)).toEqual(Array.from({ length: 6 }, (_, i) => `e${i}\n`));
    expect(rs.filter((r) => r.via === 'warm-shell').length).toBe(mode === 'on' ? 2 : 0);
  });

  it('daemon.status counts fast-path hits and fallbacks; a per-call mode overrides the setting', async () => {
    const before = (await d.c.call('daemon.status')).warmShell!;
    const other = mode === 'on' ? 'off' : 'on';
    await run('true');
    const r = await d.c.call('ssh.exec', { host, command: 'echo x', mode: other });
    expect(r.via).toBe(other === 'on' ? 'warm-shell' : 'exec-channel');
    await run('sleep 0 & wait', {}, false);
    const after = (await d.c.call('daemon.status')).warmShell!;
    // Only a call that ran in a resident shell is a hit; a call that chose `off` is not a fallback.
    expect(after.hits).toBe(before.hits + 1);
    expect(after.fallbacks.background ?? 0).toBe((before.fallbacks.background ?? 0) + (mode === 'on' ? 1 : 0));
    expect(after.live).toBeGreaterThanOrEqual(1);
    expect((await d.c.call('daemon.status')).settings.find((s) => s.env === 'SCOUT_EXEC_MODE')?.value).toBe(mode);
    const st = await scoutctl(['status'], d.daemon.env);
    expect(st.stdout).toContain(`warm shells: ${after.live} live, ${after.hits} fast-path call`);
  });
});

/**
 * `command` through the resident shell and on an exec channel: the same stdout, stderr (as the channel's is
 * mapped by `expectedStderr`), exit code and signal.
 */
async function expectAsChannel(exec: (command: string, mode?: 'on' | 'off') => Promise<ExecResult>, command: string, expectedStderr = (s: string) => s): Promise<void> {
  const fast = await exec(command);
  const reference = await exec(command, 'off');
  expect(fast.via).toBe('warm-shell');
  expect({ command, stdout: fast.stdout, stderr: fast.stderr, exitCode: fast.exitCode, signal: fast.signal }).toEqual({
    command,
    stdout: reference.stdout,
    stderr: expectedStderr(reference.stderr),
    exitCode: reference.exitCode,
    signal: reference.signal,
  });
}

describe('plain commands in a bash login run in the resident shell itself', () => {
  const d = useDaemon('plain');

  const exec = (command: string, mode?: 'on' | 'off') => d.c.call('ssh.exec', { host: 'bash1', command, ...(mode ? { mode } : {}) });
  const direct = async () => (await d.c.call('daemon.status')).warmShell!.direct;

  it('give what an exec channel gives, without a subshell', async () => {
    const commands = ['true', 'false', 'ls -d /tmp /nonexistent-9', 'cat /etc/passwd | grep -c root', 'nosuchcommand-8 --flag', 'sleep 0.1; echo out; echo err >&2', 'greet'];
    await exec('true'); // the resident shell is up
    const before = await direct();
    for (const command of commands) await expectAsChannel(exec, command);
    // `greet` is a function from the rc: it ran (as in an exec channel), but in a subshell.
    expect(await direct()).toBe(before + commands.length - 1);
  });

  it('a function from the rc that shadows a program runs in a subshell: its cd does not leak', async () => {
    const home = (await exec('pwd')).stdout;
    const before = await direct();
    const r = await exec('stat -c %n /');
    expect(r).toMatchObject({ stdout: '/\n', exitCode: 0, via: 'warm-shell' });
    expect(await direct()).toBe(before);
    expect((await exec('pwd')).stdout).toBe(home);
    // printf -v assigns: it is not plain either.
    await exec('printf -v SCOUT_V 1');
    expect((await exec('echo "${SCOUT_V-unset}"')).stdout).toBe('unset\n');
  });

  it('a program installed after a call is found by the next one, as a fresh shell would', async () => {
    const install = (dir: string, says: string) => fs.writeFileSync(path.join(fleet.root, dir, 'scout-which'), `#!/bin/sh\necho ${says}\n`, { mode: 0o755 });
    install('bin-b', 'b');
    const before = await direct();
    expect((await exec('scout-which')).stdout).toBe('b\n');
    install('bin-a', 'a'); // earlier in PATH
    expect((await exec('scout-which')).stdout).toBe('a\n');
    expect(await direct()).toBe(before + 2);
  });
});

describe('plain commands in a dash login run in the resident shell itself', () => {
  const d = useDaemon('plain-dash');

  const exec = (command: string, mode?: 'on' | 'off') => d.c.call('ssh.exec', { host: 'web1', command, ...(mode ? { mode } : {}) });
  const direct = async () => (await d.c.call('daemon.status')).warmShell!.direct;

  it('give what an exec channel gives, without a subshell', async () => {
    const commands = ['true', 'false', 'ls -d /tmp /nonexistent-9', 'cat /etc/passwd | grep -c root', 'nosuchcommand-8 --flag', 'sleep 0.1; echo out; echo err >&2', 'type ls', 'pwd'];
    await exec('true'); // the resident shell is up
    const before = await direct();
    // The documented difference (docs/performance.md), the same as in the subshell: dash names `eval`.
    const evalPrefix = (stderr: string) => stderr.replace(/^sh: 1: (nosuchcommand)/, 'sh: 1: eval: $1');
    for (const command of commands) await expectAsChannel(exec, command, evalPrefix);
    expect(await direct()).toBe(before + commands.length);
  });

  it("what changes a shell runs in a subshell: nothing of it reaches the next client's command", async () => {
    const home = (await exec('pwd')).stdout;
    const umask = (await exec('umask')).stdout;
    const before = await direct();
    for (const command of [
      'cd /tmp',
      'chdir /tmp',
      'alias ls=false',
      'ls() { echo shadowed; }',
      'umask 077',
      'export SCOUT_LEAK=1',
      'SCOUT_LEAK=1',
      'set -e',
      'readonly PATH',
      'trap "echo trapped" EXIT',
    ]) {
      expect((await exec(command)).via, command).toBe('warm-shell');
    }
    expect(await direct()).toBe(before);
    expect((await exec('pwd')).stdout).toBe(home);
    expect((await exec('umask')).stdout).toBe(umask);
    expect((await exec('ls -d /')).stdout).toBe('/\n');
    expect((await exec('env')).stdout).not.toContain('SCOUT_LEAK');
    expect((await exec('false')).exitCode).toBe(1);
    expect((await exec('true')).stdout).toBe('');
  });

  it('under a ForceCommand (a wrapper may define functions dash cannot list) every command takes the subshell', async () => {
    await d.c.call('ssh.exec', { host: 'slow', command: 'true' }); // the resident shell is up
    const before = await direct();
    expect(await d.c.call('ssh.exec', { host: 'slow', command: 'echo hi' })).toMatchObject({ stdout: 'hi\n', via: 'warm-shell' });
    expect(await direct()).toBe(before);
  });
});

describe('resident shell lifecycle (auto mode)', () => {
  const d = useDaemon('auto');

  /** Pids of this fleet's resident shells: the bootstrap's processes whose parent is not one (subshells are forks). */
  function residentShells(): number[] {
    const procs = fs
      .readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .flatMap((n) => {
        try {
          const cmdline = fs.readFileSync(`/proc/${n}/cmdline`, 'utf8');
          // Only this fleet's sessions (sshd SetEnv marks them): another test file's shells are not ours to kill.
          if (!fs.readFileSync(`/proc/${n}/environ`, 'utf8').includes(`SCOUT_TEST_FLEET=${path.basename(fleet.root)}\0`)) return [];
          const stat = fs.readFileSync(`/proc/${n}/stat`, 'utf8');
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          return [{ pid: Number(n), ppid, ours: cmdline.includes('__scout_n') }];
        } catch {
          return [];
        }
      });
    const ours = new Set(procs.filter((p) => p.ours).map((p) => p.pid));
    return procs.filter((p) => p.ours && !ours.has(p.ppid)).map((p) => p.pid);
  }

  it('killed from the remote side mid-call: that call gets one coded error, the next call succeeds', async () => {
    expect((await d.c.call('ssh.exec', { host: 'web1', command: 'echo warm' })).via).toBe('warm-shell');
    const call = d.c.call('ssh.exec', { host: 'web1', command: 'echo started; sleep 3174' });
    await until(async () => (await remoteProcesses('sleep 3174')).length > 0, 5_000, 'the command to start');
    const shells = residentShells();
    expect(shells.length).toBeGreaterThanOrEqual(1);
    for (const pid of shells) process.kill(pid, 'SIGKILL');
    const err = await expectCode(call, 'REMOTE_IO');
    expect(err.details).toMatchObject({ reason: 'shell-exited', ran: true });
    const next = await d.c.call('ssh.exec', { host: 'web1', command: 'echo next' });
    expect(next).toMatchObject({ stdout: 'next\n', exitCode: 0, via: 'warm-shell' });
    const status = (await d.c.call('daemon.status')).warmShell!;
    expect(status.restarts).toBeGreaterThanOrEqual(1);
    expect((await d.c.call('pool.list')).hosts.find((h) => h.host === 'web1')?.created).toBe(1);
    // The dead shell's channel is given back: only live resident shells hold channels now.
    await until(
      async () => {
        const web1 = (await d.c.call('pool.list')).connections.find((x) => x.host === 'web1')!;
        return web1.channels.open === web1.warmShells;
      },
      5_000,
      "the dead shell's channel to be released",
    );
    await d.c.call('ssh.exec', { host: 'web1', command: "pkill -f 'sleep 3174' || true" });
  });

  it('a call whose timeout ends while its shell still starts times out without running; the shell then serves the next call', async () => {
    const marker = path.join(fleet.root, 'slow-ran');
    const startedBefore = (await d.c.call('daemon.status')).warmShell!.started;
    await expectCode(d.c.call('ssh.exec', { host: 'slow', command: `touch ${marker}`, timeoutMs: 300 }), 'COMMAND_TIMEOUT');
    const started = startedBefore + 1;
    await until(async () => (await d.c.call('daemon.status')).warmShell!.started === started, 10_000, 'the slow shell to become ready');
    expect(fs.existsSync(marker)).toBe(false);
    const r = await d.c.call('ssh.exec', { host: 'slow', command: 'echo warm; id -un' });
    expect(r).toMatchObject({ stdout: `warm\n${fleet.user}\n`, via: 'warm-shell' });
    // Served by the shell that was already up: no new session paid the slow login.
    expect((await d.c.call('daemon.status')).warmShell!.started).toBe(started);
  });

  it('a login shell that cannot run the loop: calls run on exec channels, and the host is not tried again', async () => {
    const before = (await d.c.call('daemon.status')).warmShell!;
    expect(await d.c.call('ssh.exec', { host: 'noloop', command: 'echo one' })).toMatchObject({ stdout: 'one\n', exitCode: 0, via: 'exec-channel' });
    expect(await d.c.call('ssh.exec', { host: 'noloop', command: 'echo two' })).toMatchObject({ stdout: 'two\n', exitCode: 0, via: 'exec-channel' });
    const after = (await d.c.call('daemon.status')).warmShell!;
    expect(after.fallbacks['start-failed'] ?? 0).toBe((before.fallbacks['start-failed'] ?? 0) + 1);
    expect(after.fallbacks.unavailable ?? 0).toBe((before.fallbacks.unavailable ?? 0) + 1);
    expect(after.started).toBe(before.started);
    // Asked for explicitly, the fast path reports why it cannot serve the call.
    const err = await expectCode(d.c.call('ssh.exec', { host: 'noloop', command: 'echo three', mode: 'on' }), 'CHANNEL_FAILED');
    expect(err.message).toMatch(/resident shell/);
  });

  it('killed between calls: the next call is served by a new resident shell without an error', async () => {
    await d.c.call('ssh.exec', { host: 'web1', command: 'true' });
    const shells = residentShells();
    expect(shells.length).toBeGreaterThanOrEqual(1);
    for (const pid of shells) process.kill(pid, 'SIGKILL');
    const r = await d.c.call('ssh.exec', { host: 'web1', command: 'echo fine' });
    expect(r).toMatchObject({ stdout: 'fine\n', exitCode: 0, via: 'warm-shell' });
  });
});
