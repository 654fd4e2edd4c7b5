// `scout-job://{jobId}`: a background job as an MCP resource (its state and the tail of its output), listed
// with the daemon's jobs, and subscribable: while subscribed, `notifications/resources/updated` fires as the
// job writes (at most a few a second) and once more when it ends. The agent then reads the resource, or
// pages the output with scout_jobs, instead of polling.
//
// A subscription is one long-poll at a time on the daemon (`jobs.output` with waitMs from the end of what is
// known), so a quiet job costs nothing but an idle request. Only job resources can be subscribed: any other
// URI is refused, not silently never updated.
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { McpError, ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { isScoutError } from '../protocol/errors.js';
import type { JobOutputResult } from '../protocol/methods/index.js';
import { outputText } from './jobs.js';
import { type Rpc, cancellable } from './tool.js';

/** Output shown when the resource is read: the tail, like `tail -c`. */
const READ_TAIL_BYTES = 16 * 1024;
/** At most one update per this interval while a job writes. */
const UPDATE_MIN_INTERVAL_MS = 250;
/** One long-poll on the daemon; a quiet job is asked again after this. */
const POLL_WAIT_MS = 30_000;

const JOB_URI = /^scout-job:\/\/([^/?#]+)$/;

/** The job id of a `scout-job://ID` URI, or undefined. */
function jobOf(uri: string): string | undefined {
  return JOB_URI.exec(uri)?.[1];
}

/** Register the job resource template and the subscribe/unsubscribe handlers (follows end with the shim's process). */
export function registerJobResources(server: McpServer, rpc: Rpc): void {
  server.registerResource(
    'job-output',
    new ResourceTemplate('scout-job://{jobId}', {
      list: async () => ({
        resources: (await rpc.call('jobs.list', {})).jobs.map((j) => ({ uri: `scout-job://${j.jobId}`, name: `${j.jobId} on ${j.host} (${j.state})`, description: j.command, mimeType: 'text/plain' })),
      }),
    }),
    {
      title: 'Background job',
      description: 'A background job: its state and the last 16 KB of its output. Subscribe to hear when it writes and when it ends.',
      mimeType: 'text/plain',
    },
    async (uri) => {
      const jobId = jobOf(uri.href) ?? '';
      const r = await rpc.call('jobs.output', { jobId, offset: -READ_TAIL_BYTES, maxBytes: READ_TAIL_BYTES });
      return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: outputText(r), _meta: { state: r.state, totalBytes: r.totalBytes, done: r.done } }] };
    },
  );

  const follows = new Map<string, AbortController>();
  server.server.registerCapabilities({ resources: { subscribe: true } });
  server.server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    const uri = req.params.uri;
    const jobId = jobOf(uri);
    if (!jobId) throw new McpError(ErrorCode.InvalidParams, `only scout-job://JOB resources can be subscribed (got ${uri}): the others are read on demand`);
    // The job must exist now: a typo is an error, not a subscription that never fires.
    await rpc.call('jobs.output', { jobId, offset: -1, maxBytes: 1 }).catch((err: unknown) => {
      throw new McpError(ErrorCode.InvalidParams, isScoutError(err) ? `${err.code}: ${err.message}` : String(err));
    });
    if (!follows.has(uri)) {
      const ac = new AbortController();
      follows.set(uri, ac);
      void follow(cancellable(rpc, ac.signal), jobId, ac.signal, () => void server.server.sendResourceUpdated({ uri }).catch(() => {})).finally(() => {
        if (follows.get(uri) === ac) follows.delete(uri);
      });
    }
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    follows.get(req.params.uri)?.abort();
    follows.delete(req.params.uri);
    return {};
  });
}

/**
 * Tell `updated` each time the job has written more (at most once per UPDATE_MIN_INTERVAL_MS) and once when it
 * ends, until then or until `signal`. Only the byte count is read back: the data stays in the daemon.
 */
export async function follow(rpc: Rpc, jobId: string, signal: AbortSignal, updated: () => void, minIntervalMs = UPDATE_MIN_INTERVAL_MS): Promise<void> {
  let cursor = (await rpc.call('jobs.output', { jobId, offset: -1, maxBytes: 1 }).catch(() => ({ totalBytes: 0 }))).totalBytes;
  while (!signal.aborted) {
    let r: JobOutputResult;
    try {
      r = await rpc.call('jobs.output', { jobId, offset: cursor, maxBytes: 1, waitMs: POLL_WAIT_MS });
    } catch {
      return; // unsubscribed (cancelled), or the job was forgotten: nothing more will change
    }
    if (signal.aborted) return;
    const wrote = r.totalBytes > cursor;
    cursor = r.totalBytes;
    if (r.state !== 'running') {
      updated();
      return;
    }
    if (!wrote) continue;
    updated();
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, minIntervalMs);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
  }
}
