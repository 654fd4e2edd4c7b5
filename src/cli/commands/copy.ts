// scoutctl get / put / cp: the three directions of transfer.*, each checked against the table by its call.
import { UsageError } from '../args.js';
import type { CommandContext } from '../main.js';
import { localPath, requireRemote, runTransfer } from '../transfer.js';

/** The two ends, as words, and -r. */
function ends(ctx: CommandContext, usage: string): { a: string; b: string; recursive?: true } {
  const [a, b, ...more] = ctx.args.positional;
  if (!a || !b || more.length) throw new UsageError(usage);
  return { a, b, ...(ctx.args.flags.has('recursive') ? { recursive: true } : {}) };
}

export function get(ctx: CommandContext): Promise<number> {
  const { a, b, recursive } = ends(ctx, 'get needs HOST:PATH and a LOCAL path');
  const from = requireRemote(a, 'the source');
  const localPathTo = localPath(b, 'the local destination');
  return runTransfer(ctx, (client, opts) => client.call('transfer.get', { host: from.host, remotePath: from.path, localPath: localPathTo, recursive }, opts), `${from.host}:${from.path}`);
}

export function put(ctx: CommandContext): Promise<number> {
  const { a, b, recursive } = ends(ctx, 'put needs a LOCAL path and HOST:PATH');
  const source = localPath(a, 'the local source');
  const to = requireRemote(b, 'the destination');
  return runTransfer(ctx, (client, opts) => client.call('transfer.put', { host: to.host, localPath: source, remotePath: to.path, recursive }, opts), source, to.host);
}

export function cp(ctx: CommandContext): Promise<number> {
  const { a, b, recursive } = ends(ctx, 'cp needs two HOST:PATH arguments (use get or put for local paths)');
  const from = requireRemote(a, 'the source');
  const to = requireRemote(b, 'the destination');
  return runTransfer(ctx, (client, opts) => client.call('transfer.copy', { from, to, recursive }, opts), `${from.host}:${from.path}`, to.host);
}
