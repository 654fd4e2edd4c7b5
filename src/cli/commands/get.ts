import { UsageError } from '../args.js';
import type { CommandContext } from '../main.js';
import { localPath, requireRemote, runTransfer, transferArgs } from '../transfer.js';

export async function run(ctx: CommandContext): Promise<number> {
  const { words, recursive } = transferArgs(ctx);
  if (words.length !== 2) throw new UsageError('get needs HOST:PATH and a LOCAL path');
  const from = requireRemote(words[0], 'the source');
  const to = localPath(words[1], 'the local destination');
  return runTransfer(
    ctx,
    (client, opts) => client.call('transfer.get', { host: from.host, remotePath: from.path, localPath: to, ...(recursive ? { recursive } : {}) }, opts),
    `${from.host}:${from.path}`,
  );
}
