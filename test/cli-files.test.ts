// scoutctl cat / ls / stat / tree / find / write as real processes, and exec on a terminal: output streams as
// it arrives and Ctrl-C stops the remote command.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FsListResult } from '../src/protocol/methods/index.js';
import { shellQuote } from '../src/ssh/quote.js';
import { SCOUTCTL, scoutctl, type DaemonProc } from './fixtures/daemon.js';
import { remoteProcesses, until } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1']);
let daemon: DaemonProc;
let dir: string;

/** scoutctl with raw bytes on stdin and stdout. */
function scoutctlBytes(args: string[], input: Buffer): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [SCOUTCTL, ...args], { env: daemon.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    p.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
    p.stdin.end(input);
  });
}

beforeAll(async () => {
  const r = await fleet.runAsUser('mktemp -d /tmp/sf-cli-XXXXXX');
  dir = r.stdout.trim();
  daemon = await fleet.startDaemon();
});

afterAll(async () => {
  if (dir) await fleet.runAsUser(`rm -rf ${shellQuote(dir)}`);
});

describe('scoutctl file commands', () => {
  it('write from stdin, then cat, byte-exact for text and binary', async () => {
    const bin = randomBytes(200_000);
    const w = await scoutctlBytes(['write', '-p', `web1:${dir}/sub/blob.bin`, '--mode', '600'], bin);
    expect(w.stderr).toBe(`wrote ${bin.length} bytes to web1:${dir}/sub/blob.bin\n`);
    expect(w.code).toBe(0);
    expect(fs.readFileSync(`${dir}/sub/blob.bin`).equals(bin)).toBe(true);
    expect(fs.statSync(`${dir}/sub/blob.bin`).mode & 0o777).toBe(0o600);
    const back = await scoutctlBytes(['cat', `web1:${dir}/sub/blob.bin`], Buffer.alloc(0));
    expect(back.code).toBe(0);
    expect(back.stdout.equals(bin)).toBe(true);

    const text = 'héllo\nworld\n';
    expect((await scoutctl(['write', `web1:${dir}/hello.txt`], daemon.env, text)).code).toBe(0);
    expect(await scoutctl(['cat', `web1:${dir}/hello.txt`], daemon.env)).toEqual({ code: 0, stdout: text, stderr: '' });
    const capped = await scoutctl(['cat', `web1:${dir}/hello.txt`, '--max-bytes', '3'], daemon.env);
    expect(capped.stdout).toBe('hé');
    expect(capped.stderr).toContain('truncated at 3 of 13 bytes');
  });

  it('ls, stat, tree and find print what is there; a missing path exits 1 with its code', async () => {
    fs.symlinkSync('hello.txt', `${dir}/link`);
    const ls = await scoutctl(['ls', `web1:${dir}`], daemon.env);
    expect(ls.code).toBe(0);
    const rows = ls.stdout.trimEnd().split('\n');
    expect(rows.map((l) => l.split(/\s+/).slice(4).join(' '))).toEqual(['sub/', 'hello.txt', 'link -> hello.txt']);
    expect(rows[0]).toMatch(/^drwx/);
    expect(rows[1]).toMatch(/^-rw-r--r--\s+13\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+hello\.txt$/);
    const json = JSON.parse((await scoutctl(['ls', `web1:${dir}`, '--json'], daemon.env)).stdout) as FsListResult;
    expect(json.entries.map((e) => e.name)).toEqual(['sub', 'hello.txt', 'link']);

    const st = await scoutctl(['stat', `web1:${dir}/link`], daemon.env);
    expect(st.stdout).toMatch(new RegExp(`^path:  web1:${dir}/link\ntype:  symlink -> hello.txt\nsize:  9\nmode:  0777 \\(lrwxrwxrwx\\)\nmtime: \\d{4}-.*Z\n$`));

    const tree = await scoutctl(['tree', `web1:${dir}`], daemon.env);
    expect(tree.stdout).toBe([`web1:${dir}`, '├── sub/', '│   └── blob.bin', '├── hello.txt', '└── link', '', '4 entries', ''].join('\n'));

    const find = await scoutctl(['find', `web1:${dir}`, '*.bin', '--type', 'f'], daemon.env);
    expect(find).toEqual({ code: 0, stdout: `${dir}/sub/blob.bin\n`, stderr: '' });

    const missing = await scoutctl(['cat', `web1:${dir}/nope`], daemon.env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope.*\[REMOTE_NOT_FOUND\]\n$/);
  });
});

describe('scoutctl exec on a terminal', () => {
  it('streams output as it arrives, and Ctrl-C stops the remote command (exit 130)', async () => {
    const c = await daemon.client();
    // The SFTP session of the tests above holds a channel of its own; the command's channel comes and goes.
    const open = async () => (await c.call('pool.list')).connections.reduce((n, x) => n + x.channels.open, 0);
    const before = await open();
    // script(1) gives scoutctl a pseudo-terminal; ^C written to it is delivered as SIGINT, as a keyboard would.
    const cmd = [process.execPath, SCOUTCTL, 'exec', 'web1', '--', 'echo started; sleep 603'].map(shellQuote).join(' ');
    const p = spawn('script', ['-qfec', cmd, '/dev/null'], { env: daemon.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => p.on('close', (code) => resolve(code)));
    // 'started' is on screen while the command is still running: streamed, not collected to the end.
    await until(() => out.includes('started'), 15_000, 'streamed output');
    await until(async () => (await remoteProcesses(fleet.user, 'sleep 603')).length > 0, 5_000, 'the remote sleep');
    const t0 = Date.now();
    p.stdin.write('\x03');
    expect(await exited).toBe(130);
    expect(out).toContain('stopping the remote command');
    await until(async () => (await remoteProcesses(fleet.user, 'sleep 603')).length === 0, 2_000 - (Date.now() - t0), 'the remote sleep to be gone');
    await until(async () => (await open()) === before, 2_000, 'the command channel to close');
    c.close();
  });

  it('piped, exec prints the whole output at the end and --stdin feeds the command', async () => {
    const r = await scoutctl(['exec', 'web1', '--stdin', '--', 'tr a-z A-Z'], daemon.env, 'quiet please\n');
    expect(r).toEqual({ code: 0, stdout: 'QUIET PLEASE\n', stderr: '' });
  });
});
