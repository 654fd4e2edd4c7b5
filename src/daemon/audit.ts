// The audit log: one JSON line per call that touches a host (who, what, where, outcome, duration), appended to
// a private file under the state directory. Fields are copied from the params by name (an allow list), so a
// field that carries data (stdin, content, env values) can never reach the file, whatever a method adds later.
import fs from 'node:fs';
import path from 'node:path';
import { METHODS } from '../protocol/table.js';
import type { AuditEntry, AuditQueryResult, JobInfo } from '../protocol/methods/index.js';

/** Commands and paths longer than this are cut in the log (with a note); a 1 MiB command line is data, not a name. */
const MAX_FIELD_CHARS = 4096;
/** `audit.query` reads at most this much of the end of the file: the newest entries are the ones asked for. */
const MAX_QUERY_BYTES = 32 * 1024 * 1024;

/** Methods that touch a host, as the protocol table says. Everything else (hello, status, jobs.output…) is not audited. */
export const AUDITED: ReadonlySet<string> = new Set(
  Object.entries(METHODS)
    .filter(([, e]) => e.touchesHost)
    .map(([name]) => name),
);

export class AuditLog {
  private fd: number | undefined;

  constructor(
    readonly file: string,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Open (creating the directory 0700 and the file 0600; never through a symlink). Throws on failure. */
  open(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    this.fd = fs.openSync(this.file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
  }

  /** Reopen after the file was rotated (SIGHUP / daemon.reload). */
  reopen(): void {
    this.close();
    this.open();
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  /** Record one finished call if it touches a host. */
  record(method: string, params: unknown, client: string, outcome: string, durationMs: number, result: unknown): void {
    if (!AUDITED.has(method) || this.fd === undefined) return;
    const entry: AuditEntry = { time: new Date().toISOString(), client, method, ...subject(params), outcome, durationMs: Math.round(durationMs) };
    if (result && typeof result === 'object') {
      const r = result as { jobId?: string; exitCode?: number | null; results?: Array<{ host: string; ok: boolean; error?: { code: string }; result?: { exitCode?: number | null } }> };
      if ('exitCode' in r) entry.exitCode = r.exitCode;
      // jobs.start: the id ties this line to the job's own `job.end` line.
      if (typeof r.jobId === 'string') entry.jobId = r.jobId;
      if (Array.isArray(r.results)) {
        entry.hosts = r.results.map((x) => x.host);
        entry.hostOutcomes = Object.fromEntries(r.results.map((x) => [x.host, x.error?.code ?? (x.ok ? 'ok' : `exit ${x.result?.exitCode ?? '?'}`)]));
      }
    }
    this.write(entry);
  }

  /**
   * A background job's end: jobs outlive the jobs.start call that the entry above records, so their outcome
   * (exit code, signal, or the error that ended them) gets a line of its own, method `job.end`.
   */
  /** An approval asked for or decided (approvals.ts): its own line, beside the call's. */
  recordApproval(entry: Omit<AuditEntry, 'time'>): void {
    if (this.fd === undefined) return;
    const what = clip(entry.what);
    this.write({ time: new Date().toISOString(), ...entry, ...(what !== undefined ? { what } : {}) });
  }

  recordJobEnd(job: JobInfo): void {
    if (this.fd === undefined) return;
    const outcome = job.error?.code ?? (job.state === 'exited' ? 'ok' : job.state);
    const command = clip(job.command);
    this.write({
      time: new Date().toISOString(),
      client: job.client,
      method: 'job.end',
      host: job.host,
      jobId: job.jobId,
      ...(command !== undefined ? { command } : {}),
      outcome,
      exitCode: job.exitCode,
      ...(job.signal ? { signal: job.signal } : {}),
      durationMs: job.durationMs,
    });
  }

  private write(entry: AuditEntry): void {
    if (this.fd === undefined) return;
    try {
      // One write of one whole line to an O_APPEND descriptor: lines never interleave.
      fs.writeSync(this.fd, JSON.stringify(entry) + '\n');
    } catch (err) {
      this.onError(err as Error);
    }
  }

  /** The newest `limit` entries for `host` at or after `since`. */
  query(q: { host?: string; since?: string; limit: number }): AuditQueryResult {
    let text = '';
    try {
      const fd = fs.openSync(this.file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      try {
        const size = fs.fstatSync(fd).size;
        const start = Math.max(0, size - MAX_QUERY_BYTES);
        const buf = Buffer.alloc(size - start);
        fs.readSync(fd, buf, 0, buf.length, start);
        text = buf.toString('utf8');
        if (start > 0) text = text.slice(text.indexOf('\n') + 1);
      } finally {
        fs.closeSync(fd);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const since = q.since ? Date.parse(q.since) : undefined;
    const matches: AuditEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      let e: AuditEntry;
      try {
        e = JSON.parse(line) as AuditEntry;
      } catch {
        continue; // a torn last line after a crash
      }
      if (since !== undefined && !(Date.parse(e.time) >= since)) continue;
      if (q.host !== undefined && e.host !== q.host && !e.hosts?.includes(q.host) && e.from?.host !== q.host && e.to?.host !== q.host) continue;
      matches.push(e);
    }
    return { file: this.file, entries: matches.slice(-q.limit), truncated: matches.length > q.limit };
  }
}

function clip(s: unknown): string | undefined {
  if (typeof s !== 'string') return undefined;
  return s.length > MAX_FIELD_CHARS ? `${s.slice(0, MAX_FIELD_CHARS)}… (${s.length} chars)` : s;
}

/** The allow-listed fields of a call's params: where and what, never data. */
function subject(params: unknown): Partial<AuditEntry> {
  if (!params || typeof params !== 'object') return {};
  const p = params as Record<string, unknown>;
  const out: Partial<AuditEntry> = {};
  if (typeof p.host === 'string') out.host = p.host;
  if (Array.isArray(p.hosts)) out.hosts = p.hosts.filter((h): h is string => typeof h === 'string');
  if (typeof p.pattern === 'string') out.pattern = p.pattern;
  if (p.sudo === true) out.sudo = true;
  const command = clip(p.command);
  if (command !== undefined) out.command = command;
  const cwd = clip(p.cwd);
  if (cwd !== undefined) out.cwd = cwd;
  const remote = clip(p.path) ?? clip(p.remotePath);
  if (remote !== undefined) out.path = remote;
  const local = clip(p.localPath);
  if (local !== undefined) out.localPath = local;
  for (const end of ['from', 'to'] as const) {
    const v = p[end] as Record<string, unknown> | undefined;
    if (v && typeof v.host === 'string') out[end] = { host: v.host, path: clip(v.path) ?? '' };
  }
  if (typeof p.jobId === 'string') out.jobId = p.jobId;
  return out;
}
