// What scoutctl get, put and cp share: HOST:PATH parsing, local paths made absolute (scoutd's working
// directory is not ours), the progress bar and the summary line.
import path from 'node:path';
import type { CallOptions, ScoutClient } from '../client/client.js';
import type { TransferResult } from '../protocol/methods/index.js';
import { remotePath } from '../protocol/paths.js';
import { UsageError } from './args.js';
import { connect } from './connect.js';
import { reportError, type CommandContext } from './main.js';
import { bytes, duration, json, visible } from './output.js';

export interface RemoteSpec {
  host: string;
  path: string;
}

/** `web1:/etc/hosts` → {host, path}; undefined when the word has no `HOST:` part. */
export function parseRemote(word: string): RemoteSpec | undefined {
  const i = word.indexOf(':');
  if (i <= 0 || word.startsWith('/') || word.startsWith('.')) return undefined;
  const p = word.slice(i + 1);
  return { host: word.slice(0, i), path: p === '' ? '.' : remotePath(p) };
}

export function requireRemote(word: string | undefined, what: string): RemoteSpec {
  const r = word === undefined ? undefined : parseRemote(word);
  if (!r) throw new UsageError(`${what} must be HOST:PATH`);
  return r;
}

/** Local paths are resolved against scoutctl's own working directory before they reach the daemon. */
export function localPath(word: string | undefined, what: string): string {
  if (!word) throw new UsageError(`${what} is missing`);
  return path.resolve(word);
}

type TransferMethod = 'transfer.get' | 'transfer.put' | 'transfer.copy';

/**
 * `start` makes the call (`client.call('transfer.get', …, opts)`), so its params are checked against the table.
 * `destHost` prefixes the written path in the summary (`web1:/srv/x`); a get writes locally and has none.
 */
export async function runTransfer(ctx: CommandContext, start: (client: ScoutClient, opts: CallOptions<TransferMethod>) => Promise<TransferResult>, label: string, destHost?: string): Promise<number> {
  const client = await connect(ctx);
  const stderr = process.stderr;
  const bar = !ctx.json && stderr.isTTY ? new (await import('./progress.js')).ProgressBar(stderr, label) : undefined;
  try {
    const r = await start(client, {
      onNotification: (m, p) => {
        if (m === 'transfer.progress') bar?.update(p.bytes, p.totalBytes, p.bytes === p.totalBytes);
      },
    });
    bar?.end();
    if (ctx.json) ctx.io.out(json(r) + '\n');
    else {
      const rate = r.durationMs > 0 ? `, ${bytes(Math.round((r.bytes / r.durationMs) * 1000))}/s` : '';
      ctx.io.err(`${label} → ${destHost ? `${destHost}:` : ''}${r.path}: ${bytes(r.bytes)} in ${r.files} file${r.files === 1 ? '' : 's'}, ${duration(r.durationMs)}${rate}\n`);
      if (r.skipped?.length)
        ctx.io.err(
          `scoutctl: not copied (special files, or names that are not UTF-8): ${r.skipped.slice(0, 20).map(visible).join(', ')}${r.skipped.length > 20 ? `, and ${r.skipped.length - 20} more` : ''}\n`,
        );
    }
    return 0;
  } catch (err) {
    bar?.end();
    return reportError(err, ctx.io, ctx.json);
  } finally {
    client.close();
  }
}
