// scoutctl forward end to end (issue 20): forwards scoutd owns outlive the CLI, carry 100 concurrent
// connections, come back by themselves after the host's sshd restarts, speak SOCKS5 (-D) and listen on the
// host (-R); policy refuses them where it says so, and scoutd stopping closes every listener. The "remote
// side" is this machine seen from the loopback sshd: 127.0.0.1 there is 127.0.0.1 here.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scoutctl } from './fixtures/daemon.js';
import { until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

const pexec = promisify(execFile);
const fleet = useFleet(['web1', 'web2']);

/** An echo server: what comes in goes back, prefixed so a reply cannot be our own bytes. */
let echo: net.Server;
let echoPort = 0;
let web: http.Server;
let webPort = 0;

beforeAll(async () => {
  echo = net.createServer((s) => s.on('data', (d: Buffer) => s.write(Buffer.concat([Buffer.from('echo:'), d]))).on('error', () => {}));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as net.AddressInfo).port;
  web = http.createServer((_req, res) => res.end('hello through the forward\n'));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  webPort = (web.address() as net.AddressInfo).port;
});

afterAll(() => {
  echo.close();
  web.close();
});

/** A free local port (listened on and closed). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Send `msg` to 127.0.0.1:port and read the echo; rejects on error or a connection closed early. */
function roundTrip(port: number, msg: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const fail = (e: Error) => {
      clearTimeout(t);
      s.destroy();
      reject(e);
    };
    const t = setTimeout(() => fail(new Error('no echo in time')), timeoutMs);
    s.on('connect', () => s.write(msg));
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got === `echo:${msg}`) {
        clearTimeout(t);
        s.end();
        resolve(got);
      }
    });
    s.on('error', fail);
    s.on('close', () => fail(new Error(`closed after '${got}'`)));
  });
}

/** Send `msg`, half-close (FIN), and read what comes back until the far side closes. */
function halfClose(port: number, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('connect', () => s.end(msg));
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
}

describe('scoutctl forward', () => {
  it('-L outlives the CLI, carries 100 concurrent connections, and comes back by itself after sshd restarts', async () => {
    const d = await fleet.startDaemon();
    const port = await freePort();
    const opened = await scoutctl(['forward', 'web1', '-L', `127.0.0.1:${port}:127.0.0.1:${echoPort}`], d.env);
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout).toMatch(/^f\d+ +local +127\.0\.0\.1:\d+ -> web1 -> 127\.0\.0\.1:\d+ +up/);
    // The CLI has exited; the forward answers.
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => roundTrip(port, `conn-${i}`)));
    expect(replies).toEqual(Array.from({ length: 100 }, (_, i) => `echo:conn-${i}`));
    const listed = await scoutctl(['--json', 'forward', 'list'], d.env);
    expect(JSON.parse(listed.stdout).forwards[0]).toMatchObject({ kind: 'local', host: 'web1', state: 'up', total: 100 });

    // A client that has sent everything (FIN) still gets the answer: the forward passes the half-close on.
    expect(await halfClose(port, 'then-fin')).toBe('echo:then-fin');

    await fleet.server('web1').stop();
    await fleet.server('web1').start();
    const back = Date.now();
    await until(
      () =>
        roundTrip(port, 'after-restart', 2_000).then(
          () => true,
          () => false,
        ),
      10_000,
      'the forward to work again within 10 s of the restart',
    );
    expect(Date.now() - back).toBeLessThanOrEqual(10_000);
  });

  it('-D is a SOCKS5 proxy curl can use; -R makes the host listen and reach a server here', async () => {
    const d = await fleet.startDaemon();
    const socks = await freePort();
    expect((await scoutctl(['forward', 'web1', '-D', String(socks)], d.env)).code).toBe(0);
    // --socks5-hostname: the name is resolved by the host, as with ssh -D.
    const { stdout } = await pexec('curl', ['-sS', '--max-time', '10', '--socks5-hostname', `127.0.0.1:${socks}`, `http://localhost:${webPort}/`]);
    expect(stdout).toBe('hello through the forward\n');
    // status and pool show it, with its connections and bytes.
    expect((await scoutctl(['status'], d.env)).stdout).toMatch(new RegExp(`forward: +f\\d+ +dynamic +127\\.0\\.0\\.1:${socks} \\(SOCKS5\\) -> web1 +up, 0 open, 1 total, \\d+ B out, \\d+ B in`));
    expect((await scoutctl(['pool'], d.env)).stdout).toMatch(new RegExp(`forward f\\d+ +dynamic +127\\.0\\.0\\.1:${socks}`));

    const remote = await freePort();
    const r = await scoutctl(['forward', 'web1', '-R', `${remote}:127.0.0.1:${echoPort}`], d.env);
    expect(r.code, r.stderr).toBe(0);
    expect(await roundTrip(remote, 'via-the-host')).toBe('echo:via-the-host');
    expect(await halfClose(remote, 'fin-via-the-host')).toBe('echo:fin-via-the-host');

    // close: its listener goes away.
    const id = /^(f\d+)/.exec(r.stdout)![1];
    expect((await scoutctl(['forward', 'close', id], d.env)).code).toBe(0);
    await expect(roundTrip(remote, 'closed', 2_000)).rejects.toThrow();
  });

  it('is refused by policy (forwards: false, read-only), and scoutd stopping closes every listener', async () => {
    const config = path.join(fleet.root, 'forward-policy.json');
    fs.writeFileSync(config, JSON.stringify({ hosts: { web1: { forwards: false }, web2: { readOnly: true } } }));
    const d = await fleet.startDaemon({ SCOUT_CONFIG: config });
    for (const host of ['web1', 'web2']) {
      const r = await scoutctl(['forward', host, '-D', '0'], d.env);
      expect(r.code, host).not.toBe(0);
      expect(r.stderr, host).toMatch(/POLICY_DENIED/);
    }
    await d.stop();
    const d2 = await fleet.startDaemon();
    const port = await freePort();
    expect((await scoutctl(['forward', 'web1', '-L', `${port}:127.0.0.1:${echoPort}`], d2.env)).code).toBe(0);
    expect(await roundTrip(port, 'before-stop')).toBe('echo:before-stop');
    expect((await scoutctl(['stop'], d2.env)).code).toBe(0);
    await expect(roundTrip(port, 'after-stop', 2_000)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('refuses a malformed spec before asking the daemon', async () => {
    const d = await fleet.startDaemon();
    const r = await scoutctl(['forward', 'web1', '-L', '8080:localhost'], d.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'8080:localhost' is not [bind:]port:host:hostport");
  });
});
