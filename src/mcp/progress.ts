// MCP progress for long tool calls: a query reports time elapsed, bytes so far and its latest output line; a
// transfer reports bytes of the total. Throttled so a chatty command cannot flood the client, and a silent one
// still shows it is alive.
import type { ExecOutput, TransferProgress } from '../protocol/methods/index.js';

/** One `notifications/progress` payload, less the token (the server adds it). `progress` only grows. */
export interface ProgressUpdate {
  progress: number;
  total?: number;
  message?: string;
}

export type ProgressSink = (p: ProgressUpdate) => void;

/** At most one update per this interval from output; a few a second is live for a person, cheap for a client. */
export const PROGRESS_MIN_INTERVAL_MS = 250;
/** A silent command still reports it is running this often. */
export const PROGRESS_HEARTBEAT_MS = 2_000;
/** The latest line shown is cut to this many characters. */
const LINE_CHARS = 200;

/**
 * Progress of a running command from its `exec.output` notifications. `progress` is milliseconds elapsed (it
 * must grow, and output may stop while time does not); the message carries the bytes so far and the last
 * complete line, or the partial one when no line has ended yet.
 */
export function execProgress(sink: ProgressSink, now: () => number = Date.now) {
  const started = now();
  let bytes = 0;
  let lastLine = '';
  let partial = '';
  let lastSent = -Infinity;
  let lastProgress = -1;
  const send = () => {
    const elapsed = Math.max(lastProgress + 1, now() - started);
    lastProgress = elapsed;
    lastSent = now();
    const line = (lastLine || partial).slice(0, LINE_CHARS);
    sink({ progress: elapsed, message: `running ${(elapsed / 1000).toFixed(1)} s, ${bytes} bytes of output${line ? `: ${line}` : ''}` });
  };
  const heartbeat = setInterval(() => {
    if (now() - lastSent >= PROGRESS_HEARTBEAT_MS) send();
  }, PROGRESS_HEARTBEAT_MS / 2);
  heartbeat.unref();
  return {
    onOutput(o: ExecOutput): void {
      const text = o.encoding === 'base64' ? '' : o.data;
      bytes += o.encoding === 'base64' ? Buffer.from(o.data, 'base64').length : Buffer.byteLength(o.data);
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      const complete = lines.filter((l) => l.trim() !== '');
      if (complete.length) lastLine = complete[complete.length - 1];
      if (now() - lastSent >= PROGRESS_MIN_INTERVAL_MS) send();
    },
    stop(): void {
      clearInterval(heartbeat);
    },
  };
}

/** Progress of a transfer from its `transfer.progress` notifications (already throttled and monotonic by the daemon). */
export function transferProgress(sink: ProgressSink) {
  return (p: TransferProgress): void => sink({ progress: p.bytes, total: p.totalBytes, message: p.file });
}

/**
 * Progress of a call over many targets: hosts done of total, with the last one and how it went. Throttled like
 * output, except the last host, which is always sent (the client sees the count reach the total).
 */
export function hostsProgress(sink: ProgressSink, total: number, now: () => number = Date.now) {
  let done = 0;
  let failed = 0;
  let lastSent = -Infinity;
  return (host: string, ok: boolean): void => {
    done++;
    if (!ok) failed++;
    if (done < total && now() - lastSent < PROGRESS_MIN_INTERVAL_MS) return;
    lastSent = now();
    sink({ progress: done, total, message: `${done} of ${total} hosts done${failed ? ` (${failed} failed)` : ''}; last: ${host}${ok ? '' : ' failed'}` });
  };
}

/** A tool call's progress sink; `flush` resolves when every update has been written. */
export type ProgressChannel = ProgressSink & { flush(): Promise<void> };

/** What progressOf needs of the SDK's request handler extra. */
interface ProgressExtra {
  _meta?: { progressToken?: string | number };
  sendNotification: (n: { method: 'notifications/progress'; params: { progressToken: string | number } & ProgressUpdate }) => Promise<void>;
}

/**
 * Where a tool call's progress goes: `notifications/progress` with its token, when the client sent one.
 * Updates are written in order, and the call answers only after `flush`: the SDK writes a notification a
 * few ticks later than it is sent, so the answer could overtake the last one (the client then drops it,
 * and a beam's progress stopped at 89 of 100 MB).
 */
export function progressOf(extra: ProgressExtra): ProgressChannel | undefined {
  const token = extra._meta?.progressToken;
  if (token === undefined) return undefined;
  let last = Promise.resolve();
  const sink = (p: ProgressUpdate) => {
    last = last.then(() => extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, ...p } })).catch(() => {});
  };
  return Object.assign(sink, { flush: () => last });
}
