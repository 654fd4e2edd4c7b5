// ssh.exec end to end against real sshd: stdin, env, streamed output, bounded output, and cancellation that
// leaves nothing running on the server; hostile names through fs.* and exec cwd never execute.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ScoutClient } from '../src/client/client.js';
import type { ExecOutput } from '../src/protocol/methods/index.js';
import type { DaemonProc } from './fixtures/daemon.js';
import { expectCode, remoteProcesses, until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

/** The bound: a cancelled command is gone from the server within 2 s. */
const GONE_WITHIN_MS = 2_000;

// AcceptEnv: the server decides which variables a client may set (OpenSSH accepts none by default).
const fleet = useFleet(['web1'], { config: ['AcceptEnv SCOUT_T_*'] });
let daemon: DaemonProc;
let c: ScoutClient;

async function channelsOpen(host: string): Promise<number> {
  const pool = await c.call('pool.list');
  return pool.connections.filter((x) => x.host === host).reduce((n, x) => n + x.channels.open, 0);
}

beforeAll(async () => {
  daemon = await fleet.startDaemon();
  c = await daemon.client();
});

describe('ssh.exec input', () => {
  it('feeds stdin (text and base64) and passes env the server accepts', async () => {
    const text = await c.call('ssh.exec', { host: 'web1', command: 'wc -c; echo', stdin: 'héllo\n' });
    expect(text.stdout.trim()).toBe('7');
    const bin = randomBytes(300_000);
    const r = await c.call('ssh.exec', { host: 'web1', command: 'sha256sum', stdin: bin.toString('base64'), stdinEncoding: 'base64' });
    const { createHash } = await import('node:crypto');
    expect(r.stdout.split(' ')[0]).toBe(createHash('sha256').update(bin).digest('hex'));
    const env = await c.call('ssh.exec', { host: 'web1', command: 'printf "%s|%s" "$SCOUT_T_A" "$OTHER_VAR"', env: { SCOUT_T_A: "it's $(not) run", OTHER_VAR: 'refused by AcceptEnv' } });
    expect(env.stdout).toBe("it's $(not) run|");
  });
});

describe('ssh.exec output', () => {
  it('a command printing 50 MB returns the capped output with truncated, and daemon RSS grows by less than 64 MB', async () => {
    const total = 50 * 1024 * 1024;
    const before = (await c.call('daemon.status')).rssBytes;
    let peak = before;
    let done = false;
    const call = c.call('ssh.exec', { host: 'web1', command: `yes 0123456789abcde | head -c ${total}; echo tail >&2` }).finally(() => (done = true));
    while (!done) {
      peak = Math.max(peak, (await c.call('daemon.status')).rssBytes);
      await new Promise((r) => setTimeout(r, 20));
    }
    const r = await call;
    peak = Math.max(peak, (await c.call('daemon.status')).rssBytes);
    console.log(`daemon rss: ${(before / 2 ** 20).toFixed(1)} MiB before, ${(peak / 2 ** 20).toFixed(1)} MiB peak while a command printed 50 MiB`);
    expect(r.exitCode).toBe(0);
    expect(r.truncated).toBe(true);
    expect(r.stdout).toBe('0123456789abcde\n'.repeat(65536));
    expect(r.stderr).toBe('tail\n');
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('stream: true delivers output as it arrives, before the command ends, then the whole result', async () => {
    const events: Array<{ kind: 'output'; n: ExecOutput } | { kind: 'result' }> = [];
    const r = await c
      .call(
        'ssh.exec',
        { host: 'web1', command: 'echo a; sleep 1; echo b; echo err >&2', stream: true },
        {
          onNotification: (method, params) => {
            expect(method).toBe('exec.output');
            events.push({ kind: 'output', n: params as unknown as ExecOutput });
          },
        },
      )
      .then((res) => {
        events.push({ kind: 'result' });
        return res;
      });
    expect(r).toMatchObject({ stdout: 'a\nb\n', stderr: 'err\n', exitCode: 0 });
    // 'a' came alone, a second before 'b': it was sent while the command was still running.
    const outputs = events.filter((e) => e.kind === 'output').map((e) => (e as { n: ExecOutput }).n);
    expect(outputs[0]).toMatchObject({ stream: 'stdout', data: 'a\n' });
    expect(
      outputs
        .filter((o) => o.stream === 'stdout')
        .map((o) => o.data)
        .join(''),
    ).toBe('a\nb\n');
    expect(
      outputs
        .filter((o) => o.stream === 'stderr')
        .map((o) => o.data)
        .join(''),
    ).toBe('err\n');
    expect(events[events.length - 1].kind).toBe('result');
    expect(outputs.every((o) => typeof o.id === 'number' && o.encoding === undefined)).toBe(true);
  });

  it('streamed bytes that are not UTF-8 arrive as base64, a character split across chunks whole', async () => {
    const chunks: ExecOutput[] = [];
    // é is 0xC3 0xA9: printed in two writes a second apart, so it reaches the daemon in two chunks.
    const r = await c.call(
      'ssh.exec',
      { host: 'web1', command: "printf 'x\\303'; sleep 0.5; printf '\\251y'; sleep 0.5; printf '\\377'", stream: true },
      {
        onNotification: (_m, p) => chunks.push(p as unknown as ExecOutput),
      },
    );
    expect(r.encoding).toBe('base64');
    const bytes = Buffer.concat(chunks.map((ch) => Buffer.from(ch.data, ch.encoding === 'base64' ? 'base64' : 'utf8')));
    expect(bytes.equals(Buffer.from([0x78, 0xc3, 0xa9, 0x79, 0xff]))).toBe(true);
    expect(chunks.map((ch) => ch.data).slice(0, 2)).toEqual(['x', 'éy']);
    expect(chunks[2]).toMatchObject({ encoding: 'base64', data: Buffer.from([0xff]).toString('base64') });
  });
});

describe('ssh.exec cwd', () => {
  it('a cwd that cannot be entered runs no part of the command, on a warm shell and on an exec channel', async () => {
    const base = (await fleet.runAsUser('mktemp -d /tmp/sf-cwd-XXXXXX')).stdout.trim();
    try {
      for (const [mode, via] of [
        ['on', 'warm-shell'],
        ['off', 'exec-channel'],
      ] as const) {
        // `cd -- d && a; b` used to run b in the login directory.
        const r = await c.call('ssh.exec', { host: 'web1', command: `touch ${base}/first-${mode}; touch ${base}/second-${mode}`, cwd: `${base}/missing`, mode });
        expect(r.exitCode, mode).not.toBe(0);
        expect(r.via).toBe(via);
        expect(r.stderr, mode).toMatch(/missing/);
        expect(fs.readdirSync(base), mode).toEqual([]);
      }
      // The warm shell that ran the refused command still serves, in its own directory.
      expect(await c.call('ssh.exec', { host: 'web1', command: 'pwd; echo ok', cwd: base, mode: 'on' })).toMatchObject({ exitCode: 0, stdout: `${base}\nok\n` });
    } finally {
      await fleet.runAsUser(`rm -rf '${base}'`);
    }
  });
});

describe('cancellation', () => {
  it('$/cancel stops sleep 600: CANCELLED, no remote process within 2 s, channel count back to zero', async () => {
    const ac = new AbortController();
    const call = c.call('ssh.exec', { host: 'web1', command: 'sleep 600; echo never' }, { signal: ac.signal });
    await until(async () => (await remoteProcesses(fleet.user, 'sleep 600')).length > 0, 10_000, 'the remote sleep to start');
    expect(await channelsOpen('web1')).toBe(1);
    const t0 = Date.now();
    ac.abort();
    await expectCode(call, 'CANCELLED');
    await until(async () => (await remoteProcesses(fleet.user, 'sleep 600')).length === 0, GONE_WITHIN_MS - (Date.now() - t0), 'the remote sleep to be gone');
    await until(async () => (await channelsOpen('web1')) === 0, GONE_WITHIN_MS, 'the channel to close');
  });

  it('a client that disconnects mid-command leaves no remote process within 2 s and no open channel', async () => {
    const gone = await daemon.client('leaver');
    const call = gone.call('ssh.exec', { host: 'web1', command: 'sleep 601; echo never' });
    call.catch(() => {}); // ends with DAEMON_UNAVAILABLE when we hang up
    await until(async () => (await remoteProcesses(fleet.user, 'sleep 601')).length > 0, 10_000, 'the remote sleep to start');
    const t0 = Date.now();
    gone.close();
    await until(async () => (await remoteProcesses(fleet.user, 'sleep 601')).length === 0, GONE_WITHIN_MS, 'the remote sleep to be gone');
    console.log(`remote process gone ${Date.now() - t0} ms after the client hung up`);
    await until(async () => (await channelsOpen('web1')) === 0, GONE_WITHIN_MS, 'the channel to close');
    // The daemon logged the call as cancelled by the disconnect.
    await until(() => daemon.logLines().some((l) => l.msg === 'done' && l.method === 'ssh.exec' && l.outcome === 'CANCELLED'), 5_000, 'the cancelled call in the log');
  });

  it('a timeout stops the command the same way', async () => {
    await expectCode(c.call('ssh.exec', { host: 'web1', command: 'sleep 602', timeoutMs: 300 }), 'COMMAND_TIMEOUT');
    await until(async () => (await remoteProcesses(fleet.user, 'sleep 602')).length === 0, GONE_WITHIN_MS, 'the remote sleep to be gone');
    await until(async () => (await channelsOpen('web1')) === 0, GONE_WITHIN_MS, 'the channel to close');
  });
});

describe('hostile names', () => {
  // Spaces, both quotes, $(), backticks, a newline, a leading dash, a glob, non-ASCII: each a way a shell
  // string built by concatenation would run something or go elsewhere.
  const NAMES = ['-rf x', "it's", 'say "hi"', '$(touch PWNED)', '`touch PWNED`', 'line\nbreak', '*', 'ünï cødé ✓', '; touch PWNED #'];

  it('work through fs.* and exec cwd, and nothing executes', async () => {
    const r = await fleet.runAsUser('mktemp -d /tmp/sf-hostile-XXXXXX');
    const base = r.stdout.trim();
    const home = (await fleet.runAsUser('echo "$HOME"')).stdout.trim();
    try {
      for (const name of NAMES) {
        const d = path.join(base, name);
        const f = path.join(d, name);
        await c.call('fs.write', { host: 'web1', path: f, content: name, createDirs: true });
        expect(fs.readFileSync(f, 'utf8')).toBe(name);
        expect((await c.call('fs.read', { host: 'web1', path: f })).content).toBe(name);
        expect((await c.call('fs.stat', { host: 'web1', path: d })).type).toBe('dir');
        expect((await c.call('fs.list', { host: 'web1', path: d })).entries.map((e) => e.name)).toEqual([name]);
        // cwd reaches a shell (`cd -- DIR || exit; …`): it must arrive as one literal word.
        const pwd = await c.call('ssh.exec', { host: 'web1', command: 'pwd; ls', cwd: d });
        expect(pwd).toMatchObject({ exitCode: 0, stdout: `${d}\n${name}\n` });
      }
      const found = await c.call('fs.find', { host: 'web1', path: base, pattern: '*', type: 'file' });
      expect(found.paths.sort()).toEqual(NAMES.map((n) => path.join(base, n, n)).sort());
      // Nothing ran: no PWNED anywhere a shell could have been sitting.
      for (const where of [base, home, os.tmpdir(), ...NAMES.map((n) => path.join(base, n))]) expect(fs.existsSync(path.join(where, 'PWNED')), where).toBe(false);
    } finally {
      await fleet.runAsUser(`rm -rf '${base}'`);
    }
  });
});
