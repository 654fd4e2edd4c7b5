// Stopping a command sends `signal` requests on its channel. Once we have sent CHANNEL_CLOSE, OpenSSH may
// free the channel before its own CLOSE reaches us, and it answers any later request on that channel by
// disconnecting the whole connection ("server_input_channel_req: unknown channel"): every other call on the
// connection would fail. A late signal (a KILL from a timer or an exit handler) must therefore never be sent.
import fs from 'node:fs';
import net from 'node:net';
import ssh2, { type ClientChannel } from 'ssh2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { trySignal } from '../src/ssh/exec.js';
import { until } from './fixtures/expect.js';
import { startFleet, type Fleet } from './fixtures/sshd.js';

let fleet: Fleet;

beforeAll(async () => {
  // LogLevel DEBUG makes sshd log when it frees a channel: the event this test waits for.
  fleet = await startFleet(['sig1'], { config: ['LogLevel DEBUG'] });
});

afterAll(async () => {
  await fleet?.cleanup();
});

function exec(conn: ssh2.Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => conn.exec(command, (err, stream) => (err ? reject(err) : resolve(stream))));
}

it('a signal after our CHANNEL_CLOSE is not sent: sshd freeing the channel first does not cost the connection', async () => {
  const server = fleet.server('sig1');
  const sock = net.connect({ host: '127.0.0.1', port: server.port });
  const conn = new ssh2.Client();
  const lost: string[] = [];
  conn.on('error', (err) => lost.push(err.message));
  conn.on('close', () => lost.push('closed'));
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', () => resolve()).once('error', reject);
    conn.connect({ sock, username: fleet.user, privateKey: fs.readFileSync(fleet.clientKeyPath) });
  });
  try {
    // Signalled only once it runs: sshd's killpg fails ("No such process") for a request that arrives before
    // the session's child has made its process group, and then nothing would ever free the channel.
    const stream = await exec(conn, 'echo started; sleep 30');
    await new Promise<void>((resolve) => stream.once('data', () => resolve()));
    stream.on('data', () => undefined);
    const freed = () => (fs.readFileSync(server.logPath, 'utf8').match(/free: server-session/g) ?? []).length;
    const freedBefore = freed();

    // Stop it as Scout does: KILL to the process group, then close our side.
    trySignal(stream, 'KILL');
    stream.close();
    // Hold back sshd's answers (exit-signal, CLOSE) so ssh2 still sees the channel as closing, not closed,
    // while sshd frees it: the window in which a late KILL used to go out.
    sock.pause();
    await until(() => freed() > freedBefore, 10_000, 'sshd to free the channel');
    trySignal(stream, 'KILL');
    sock.resume();

    // The connection still serves calls.
    const next = await exec(conn, 'echo alive');
    const out: Buffer[] = [];
    next.on('data', (b: Buffer) => out.push(b));
    await new Promise((resolve) => next.on('close', resolve));
    expect(Buffer.concat(out).toString()).toBe('alive\n');
    expect(lost).toEqual([]);
  } finally {
    conn.end();
  }
});
