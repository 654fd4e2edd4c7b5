import { UsageError } from '../args.js';
import type { CommandContext } from '../main.js';
import { localPath, requireRemote, runTransfer, transferArgs } from '../transfer.js';

export async function run(ctx: CommandContext): Promise<number> {
  const { words, recursive } = transferArgs(ctx);
  if (words.length !== 2) throw new UsageError('put needs a LOCAL path and HOST:PATH');
  const from = localPath(words[0], 'the local source');
  const to = requireRemote(words[1], 'the destination');
  return runTransfer(ctx, (client, opts) => client.call('transfer.put', { host: to.host, localPath: from, remotePath: to.path, ...(recursive ? { recursive } : {}) }, opts), from, to.host);
}
