// How every command reaches the daemon: one ScoutClient, named for the audit trail. Commands that do work
// start a daemon when none runs; status, stop and reload never do (connectIfRunning).
import { ScoutClient } from '../client/client.js';
import { ScoutError, isScoutError } from '../protocol/errors.js';
import { approvalAsker } from './approve.js';
import { type CommandContext, reportError } from './main.js';

export async function connect(ctx: CommandContext): Promise<ScoutClient> {
  // A call held for approval (policy confirm) asks on this terminal, or says how to decide it elsewhere.
  const client: ScoutClient = new ScoutClient({ socket: ctx.socket, clientName: 'scoutctl', autoStart: true, onApproval: approvalAsker(ctx.io, () => client) });
  await client.connect().catch(advise);
  return client;
}

/**
 * For commands whose exit code is the remote one (exec, shell): a client, or undefined after the error was
 * reported (the command then exits 255, as ssh does when it cannot connect).
 */
export async function connectOrReport(ctx: CommandContext): Promise<ScoutClient | undefined> {
  try {
    return await connect(ctx);
  } catch (err) {
    reportError(err, ctx.io, ctx.json);
    return undefined;
  }
}

/**
 * A client to the daemon if one runs, else undefined: for commands that report on or act on a running daemon
 * and must never start one. Any error other than "not running" is thrown.
 */
export async function connectIfRunning(ctx: CommandContext): Promise<ScoutClient | undefined> {
  const client = new ScoutClient({ socket: ctx.socket, clientName: 'scoutctl' });
  try {
    await client.connect().catch(advise);
    return client;
  } catch (err) {
    if (isScoutError(err, 'DAEMON_UNAVAILABLE')) return undefined;
    throw err;
  }
}

/** A refused socket, told to the person at the terminal: what it may mean, and the flag that avoids it. */
export function advise(err: unknown): never {
  if (!isScoutError(err, 'SOCKET_UNTRUSTED')) throw err;
  throw new ScoutError(
    err.code,
    `${err.message}. Nothing was sent to it: if you did not make it, another local user may have, to read your commands; use --socket PATH (or SCOUT_SOCKET) in a directory only you can write`,
    err.details,
  );
}

/** Bound on waiting for the daemon to finish its graceful drain and close the socket. */
const STOP_WAIT_MS = 30_000;

/** Ask the daemon to stop and wait (bounded) until it has drained and closed the connection; its pid. */
export async function shutdownDaemon(client: ScoutClient): Promise<number | undefined> {
  const pid = client.hello?.pid;
  const closed = Promise.race([client.waitClosed(), new Promise<void>((r) => setTimeout(r, STOP_WAIT_MS).unref())]);
  await client.call('daemon.shutdown');
  await closed;
  return pid;
}
