// A call cancelled while its exec channel opens: the command may already run when the open completes, and sshd
// answers the exec request right after fork(), before the child has made its own process group (setsid). A
// signal that reaches sshd in that window finds no group (killpg: "No such process") and is lost; the command
// then runs on, and the close we send next is never answered (sshd waits for the child). Cancelling at once,
// 20 times over, hits that window in most runs on this machine; and the channel's close, which confirms the
// command gone, was never seen (nobody read its streams), so every such call waited the full KILL grace.
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runExec } from '../src/ssh/exec.js';
import { isScoutError } from '../src/protocol/errors.js';
import { remoteProcesses } from './fixtures/expect.js';
import { startFleet, type Fleet } from './fixtures/sshd.js';

let fleet: Fleet;
let conn: ssh2.Client;

beforeAll(async () => {
  fleet = await startFleet(['race1']);
  conn = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', () => resolve()).once('error', reject);
    conn.connect({ host: '127.0.0.1', port: fleet.server('race1').port, username: fleet.user, privateKey: fs.readFileSync(fleet.clientKeyPath) });
  });
});

afterAll(async () => {
  conn?.end();
  await fleet?.cleanup();
});

it('a command cancelled as its channel opens is gone when the call answers, every time', async () => {
  const tag = `sleep 300.${randomBytes(3).readUIntBE(0, 3)}`;
  const answers: string[] = [];
  for (let i = 0; i < 20; i++) {
    const ac = new AbortController();
    const call = runExec(conn, 'race1', tag, { signal: ac.signal, timeoutMs: 30_000, maxOutputBytes: 1024 });
    ac.abort(); // the open is in flight: the command starts, and is stopped as soon as the open completes
    const err = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    // It answers once sshd closed the channel: the command is confirmed gone, not "signalled but may run".
    answers.push(isScoutError(err) ? `${err.code} stopped=${err.details?.stopped}` : String(err));
    // The answer comes once the command is gone: nothing of it is left on the host.
    expect(await remoteProcesses(fleet.user, tag), `run ${i + 1}`).toEqual([]);
  }
  expect(answers).toEqual(answers.map(() => 'CANCELLED stopped=true'));
});

it('a command stopped the moment it starts gets its TERM, every time: its trap runs', async () => {
  const stamp = `${randomBytes(4).toString('hex')}`;
  const answers: string[] = [];
  const trapped: boolean[] = [];
  for (let i = 0; i < 20; i++) {
    const marker = `/tmp/scout-term-${stamp}-${i}`;
    const ac = new AbortController();
    // Cancelled as soon as the channel is open (onStarted): sshd may not have made the command's process group yet.
    const call = runExec(conn, 'race1', `trap 'echo term > ${marker}; exit 3' TERM; while :; do sleep 0.02; done`, {
      signal: ac.signal,
      timeoutMs: 10_000,
      maxOutputBytes: 1024,
      onStarted: () => ac.abort(),
    });
    const err = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    answers.push(isScoutError(err) ? `${err.code} stopped=${err.details?.stopped}` : String(err));
    trapped.push(fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === 'term\n');
    fs.rmSync(marker, { force: true });
  }
  expect(answers).toEqual(answers.map(() => 'CANCELLED stopped=true'));
  // Without the wait after the open, TERM reached the shell before its trap was set: it died of it, no
  // marker, in every run on this machine.
  expect(trapped).toEqual(trapped.map(() => true));
});

it("a job's signal sent the moment it starts finds its handler, every time", async () => {
  const codes: Array<number | null> = [];
  for (let i = 0; i < 20; i++) {
    const out = await runExec(conn, 'race1', `trap 'exit 3' TERM; while :; do sleep 0.02; done`, {
      timeoutMs: 3_000, // a lost TERM runs into it
      maxOutputBytes: 1024,
      onStarted: (control) => control.signal('TERM'),
    });
    codes.push(out.exitCode);
  }
  expect(codes).toEqual(codes.map(() => 3));
});
