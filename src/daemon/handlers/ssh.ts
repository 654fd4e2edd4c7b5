// ssh.exec: one command on one host, answered with its exit code and output (streamed too, when asked).
import type { Wire } from '../../protocol/blobs.js';
import type { ExecResult } from '../../protocol/methods/index.js';
import type { Handlers, Services } from '../context.js';
import { OutputNotifier, execResult, runCommand } from '../remote/exec.js';

export function sshHandlers(svc: Services): Handlers<'ssh.exec'> {
  return {
    'ssh.exec': async (p, ctx): Promise<Wire<ExecResult>> => {
      const only = p.stream === 'only';
      const maxOutputBytes = only ? 0 : (p.maxOutputBytes ?? svc.settings.maxOutputBytes);
      const notifier = only ? new OutputNotifier(ctx) : p.stream ? new OutputNotifier(ctx, maxOutputBytes) : undefined;
      try {
        const r = execResult(
          await runCommand(svc, {
            host: p.host,
            command: p.command,
            cwd: p.cwd,
            mode: p.mode,
            timeoutMs: p.timeoutMs,
            maxOutputBytes,
            signal: ctx.signal,
            approve: svc.approvals.asker(ctx, p.approval),
            ...(p.sudo ? { sudo: true } : {}),
            ...(p.stdin !== undefined ? { stdin: Buffer.from(p.stdin, p.stdinEncoding === 'base64' ? 'base64' : 'utf8') } : {}),
            ...(p.env ? { env: p.env } : {}),
            ...(notifier ? { onOutput: notifier.push } : {}),
          }),
        );
        // Streamed whole: nothing was cut, though the result keeps none of it.
        return only ? { ...r, truncated: false } : r;
      } finally {
        notifier?.flush();
      }
    },
  };
}
