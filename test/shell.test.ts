// scoutctl shell end to end (issue 20): in a real terminal (a tmux pane) it is `ssh -t` over the pooled
// connection: the local TERM and size, resizes, the remote exit code, the terminal given back as it was;
// without a terminal it is `ssh -T`. The daemon side: one attach per session, by its token only.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SCOUTCTL, scoutctl } from './fixtures/daemon.js';
import { remoteProcesses, until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

const pexec = promisify(execFile);
const fleet = useFleet(['web1', 'web2']);

/** A tmux server of this test's own, so nothing of the user's is touched. */
function tmux(sock: string) {
  const run = async (...args: string[]) => (await pexec('tmux', ['-S', sock, ...args])).stdout;
  return {
    run,
    screen: async () => run('capture-pane', '-p', '-J', '-S', '-100', '-t', 't'),
    /** Wait until the pane shows `re` (an event on screen, not a sleep). */
    waitFor: async (re: RegExp, what: string) => {
      let last = '';
      await until(
        async () => {
          last = await run('capture-pane', '-p', '-J', '-S', '-100', '-t', 't');
          return re.test(last);
        },
        15_000,
        `${what}; the pane shows:\n${last}`,
      );
    },
    type: (text: string) => run('send-keys', '-t', 't', '-l', text).then(() => run('send-keys', '-t', 't', 'Enter')),
  };
}

describe('scoutctl shell in a terminal', () => {
  it('has the local TERM and size, follows a resize, exits with the remote code and gives the terminal back as it was', async () => {
    const d = await fleet.startDaemon();
    const sock = path.join(fleet.root, `tmux-${randomBytes(3).toString('hex')}`);
    const t = tmux(sock);
    const out = path.join(fleet.root, 'stty');
    const env = Object.entries({ ...d.env, TERM: 'screen-256color' })
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${String(v).replace(/'/g, "'\\''")}`)
      .map((kv) => `'${kv}'`)
      .join(' ');
    try {
      await t.run('new-session', '-d', '-s', 't', '-x', '100', '-y', '30', `env -i ${env} /bin/sh`);
      await t.type(`PS1='local$ '; stty -a | tail -n +2 > ${out}.before; ${process.execPath} ${SCOUTCTL} shell web1; echo "RC=$?"; stty -a | tail -n +2 > ${out}.after`);
      await t.waitFor(/\$ $/m, 'the remote prompt');
      await t.type('echo "T=$TERM S=$(stty size)"');
      await t.waitFor(/T=screen-256color S=30 100/, 'the local TERM and the pane size on the remote side');
      await t.run('resize-window', '-t', 't', '-x', '120', '-y', '40');
      await t.type('echo "S2=$(stty size)"');
      await t.waitFor(/S2=40 120/, 'the new size on the remote side');
      await t.type('exit 7');
      await t.waitFor(/RC=7/, 'scoutctl to exit with the remote exit code');
      await until(() => fs.existsSync(`${out}.after`) && fs.statSync(`${out}.after`).size > 0, 5_000, 'stty after');
      // The terminal's modes are what they were (the size line is left out: the pane was resized).
      expect(fs.readFileSync(`${out}.after`, 'utf8')).toBe(fs.readFileSync(`${out}.before`, 'utf8'));
    } finally {
      await t.run('kill-server').catch(() => {});
    }
  });
});

describe('scoutctl shell without a terminal', () => {
  it('is ssh -T: the command or the piped script runs, in --cwd, and its exit code or signal is scoutctl exit', async () => {
    const d = await fleet.startDaemon();
    expect(await scoutctl(['shell', 'web1', '--', 'echo hi; test -t 0 || echo no-tty; exit 7'], d.env)).toMatchObject({ code: 7, stdout: 'hi\nno-tty\n', stderr: '' });
    expect(await scoutctl(['shell', '--cwd', '/etc', 'web1'], d.env, 'pwd\necho from-stdin\nexit 3\n')).toMatchObject({ code: 3, stdout: '/etc\nfrom-stdin\n' });
    expect((await scoutctl(['shell', 'web1', '--', 'kill -TERM $$'], d.env)).code).toBe(143);
    // Output larger than any pipe buffer arrives whole before scoutctl exits.
    const big = await scoutctl(['shell', 'web1', '--', 'head -c 3000000 /dev/zero | tr "\\0" x; echo; exit 0'], d.env);
    expect(big.code).toBe(0);
    expect(big.stdout.length).toBe(3_000_001);
  });

  it('a scoutctl that is killed hangs up its session: the remote process is gone', async () => {
    const d = await fleet.startDaemon();
    const tag = `sleep 300.${randomBytes(3).readUIntBE(0, 3)}`;
    const { spawn } = await import('node:child_process');
    const p = spawn(process.execPath, [SCOUTCTL, 'shell', 'web1', '--', tag], { env: d.env, stdio: ['pipe', 'pipe', 'pipe'] });
    await until(async () => (await remoteProcesses(fleet.user, tag)).length > 0, 10_000, 'the remote sleep');
    p.kill('SIGKILL');
    await until(async () => (await remoteProcesses(fleet.user, tag)).length === 0, 5_000, 'the remote sleep to be gone after scoutctl was killed');
  });

  it('scoutctl stop hangs up an open session at once, not after the shutdown grace period', async () => {
    const d = await fleet.startDaemon({ SCOUT_SHUTDOWN_GRACE: '30' });
    const tag = `sleep 300.${randomBytes(3).readUIntBE(0, 3)}`;
    const session = scoutctl(['shell', 'web1', '--', tag], d.env);
    await until(async () => (await remoteProcesses(fleet.user, tag)).length > 0, 10_000, 'the remote sleep');
    const t0 = Date.now();
    expect((await scoutctl(['stop'], d.env)).code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect((await session).code).not.toBe(0);
    await until(async () => (await remoteProcesses(fleet.user, tag)).length === 0, 5_000, 'the remote sleep to be gone');
  });

  it('is refused on a host whose policy has command rules or is read-only', async () => {
    const config = path.join(fleet.root, 'shell-policy.json');
    fs.writeFileSync(config, JSON.stringify({ hosts: { web1: { readOnly: true }, web2: { allow: ['uptime'] } } }));
    const d = await fleet.startDaemon({ SCOUT_CONFIG: config });
    for (const host of ['web1', 'web2']) {
      const r = await scoutctl(['shell', host, '--', 'true'], d.env);
      expect(r.code, host).toBe(255);
      expect(r.stderr, host).toMatch(/POLICY_DENIED/);
    }
  });
});

describe('shell.attach', () => {
  it('attaches once, by the token shell.ready gave; a made-up token is refused', async () => {
    const d = await fleet.startDaemon();
    const client = await d.client();
    let token = '';
    const opened = client.call('shell.open', { host: 'web1', command: 'cat' }, { onNotification: (m, p) => m === 'shell.ready' && (token = p.token) });
    await until(() => token !== '', 10_000, 'shell.ready');
    await expect(client.attach({ token: 'f'.repeat(32) })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const sock = await client.attach({ token });
    await expect(client.attach({ token })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    // Bytes both ways through cat, then EOF ends it with cat's status.
    let echoed = '';
    sock.on('data', (b: Buffer) => (echoed += b.toString())).resume();
    sock.end('ping\n');
    expect(await opened).toEqual({ exitCode: 0, signal: null });
    await until(() => echoed === 'ping\n', 5_000, 'the echo');
    expect(await client.call('shell.resize', { token, cols: 80, rows: 24 })).toEqual({ resized: false });
    client.close();
  });
});
