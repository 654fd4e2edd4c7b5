import { isScoutError } from '../../protocol/errors.js';
import { ExecParams, type ExecResult } from '../../protocol/methods/index.js';
import { completeUtf8Length, tryUtf8 } from '../../protocol/text.js';
import type { ExecOutcome } from '../../ssh/exec.js';
import { withCwd } from '../../ssh/quote.js';
import { method, type MethodSpec, type Services } from '../context.js';
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

export function sshMethods(svc: Services): MethodSpec[] {
  return [
    method('ssh.exec', ExecParams, async (p, ctx): Promise<ExecResult> => {
      svc.registry.get(p.host);
      const command = withCwd(p.command, p.cwd);
      const opts = {
        timeoutMs: p.timeoutMs ?? svc.settings.commandTimeoutMs,
        maxOutputBytes: p.maxOutputBytes ?? svc.settings.maxOutputBytes,
        signal: ctx.signal,
      };
      const mode = execModeFor(svc.settings.execMode, p.host, p.mode);
      const run = () => svc.pool.use(p.host, (conn) => conn.run(command, opts, mode));
      try {
        return execResult(await run());
      } catch (err) {
        // Safe to retry only when the command never ran: its channel never opened (a connection that died
        // while idle is noticed only when we try to use it).
        if (isScoutError(err, 'CHANNEL_FAILED') || (isScoutError(err, 'CONNECTION_LOST') && err.details.ran === false)) {
          ctx.log.debug({ host: p.host }, 'channel did not open; retrying once on a fresh connection');
          return execResult(await run());
        }
        throw err;
      }
    }),
  ];
}
