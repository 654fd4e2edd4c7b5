// How every command reaches the daemon: one ScoutClient, named for the audit trail. Commands that do work
// start a daemon when none runs; status, stop and reload never do (connectIfRunning).
import { ScoutClient } from '../client/client.js';
import { isScoutError } from '../protocol/errors.js';
import type { CommandContext } from './main.js';

export async function connect(ctx: CommandContext): Promise<ScoutClient> {
  const client = new ScoutClient({ socket: ctx.socket, clientName: 'scoutctl', autoStart: true });
  await client.connect();
  return client;
}

/**
 * A client to the daemon if one runs, else undefined: for commands that report on or act on a running daemon
 * and must never start one. Any error other than "not running" is thrown.
 */
export async function connectIfRunning(ctx: CommandContext): Promise<ScoutClient | undefined> {
  const client = new ScoutClient({ socket: ctx.socket, clientName: 'scoutctl' });
  try {
    await client.connect();
    return client;
  } catch (err) {
    if (isScoutError(err, 'DAEMON_UNAVAILABLE')) return undefined;
    throw err;
  }
}
