// Human output helpers: aligned tables, durations, sizes. No colours unless a terminal asks for them.

/**
 * Client-supplied text (a client's name, a command, a path) made safe for a person's terminal: control
 * characters (C0, DEL, C1: ESC starts the sequences that clear a screen or retitle a window) and the bidi
 * overrides that reorder what a reviewer reads are shown as escapes (`\x1b`, `\n`, `\u202e`), never sent raw.
 */
export function visible(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    const code = c.charCodeAt(0);
    return named[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`);
  });
}

/** Aligned columns; every cell passes through `visible`, so no cell can write to the terminal itself. */
export function table(rows: string[][], header: string[]): string {
  const all = [header, ...rows.map((r) => r.map((cell) => visible(cell ?? '')))];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  return all.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : (cell ?? '').padEnd(widths[c]))).join('  ')).join('\n');
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function ago(iso: string, now = Date.now()): string {
  return `${duration(now - Date.parse(iso))} ago`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/**
 * Write to a stream of ours (stdout, stderr); undefined when it took the bytes, else a promise that settles
 * when it drains or fails (a reader that went away). Writes that find the stream already full share one
 * wait, and its listeners go once it settles: a listener pair per full write (several arrive before the first
 * drain) added up to a MaxListenersExceededWarning on a large output into a slow pipe.
 */
export function writeOrWait(out: NodeJS.WritableStream, data: string | Uint8Array): Promise<void> | undefined {
  if (out.write(data)) return undefined;
  let wait = draining.get(out);
  if (!wait) {
    wait = new Promise<void>((resolve) => {
      const done = () => {
        out.off('drain', done);
        out.off('error', done);
        draining.delete(out);
        resolve();
      };
      out.once('drain', done);
      out.once('error', done);
    });
    draining.set(out, wait);
  }
  return wait;
}
/** The wait for each stream that is full now (writeOrWait). */
const draining = new WeakMap<NodeJS.WritableStream, Promise<void>>();
