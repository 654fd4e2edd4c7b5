// How every command reaches the daemon: one ScoutClient, named for the audit trail. Commands that do work
// start a daemon when none runs (status and stop build their own client and never do).
import { ScoutClient } from '../client/client.js';
import type { CommandContext } from './main.js';

export async function connect(ctx: CommandContext): Promise<ScoutClient> {
  const client = new ScoutClient({ socket: ctx.socket, clientName: 'scoutctl', autoStart: true });
  await client.connect();
  return client;
}
