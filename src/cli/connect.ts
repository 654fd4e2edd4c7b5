// How every command reaches the daemon: one ScoutClient, named for the audit trail.
import { ScoutClient } from '../client/client.js';
import type { CommandContext } from './main.js';

export async function connect(ctx: CommandContext): Promise<ScoutClient> {
  const client = new ScoutClient({ socket: ctx.socket, clientName: 'scoutctl' });
  await client.connect();
  return client;
}
