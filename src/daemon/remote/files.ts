// The one files path: fs.*, fleet.read and the MCP reads reach a host's files through withFiles (host check,
// policy roots, the connection's one SFTP session, one retry rule); reads are turned into wire text here.
import { ScoutError, isScoutError } from '../../protocol/errors.js';
import { MAX_FS_IO_BYTES, type FsReadResult } from '../../protocol/methods/index.js';
import { type Utf8Bytes, type Wire, wireText } from '../../protocol/blobs.js';
import { completeUtf8Length, isWireText } from '../../protocol/text.js';
import { RemoteFiles } from '../../ssh/files.js';
import type { CallContext, Services } from '../context.js';

/** Bytes → wire text: UTF-8 when the bytes are valid UTF-8 without NUL (text), else base64 (no byte lost). */
export function fileContent(data: Buffer, truncated: boolean, release: () => void = () => {}): { content: string | Utf8Bytes; encoding: 'utf8' | 'base64'; bytes: number } {
  // A cap can cut a multi-byte character in two: drop the partial character rather than call the file binary.
  const text = truncated ? data.subarray(0, completeUtf8Length(data)) : data;
  if (!text.includes(0) && isWireText(text)) return { content: wireText(text, release), encoding: 'utf8', bytes: text.length };
  const content = data.toString('base64');
  release();
  return { content, encoding: 'base64', bytes: data.length };
}

/** fs.read on one host: shared by fs.read and fleet.read. */
export async function readRemote(f: RemoteFiles, svc: Services, p: { path: string; maxBytes?: number; offset?: number }): Promise<Wire<FsReadResult>> {
  const offset = p.offset ?? 0;
  const r = await f.read(p.path, Math.min(p.maxBytes ?? svc.settings.maxFileSize, MAX_FS_IO_BYTES), offset);
  const c = fileContent(r.data, r.truncated, r.release);
  return { path: p.path, content: c.content, encoding: c.encoding, size: r.size, bytes: c.bytes, offset, truncated: r.truncated };
}

/**
 * Run `fn` on the host's SFTP session. A connection that died while idle is noticed only when its SFTP
 * channel fails to open: then nothing happened on the server and one retry on a fresh connection is safe.
 */
export async function withFiles<T>(svc: Services, host: string, ctx: CallContext, fn: (f: RemoteFiles) => Promise<T>, policyPath: string, readOnly = true, approve?: () => Promise<void>): Promise<T> {
  svc.registry.get(host);
  // Per-host policy: roots are judged on the remote's own resolution of the path (.., symlinks).
  await svc.policy.checkPath(host, policyPath, svc.resolveRemote);
  // A person is asked (policy confirm) only about what the policy would let through.
  await approve?.();
  // Reads also run once more after CONNECTION_LOST (on a fresh connection): repeating them changes nothing.
  const run = () => svc.pool.use(host, async (conn) => fn(new RemoteFiles(await conn.sftp(ctx.signal), conn.host, conn.lost, ctx.signal)), readOnly ? 'idempotent' : 'never');
  try {
    try {
      return await run();
    } catch (err) {
      if (!isScoutError(err, 'CHANNEL_FAILED') || ctx.signal.aborted) throw err;
      ctx.log.debug({ host }, 'SFTP channel did not open; retrying once on a fresh connection');
      await svc.pool.drop(host, 'SFTP channel failed to open');
      return await run();
    }
  } catch (err) {
    // A cancelled call ends with the session's reason (CANCELLED, SHUTTING_DOWN), not the I/O error it caused.
    if (ctx.signal.aborted && ctx.signal.reason instanceof ScoutError) throw ctx.signal.reason;
    throw err;
  }
}
