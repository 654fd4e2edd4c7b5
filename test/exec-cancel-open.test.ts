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

/**
 * Start a call 20 times, each with a fresh AbortController that `start` cancels: every call answers CANCELLED
 * once sshd closed the channel (the command confirmed gone, not "signalled but may run"), and nothing of `tag`
 * is left on the host when it answers.
 */
async function expectConfirmedCancels(tag: string, start: (ac: AbortController) => Promise<unknown>): Promise<void> {
  const answers: string[] = [];
  for (let i = 0; i < 20; i++) {
    const err = await start(new AbortController()).then(
      () => undefined,
      (e: unknown) => e,
    );
    answers.push(isScoutError(err) ? `${err.code} stopped=${err.details?.stopped}` : String(err));
    expect(await remoteProcesses(fleet.user, tag), `run ${i + 1}`).toEqual([]);
  }
  expect(answers).toEqual(answers.map(() => 'CANCELLED stopped=true'));
}

it('a command cancelled as its channel opens is gone when the call answers, every time', async () => {
  const tag = `sleep 300.${randomBytes(3).readUIntBE(0, 3)}`;
  await expectConfirmedCancels(tag, (ac) => {
    const call = runExec(conn, 'race1', tag, { signal: ac.signal, timeoutMs: 30_000, maxOutputBytes: 1024 });
    ac.abort(); // the open is in flight: the command starts, and is stopped as soon as the open completes
    return call;
  });
});

// Whether a command's TERM trap runs when it is stopped at once depends on how fast its shell starts: the 50 ms
// wait (SETSID_WAIT_MS) made it run in 20 of 20 here, but under CI's load 1 in 20 did not, so that figure lives
// in exec.ts's comment, not in an assertion. What is asserted holds whatever the timing.
it('a cancel made the moment the command starts is answered, confirmed, and leaves nothing behind', async () => {
  const tag = `sleep 300.${randomBytes(3).readUIntBE(0, 3)}`;
  // Cancelled from onStarted: before the stop's listener existed, this cancel fired nothing and the command
  // ran into its timeout.
  await expectConfirmedCancels(tag, (ac) => runExec(conn, 'race1', tag, { signal: ac.signal, timeoutMs: 10_000, maxOutputBytes: 1024, onStarted: () => ac.abort() }));
});

it("a job's signal sent the moment it starts is not lost: the command ends by it", async () => {
  const ends: string[] = [];
  for (let i = 0; i < 20; i++) {
    const out = await runExec(conn, 'race1', 'while :; do sleep 0.02; done', {
      timeoutMs: 5_000, // a lost TERM runs into it
      maxOutputBytes: 1024,
      onStarted: (control) => control.signal('TERM'),
    });
    ends.push(`${out.exitCode ?? out.signal}`);
  }
  expect(ends).toEqual(ends.map(() => 'SIGTERM'));
});
