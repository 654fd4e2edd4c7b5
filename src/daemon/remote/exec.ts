// The one way a command reaches a host: host check, policy, cwd, exec mode, the deadline, the one retry rule,
// and the `exec.output` streamer. ssh.exec, fleet.exec and jobs.start are thin adapters over it; before, each
// had its own copy, and fleet's drifted (it split multi-byte characters and ignored the per-stream cap).
import type { ExecMode, ExecOutput, ExecResult } from '../../protocol/methods/index.js';
import { type Wire, wireText } from '../../protocol/blobs.js';
import { completeUtf8Length, isWireText, tryUtf8 } from '../../protocol/text.js';
import type { SshConnection } from '../../ssh/connection.js';
import type { ExecControl, ExecOutcome, OutputStream } from '../../ssh/exec.js';
import { withCwd } from '../../ssh/quote.js';
import { PassThrough } from 'node:stream';
import { invalidParams, isScoutError } from '../../protocol/errors.js';
import type { ApprovalKind } from '../../protocol/methods/index.js';
import type { Approve } from '../approvals.js';
import type { SudoPolicy } from '../policy.js';
import { SudoGate, UNKNOWN_PROMPT_MS, failed, readPassword, sudoWrap } from './sudo.js';
import type { CallContext, Services } from '../context.js';
import { execModeFor } from '../settings.js';

type Deps = Pick<Services, 'registry' | 'policy' | 'resolveRemote' | 'pool' | 'settings'>;

/** What every exec asks for, whoever asks. */
export interface ExecRequest {
  host: string;
  command: string;
  cwd?: string;
  /** The call's own mode; the host's SCOUT_EXEC_MODE entry, then the default, otherwise. */
  mode?: ExecMode;
  timeoutMs?: number;
  /** Bytes kept per stream for the result (0: none, everything goes to onOutput). */
  maxOutputBytes: number;
  stdin?: Buffer;
  env?: Record<string, string>;
  signal: AbortSignal;
  onOutput?: (stream: OutputStream, chunk: Buffer) => void | Promise<void>;
  /** The call's approval asker (policy `confirm`); the deadline starts once it has said yes. */
  approve: Approve;
  /** Through sudo, as the host's policy allows (remote/sudo.ts). */
  sudo?: boolean;
}

/** A command the host's policy admitted: what is sent (`cd -- cwd || exit; command`) and the cwd it runs in. */
export interface Admitted {
  host: string;
  line: string;
  cwd: string | undefined;
}

/**
 * Check that the host is configured and the policy allows the command there, and resolve the cwd (policy
 * roots are judged on the remote's resolution; the first root when none is given). Throws before anything runs.
 */
export async function admitExec(svc: Deps, host: string, command: string, cwd: string | undefined, approve: Approve, kinds: ApprovalKind[] = ['command']): Promise<Admitted> {
  svc.registry.get(host);
  svc.policy.checkExec(host, command);
  const dir = await svc.policy.execCwd(host, cwd, svc.resolveRemote);
  // Last: a person is asked only about a command the policy would run, in the cwd it would run in.
  await approve({ host, kinds, what: command, cwd: dir });
  return { host, line: withCwd(command, dir), cwd: dir };
}

/**
 * Run a command to its end and return its outcome. The timeout bounds the whole call: waiting for a
 * connection spends from it. Retried once (on a fresh connection if need be) only when the command never
 * ran: a pooled connection that died while idle is noticed only when its channel fails to open.
 */
export async function runCommand(svc: Deps, req: ExecRequest): Promise<ExecOutcome> {
  // sudo is refused before anything else happens on a host whose policy does not allow it.
  const sudo = req.sudo ? svc.policy.checkSudo(req.host, req.command) : undefined;
  if (sudo && req.stdin !== undefined) throw invalidParams('ssh.exec', 'stdin', "does not go with sudo (sudo's own stdin carries the password)");
  const { line, cwd } = await admitExec(svc, req.host, req.command, req.cwd, req.approve, sudo ? ['sudo', 'command'] : ['command']);
  const timeoutMs = req.timeoutMs ?? svc.settings.commandTimeoutMs;
  const deadline = performance.now() + timeoutMs;
  if (sudo) return runSudo(svc, req, sudo, cwd, deadline);
  const mode = execModeFor(svc.settings.execMode, req.host, req.mode);
  const opts = {
    maxOutputBytes: req.maxOutputBytes,
    signal: req.signal,
    ...(req.stdin !== undefined ? { stdin: req.stdin } : {}),
    ...(req.env ? { env: req.env } : {}),
    ...(req.onOutput ? { onOutput: req.onOutput } : {}),
  };
  return svc.pool.use(req.host, (conn) => conn.run(line, { ...opts, timeoutMs: left(deadline) }, mode), 'unstarted', { deadline, signal: req.signal });
}

/**
 * A command through sudo (remote/sudo.ts): always an exec channel of its own, the password written to its
 * stdin only when sudo's random prompt appears, sudo's own stderr (lecture, prompt) kept out of the result.
 */
async function runSudo(svc: Deps, req: ExecRequest, sudo: SudoPolicy, cwd: string | undefined, deadline: number): Promise<ExecOutcome> {
  const host = req.host;
  return svc.pool.use(
    host,
    async (conn) => {
      const wrap = sudoWrap(req.command);
      const gate = new SudoGate(wrap.prompt, wrap.marker);
      const stdin = new PassThrough();
      const stop = new AbortController();
      const fail = (e: unknown) => {
        if (!stop.signal.aborted) stop.abort(isScoutError(e) ? e : failed(host, 'its password could not be read'));
      };
      let unknown: NodeJS.Timeout | undefined;
      const onOutput = (stream: OutputStream, chunk: Buffer): void | Promise<void> => {
        if (stream === 'stdout' || gate.started) return req.onOutput?.(stream, chunk);
        for (const step of gate.feed(chunk)) {
          if (step.kind === 'fail') fail(failed(host, step.message));
          else if (step.kind === 'password')
            readPassword(host, sudo).then((pw) => {
              if (pw === undefined) fail(failed(host, 'it asks for a password and its policy names no sudo.password source'));
              // A password command slower than the call: the channel is gone, there is no one to tell.
              else if (!stdin.destroyed) stdin.end(`${pw}\n`);
            }, fail);
          else {
            if (!stdin.writableEnded) stdin.end();
            if (step.rest.length) void req.onOutput?.('stderr', step.rest);
          }
        }
        clearTimeout(unknown);
        const question = gate.started ? undefined : gate.unknownQuestion();
        if (question) unknown = setTimeout(() => fail(failed(host, `it asks ${JSON.stringify(question)}, which Scout does not answer`)), UNKNOWN_PROMPT_MS);
      };
      try {
        const out = await conn.run(
          withCwd(wrap.line, cwd),
          { maxOutputBytes: req.maxOutputBytes, signal: AbortSignal.any([req.signal, stop.signal]), stdinStream: stdin, onOutput, timeoutMs: left(deadline) },
          'off',
        );
        if (!gate.started) throw failed(host, gate.said.length ? `it said: ${gate.said.join(' / ')}` : `it exited ${out.exitCode ?? out.signal}`);
        // What sudo printed before the command started is not the command's output.
        const cut = out.stderr.indexOf(`${wrap.marker}\n`);
        if (cut < 0) return out;
        const drop = cut + wrap.marker.length + 1;
        return { ...out, stderr: out.stderr.subarray(drop), stderrBytes: out.stderrBytes - drop };
      } finally {
        clearTimeout(unknown);
        stdin.destroy();
      }
    },
    'unstarted',
    { deadline, signal: req.signal },
  );
}

/** A command started for a background job: resolves once it runs, with its handle and its eventual outcome. */
export interface StartedCommand {
  control: ExecControl;
  conn: SshConnection;
  /** Settles when the command ends. */
  outcome: Promise<ExecOutcome>;
}

/** How a started command runs: as ExecRequest, less what a job does not choose. */
export type StartOptions = Pick<ExecRequest, 'stdin' | 'env' | 'signal' | 'onOutput'> & { timeoutMs: number };

/**
 * Start an admitted command that outlives the call (a job): always on an exec channel of its own, which
 * pool.use keeps busy (so the reaper leaves its connection alone) until it ends. Same retry rule as
 * runCommand; `signal` stops the command.
 */
export async function startCommand(svc: Deps, cmd: Admitted, req: StartOptions): Promise<StartedCommand> {
  let started!: (s: Omit<StartedCommand, 'outcome'>) => void;
  const running = new Promise<Omit<StartedCommand, 'outcome'>>((r) => (started = r));
  const outcome = svc.pool.use(
    cmd.host,
    (conn) =>
      conn.exec(cmd.line, {
        timeoutMs: req.timeoutMs,
        // Nothing is kept by exec itself: every chunk goes to onOutput.
        maxOutputBytes: 0,
        signal: req.signal,
        ...(req.onOutput ? { onOutput: req.onOutput } : {}),
        ...(req.stdin ? { stdin: req.stdin } : {}),
        ...(req.env ? { env: req.env } : {}),
        onStarted: (control) => started({ control, conn }),
      }),
    'unstarted',
  );
  const first = await Promise.race([running, outcome.then(() => undefined)]);
  // An outcome before onStarted cannot happen (exec reports the start first), but never leave a caller hanging.
  if (!first) return { ...(await running), outcome };
  return { ...first, outcome };
}

/** Wire form of an outcome: UTF-8 text when both streams are valid UTF-8, else base64 (no byte lost). */
export function execResult(o: ExecOutcome): Wire<ExecResult> {
  const out = o.stdoutBytes > o.stdout.length ? o.stdout.subarray(0, completeUtf8Length(o.stdout)) : o.stdout;
  const err = o.stderrBytes > o.stderr.length ? o.stderr.subarray(0, completeUtf8Length(o.stderr)) : o.stderr;
  const base = { exitCode: o.exitCode, signal: o.signal, truncated: o.truncated, durationMs: Math.round(o.durationMs * 100) / 100, ...(o.via ? { via: o.via } : {}) };
  if (isWireText(out) && isWireText(err)) return { ...base, stdout: wireText(out), stderr: wireText(err) };
  return { ...base, stdout: o.stdout.toString('base64'), stderr: o.stderr.toString('base64'), encoding: 'base64' };
}

/**
 * `exec.output` notifications for one call (and one host of a fleet call, tagged with it): UTF-8 text when
 * the bytes are, base64 otherwise; a character split across two chunks is held back until it is whole. With a
 * `cap`, at most that many bytes per stream are sent, like the result keeps. Without one (`stream: 'only'`)
 * every byte is sent, and `push` answers with a promise while the caller's backlog is over the bound: the exec
 * layer holds the channel until it settles, so an endless stream to a slow reader waits on the host instead of
 * piling up in the daemon.
 */
export class OutputNotifier {
  private readonly carry: Record<OutputStream, Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  private readonly sent: Record<OutputStream, number> = { stdout: 0, stderr: 0 };

  constructor(
    private readonly ctx: CallContext,
    private readonly cap = Number.POSITIVE_INFINITY,
    private readonly host?: string,
  ) {}

  /** As `ExecRequest.onOutput`. */
  readonly push = (stream: OutputStream, chunk: Buffer): Promise<void> | undefined => {
    this.send1(stream, chunk);
    return this.cap === Number.POSITIVE_INFINITY && this.ctx.backlogged() ? this.ctx.whenWritable() : undefined;
  };

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
    const n: ExecOutput = { id: this.ctx.rpcId, ...(this.host !== undefined ? { host: this.host } : {}), stream, data, ...(base64 ? { encoding: 'base64' as const } : {}) };
    this.ctx.notify('exec.output', n);
  }
}

/** Milliseconds left until `deadline` (a performance.now() value), at least 1. */
export function left(deadline: number): number {
  return Math.max(1, Math.round(deadline - performance.now()));
}
