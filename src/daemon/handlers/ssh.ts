import { ExecParams, type ExecResult } from '../../protocol/methods/index.js';
import { completeUtf8Length, tryUtf8 } from '../../protocol/text.js';
import type { ExecOutcome, OutputStream } from '../../ssh/exec.js';
import { withCwd } from '../../ssh/quote.js';
import { type CallContext, type Handlers, type Services } from '../context.js';
import { execModeFor } from '../settings.js';

/** Wire form of an outcome: UTF-8 text when both streams are valid UTF-8, else base64 (no byte lost). */
export function execResult(o: ExecOutcome): ExecResult {
  const out = o.stdoutBytes > o.stdout.length ? o.stdout.subarray(0, completeUtf8Length(o.stdout)) : o.stdout;
  const err = o.stderrBytes > o.stderr.length ? o.stderr.subarray(0, completeUtf8Length(o.stderr)) : o.stderr;
  const stdout = tryUtf8(out);
  const stderr = tryUtf8(err);
  const base = { exitCode: o.exitCode, signal: o.signal, truncated: o.truncated, durationMs: Math.round(o.durationMs * 100) / 100, ...(o.via ? { via: o.via } : {}) };
  if (stdout !== undefined && stderr !== undefined) return { ...base, stdout, stderr };
  return { ...base, stdout: o.stdout.toString('base64'), stderr: o.stderr.toString('base64'), encoding: 'base64' };
}

/**
 * `exec.output` notifications for one call: UTF-8 text when the bytes are, base64 otherwise; a character
 * split across two chunks is held back until it is whole. With a `cap`, at most that many bytes per stream
 * are sent, like the result keeps. Without one (`stream: 'only'`) every byte is sent, and `push` answers with
 * a promise while the caller's backlog is over the bound: the exec layer holds the channel until it settles,
 * so an endless stream to a slow reader waits on the host instead of piling up in the daemon.
 */
export class OutputNotifier {
  private readonly carry: Record<OutputStream, Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  private readonly sent: Record<OutputStream, number> = { stdout: 0, stderr: 0 };

  constructor(private readonly ctx: CallContext, private readonly cap = Number.POSITIVE_INFINITY) {}

  push(stream: OutputStream, chunk: Buffer): Promise<void> | undefined {
    this.send1(stream, chunk);
    return this.cap === Number.POSITIVE_INFINITY && this.ctx.backlogged() ? this.ctx.whenWritable() : undefined;
  }

  private send1(stream: OutputStream, chunk: Buffer): void {
    const room = this.cap - this.sent[stream];
    if (room <= 0) return;
    const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.sent[stream] += piece.length;
    const bytes = this.carry[stream].length ? Buffer.concat([this.carry[stream], piece]) : piece;
    const whole = completeUtf8Length(bytes);
    const text = tryUtf8(bytes.subarray(0, whole));
    if (text === undefined) {
      this.carry[stream] = Buffer.alloc(0);
      this.send(stream, bytes.toString('base64'), true);
      return;
    }
    this.carry[stream] = Buffer.from(bytes.subarray(whole));
    if (text) this.send(stream, text, false);
  }

  /** Whatever is still held back (a cut-off character at the end): sent as base64. */
  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.carry[stream].length) this.send(stream, this.carry[stream].toString('base64'), true);
      this.carry[stream] = Buffer.alloc(0);
    }
  }

  private send(stream: OutputStream, data: string, base64: boolean): void {
    this.ctx.notify('exec.output', { id: this.ctx.rpcId, stream, data, ...(base64 ? { encoding: 'base64' } : {}) });
  }
}

/** Milliseconds left until `deadline` (a performance.now() value), at least 1. */
export function left(deadline: number): number {
  return Math.max(1, Math.round(deadline - performance.now()));
}

export function sshHandlers(svc: Services): Handlers<'ssh.exec'> {
  return {
    'ssh.exec': async (p, ctx): Promise<ExecResult> => {
      svc.registry.get(p.host);
      svc.policy.checkExec(p.host, p.command);
      const command = withCwd(p.command, await svc.policy.execCwd(p.host, p.cwd, svc.resolveRemote));
      const only = p.stream === 'only';
      const maxOutputBytes = only ? 0 : p.maxOutputBytes ?? svc.settings.maxOutputBytes;
      const notifier = only ? new OutputNotifier(ctx) : p.stream ? new OutputNotifier(ctx, maxOutputBytes) : undefined;
      const opts = {
        timeoutMs: p.timeoutMs ?? svc.settings.commandTimeoutMs,
        maxOutputBytes,
        signal: ctx.signal,
        ...(p.stdin !== undefined ? { stdin: Buffer.from(p.stdin, p.stdinEncoding === 'base64' ? 'base64' : 'utf8') } : {}),
        ...(p.env ? { env: p.env } : {}),
        ...(notifier ? { onOutput: (stream: OutputStream, chunk: Buffer) => notifier.push(stream, chunk) } : {}),
      };
      const mode = execModeFor(svc.settings.execMode, p.host, p.mode);
      try {
        // Retried (once, on a fresh connection if needed) only when the command never ran: its channel never
        // opened. A connection that died while idle is noticed only when we try to use it.
        // The timeout bounds the whole call: waiting for a connection spends from it, and stops at it.
        const deadline = performance.now() + opts.timeoutMs;
        const r = execResult(await svc.pool.use(p.host, (conn) => conn.run(command, { ...opts, timeoutMs: left(deadline) }, mode), 'unstarted', { deadline, signal: ctx.signal }));
        // Streamed whole: nothing was cut, though the result keeps none of it.
        return only ? { ...r, truncated: false } : r;
      } finally {
        notifier?.flush();
      }
    },
  };
}
