// The resident-shell engine against a real sshd: every command runs both on an exec channel and through a
// resident shell of the same connection, and the two outcomes must be the same bytes, codes and errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isScoutError } from '../src/protocol/errors.js';
import { SshConnection } from '../src/ssh/connection.js';
import type { ExecOutcome } from '../src/ssh/exec.js';
import { newWarmShellCounters, type WarmShellCounters } from '../src/ssh/warm-shells.js';
import { remoteProcesses, until } from './fixtures/expect.js';
import { startFleet, type Fleet } from './fixtures/sshd.js';

/** A printf format printing bytes 0…255 in order, as octal escapes (printf turns \045 into a literal %). */
const ALL_BYTES_FORMAT = Array.from({ length: 256 }, (_, i) => `\\${i.toString(8).padStart(3, '0')}`).join('');

let fleet: Fleet;
let conn: SshConnection;
let counters: WarmShellCounters;

async function dial(limits: { maxSessions?: number; warmShells?: number; warmShellCounters?: WarmShellCounters } = {}): Promise<SshConnection> {
  const s = fleet.server('web1');
  return SshConnection.dial({
    host: 'web1',
    hostname: '127.0.0.1',
    port: s.port,
    username: fleet.user,
    identityFiles: [fleet.clientKeyPath],
    identitiesOnly: true,
    home: fleet.home,
    connectTimeoutMs: 10_000,
    keepaliveIntervalMs: 15_000,
    keepaliveCountMax: 3,
    maxSessions: 10,
    // The fixture's own throw-away host key: host-key checking is tested elsewhere.
    verifyHostKey: () => ({ ok: true }),
    warmShellCounters: counters,
    ...limits,
  });
}

beforeAll(async () => {
  fleet = await startFleet(['web1']);
  counters = newWarmShellCounters();
  conn = await dial();
});

afterAll(async () => {
  await conn?.close();
  await fleet?.cleanup();
});

const opts = { timeoutMs: 20_000, maxOutputBytes: 1024 * 1024 };

/** The parts of an outcome a caller sees. */
function seen(o: ExecOutcome) {
  return { exitCode: o.exitCode, signal: o.signal, stdout: o.stdout.toString('latin1'), stderr: o.stderr.toString('latin1'), truncated: o.truncated };
}

/** Run through an exec channel and through the fast path; assert both saw the same, return it. */
async function both(command: string, extra: Partial<typeof opts> = {}) {
  const viaChannel = seen(await conn.exec(command, { ...opts, ...extra }));
  const hits = counters.hits;
  const viaShell = seen(await conn.run(command, { ...opts, ...extra }, 'on'));
  expect(counters.hits, 'the fast path served the call').toBe(hits + 1);
  expect(viaShell).toEqual(viaChannel);
  return viaShell;
}

describe('a resident shell gives what an exec channel gives', () => {
  it('stdout and stderr apart, byte for byte, with and without a trailing newline, and the exit code', async () => {
    expect(await both("printf 'out\\nline2'; printf 'err' >&2; exit 7")).toMatchObject({ stdout: 'out\nline2', stderr: 'err', exitCode: 7 });
    expect(await both("printf '\\n\\n'")).toMatchObject({ stdout: '\n\n', stderr: '', exitCode: 0 });
    expect(await both('true')).toMatchObject({ stdout: '', stderr: '', exitCode: 0 });
  });

  it('all 256 byte values, and output larger than one channel window', async () => {
    const all = await both(`printf '${ALL_BYTES_FORMAT}'`);
    expect(Buffer.from(all.stdout, 'latin1')).toEqual(Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
    const big = await both('head -c 3000000 /dev/zero | tr "\\0" x; echo; head -c 100000 /dev/zero >&2', { maxOutputBytes: 4 * 1024 * 1024 });
    expect(big.stdout.length).toBe(3_000_001);
    expect(big.stderr.length).toBe(100_000);
  });

  it('caps output exactly and says so', async () => {
    const r = await both('head -c 5000 /dev/zero | tr "\\0" y', { maxOutputBytes: 1000 });
    expect(r).toMatchObject({ stdout: 'y'.repeat(1000), truncated: true });
  });

  it('output that forges markers is returned verbatim, and the nonce is not visible to the command', async () => {
    const forged = "printf 'S%032d\\n\\nE%032d 0\\nafter' 0 0; printf '\\nE%032d\\n' 0 >&2; set | grep -c __scout || true";
    const r = await both(forged);
    expect(r.stdout).toBe(`S${'0'.repeat(32)}\n\nE${'0'.repeat(32)} 0\nafter0\n`);
    expect(r.stderr).toBe(`\nE${'0'.repeat(32)}\n`);
    // Lines of the protocol inside the command text itself are just text.
    expect((await both("cat <<'X'\nS0\nE0 0\nX")).stdout).toBe('S0\nE0 0\n');
  });

  it('exit, exec and a closed stdout inside the command', async () => {
    const started = counters.started;
    expect(await both('echo before; exit 3; echo never')).toMatchObject({ stdout: 'before\n', exitCode: 3 });
    expect(await both('exec printf replaced')).toMatchObject({ stdout: 'replaced', exitCode: 0 });
    expect(await both('exec >&-; echo gone 2>/dev/null; echo still >&2')).toMatchObject({ stdout: '', stderr: 'still\n', exitCode: 0 });
    expect(await both('cat; echo "read $?"')).toMatchObject({ stdout: 'read 0\n' });
    // None of these ended the resident shell.
    expect(counters.started).toBe(started);
  });

  it('no state leaks from one call into the next: cd, export, umask, traps, functions, options', async () => {
    const before = await conn.run('pwd; umask; echo "${SCOUT_X-unset}"', opts, 'on');
    await conn.run("cd /tmp; export SCOUT_X=1; umask 077; f() { echo fn; }; trap 'echo trapped' EXIT; set -e; alias ll=ls", opts, 'on');
    const after = await conn.run('pwd; umask; echo "${SCOUT_X-unset}"; type f >/dev/null 2>&1 || echo nofn; false; echo not-errexit', opts, 'on');
    expect(after.stdout.toString()).toBe(`${before.stdout.toString()}nofn\nnot-errexit\n`);
    // The trap ran when the subshell ended, as it would at the end of `sh -c`.
    expect((await both("trap 'echo trapped' EXIT; echo body")).stdout).toBe('body\ntrapped\n');
  });

  it('a command killed by a signal from inside reports what the shell reports', async () => {
    expect(await both('timeout -s KILL 0.2 sleep 5; echo "status $?"')).toMatchObject({ stdout: 'status 137\n', exitCode: 0 });
  });
});

describe('stopping a command', () => {
  it('a timeout kills the whole process group, and the next call gets a fresh resident shell', async () => {
    // Any shell an earlier test left dead or retiring is replaced now, so the count below is this test's only
    // (a loaded CI run once counted two; the cause was not found, and the earlier tests kill and retire shells).
    await conn.run('true', opts, 'on');
    const restarts = counters.restarts;
    const t0 = Date.now();
    const err = await conn.run('sleep 3171 | cat; echo never', { ...opts, timeoutMs: 300 }, 'on').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isScoutError(err, 'COMMAND_TIMEOUT')).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5_000);
    await until(async () => (await remoteProcesses(fleet.user, 'sleep 3171')).length === 0, 5_000, 'the remote sleep to exit');
    expect((await conn.run('echo next', opts, 'on')).stdout.toString()).toBe('next\n');
    expect(counters.restarts).toBe(restarts + 1);
  });

  it('cancellation does the same', async () => {
    const ac = new AbortController();
    const p = conn.run('sleep 3172', { ...opts, signal: ac.signal }, 'on');
    await until(async () => (await remoteProcesses(fleet.user, 'sleep 3172')).length > 0, 5_000, 'the sleep to start');
    ac.abort();
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isScoutError(err, 'CANCELLED')).toBe(true);
    await until(async () => (await remoteProcesses(fleet.user, 'sleep 3172')).length === 0, 5_000, 'the remote sleep to exit');
    expect((await conn.run('echo next', opts, 'on')).stdout.toString()).toBe('next\n');
  });

  it('two calls at once use two resident shells; a third concurrent call falls back to a channel', async () => {
    const fallbacks = counters.fallbacks.busy ?? 0;
    const calls = await Promise.all([1, 2, 3].map((i) => conn.run(`sleep 0.3; echo ${i}`, opts, 'on')));
    expect(calls.map((c) => c.stdout.toString())).toEqual(['1\n', '2\n', '3\n']);
    expect(counters.fallbacks.busy).toBe(fallbacks + 1);
    expect(conn.shells.live).toBe(2);
  });
});

describe('when every channel is taken', () => {
  // One resident shell and two exec channels: the third call that needs a channel has to wait.
  let small: SshConnection;
  let own: WarmShellCounters;
  beforeAll(async () => {
    own = newWarmShellCounters();
    small = await dial({ maxSessions: 3, warmShells: 1, warmShellCounters: own });
  });
  afterAll(async () => {
    await small?.close();
  });

  /** Fill the connection: a short command on the shell, two long ones on the channels. */
  function fill() {
    const settled: string[] = [];
    const track = (name: string, p: Promise<ExecOutcome>) =>
      p.then((o) => {
        settled.push(name);
        return o;
      });
    const shell = track('shell', small.run('sleep 0.3; echo shell', opts, 'on'));
    const long = [1, 2].map((i) => track(`long${i}`, small.run(`sleep 3; echo long${i}`, opts, 'on')));
    return { settled, track, shell, long };
  }

  it('a call that can use the shell takes it as soon as its command ends, not the next free channel', async () => {
    const { settled, track, shell, long } = fill();
    await until(() => small.channelsOpen === 3, 5_000, 'the three channels to be taken');
    const waiting = track('waiting', small.run('echo waiting', opts, 'on'));
    expect((await waiting).via).toBe('warm-shell');
    expect((await waiting).stdout.toString()).toBe('waiting\n');
    expect((await shell).via).toBe('warm-shell');
    await Promise.all(long);
    // Both long commands end after the waiting call (in either order).
    expect(settled.slice(0, 2)).toEqual(['shell', 'waiting']);
    expect(own.started, 'the shell was handed on, not closed and restarted').toBe(1);
    expect(own.restarts).toBe(0);
  });

  it('a burst of calls arriving together: those beyond the free channels are shared by the shell and the channels', async () => {
    const calls = await Promise.all(Array.from({ length: 10 }, (_, i) => small.run(`sleep 0.2; echo ${i}`, opts, 'on')));
    expect(calls.map((c) => c.stdout.toString())).toEqual(Array.from({ length: 10 }, (_, i) => `${i}\n`));
    // Beyond the first call, the shell took calls that were waiting (not only channels served the queue).
    expect(calls.filter((c) => c.via === 'warm-shell').length).toBeGreaterThanOrEqual(2);
  });

  it('a call cancelled while it waits for a shell or a channel ends at once with CANCELLED; nothing is held', async () => {
    const { shell, long } = fill();
    await until(() => small.channelsOpen === 3, 5_000, 'the three channels to be taken');
    const abort = new AbortController();
    const waiting = small.run('echo never', { ...opts, signal: abort.signal }, 'on');
    abort.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
    expect((await shell).stdout.toString()).toBe('shell\n');
    // The shell is free again for the next call; the cancelled one took nothing with it.
    expect((await small.run('echo after', opts, 'on')).via).toBe('warm-shell');
    await Promise.all(long);
  });

  it("a call that cannot use a shell gets the idle shell's channel when the shell's command ends", async () => {
    const { settled, track, shell, long } = fill();
    await until(() => small.channelsOpen === 3, 5_000, 'the three channels to be taken');
    // Input rules the fast path out: this call needs an exec channel of its own.
    const waiting = track('waiting', small.run('cat', { ...opts, stdin: Buffer.from('waiting\n') }, 'on'));
    expect((await waiting).via).toBe('exec-channel');
    expect((await waiting).stdout.toString()).toBe('waiting\n');
    await Promise.all([shell, ...long]);
    // Both long commands end after the waiting call (in either order).
    expect(settled.slice(0, 2)).toEqual(['shell', 'waiting']);
  });
});
