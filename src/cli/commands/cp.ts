import { UsageError } from '../args.js';
import type { CommandContext } from '../main.js';
import { requireRemote, runTransfer, transferArgs } from '../transfer.js';

export async function run(ctx: CommandContext): Promise<number> {
  const { words, recursive } = transferArgs(ctx);
  if (words.length !== 2) throw new UsageError('cp needs two HOST:PATH arguments (use get or put for local paths)');
  const from = requireRemote(words[0], 'the source');
  const to = requireRemote(words[1], 'the destination');
  return runTransfer(ctx, (client, opts) => client.call('transfer.copy', { from, to, ...(recursive ? { recursive } : {}) }, opts), `${from.host}:${from.path}`, to.host);
}
