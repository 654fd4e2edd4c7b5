// fleet.exec / fleet.read: one operation on many hosts at once, with bounded concurrency. Every host gets
// its own result or its own coded error; one unreachable host never fails the call.
import { ScoutError, isScoutError } from '../../protocol/errors.js';
import { FLEET_DEFAULT_CONCURRENCY, FLEET_OUTPUT_BUDGET, FleetExecParams, FleetReadParams, type ExecResult, type FleetHostResult, type FleetResult, type FsReadResult } from '../../protocol/methods/index.js';
import { compileGlob, type Glob } from '../../protocol/glob.js';
import { tryUtf8 } from '../../protocol/text.js';
import type { ExecOutcome, OutputStream } from '../../ssh/exec.js';
import { withCwd } from '../../ssh/quote.js';
import { execModeFor } from '../settings.js';
import { type CallContext, type Handlers, type Services } from '../context.js';
import { readRemote, withFiles } from './fs.js';
import { execResult, left } from './ssh.js';

/** `web*`, `db[12]`, `app?` over the whole alias; a class that is not one is taken literally. */
export function hostPattern(glob: string): Glob {
  return compileGlob(glob, { invalidClass: 'literal' });
}

/** The hosts a fleet call targets: the list as given, or the configured aliases matching the pattern. */
export function resolveTargets(svc: Services, p: { hosts?: string[]; pattern?: string }): string[] {
  if (p.hosts) return p.hosts;
  const re = hostPattern(p.pattern!);
  const hosts = svc.registry.aliases().filter((a) => re.test(a));
  if (hosts.length === 0) throw new ScoutError('NOT_FOUND', `no configured host matches '${p.pattern}'`, { pattern: p.pattern, known: svc.registry.aliases().slice(0, 100) });
  return hosts;
}

/** Run `work` for each host with at most `concurrency` at once; results in input order, never a rejection. */
export async function forEachHost<R>(
  hosts: string[],
  concurrency: number,
  signal: AbortSignal,
  work: (host: string) => Promise<{ ok: boolean; result: R }>,
): Promise<FleetResult<R>> {
  const started = performance.now();
  const results: Array<FleetHostResult<R>> = new Array(hosts.length);
  let next = 0;
  const worker = async () => {
    while (next < hosts.length) {
      const i = next++;
      const host = hosts[i];
      if (signal.aborted) {
        results[i] = { host, ok: false, error: errorOf(signal.reason) };
        continue;
      }
      try {
        const { ok, result } = await work(host);
        results[i] = { host, ok, result };
      } catch (err) {
        results[i] = { host, ok: false, error: errorOf(err) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, hosts.length) }, worker));
  const ok = results.filter((r) => r.ok).length;
  return { results, summary: { ok, failed: results.length - ok, total: results.length }, durationMs: Math.round(performance.now() - started) };
}

function errorOf(err: unknown): { code: string; message: string } {
  if (isScoutError(err)) return { code: err.code, message: err.message };
  return { code: 'INTERNAL_ERROR', message: (err as Error)?.message ?? String(err) };
}

/** `exec.output` for one chunk, tagged with the request id and the host. */
function outputNotifier(ctx: CallContext, host: string) {
  return (stream: OutputStream, chunk: Buffer) => {
    const text = tryUtf8(chunk);
    ctx.notify('exec.output', { id: ctx.rpcId, host, stream, ...(text !== undefined ? { data: text } : { data: chunk.toString('base64'), encoding: 'base64' }) });
  };
}

export function fleetHandlers(svc: Services): Handlers<'fleet.exec' | 'fleet.read'> {
  return {
    'fleet.exec': async (p, ctx): Promise<FleetResult<ExecResult>> => {
      const hosts = resolveTargets(svc, p);
      // Every host's two streams share the call's budget, so the whole answer stays readable in one message.
      const maxOutputBytes = Math.min(p.maxOutputBytes ?? svc.settings.maxOutputBytes, Math.floor(FLEET_OUTPUT_BUDGET / (2 * hosts.length)));
      return forEachHost(hosts, p.concurrency ?? FLEET_DEFAULT_CONCURRENCY, ctx.signal, async (host) => {
        svc.registry.get(host);
        // Policy is per host: a refused host gets its own POLICY_DENIED, the others run.
        svc.policy.checkExec(host, p.command);
        const command = withCwd(p.command, await svc.policy.execCwd(host, p.cwd, svc.resolveRemote));
        const opts = {
          timeoutMs: p.timeoutMs ?? svc.settings.commandTimeoutMs,
          maxOutputBytes,
          signal: ctx.signal,
          ...(p.stream ? { onOutput: outputNotifier(ctx, host) } : {}),
        };
        const mode = execModeFor(svc.settings.execMode, host);
        const deadline = performance.now() + opts.timeoutMs;
        const run = () => svc.pool.use(host, (conn) => conn.run(command, { ...opts, timeoutMs: left(deadline) }, mode), 'never', { deadline, signal: ctx.signal });
        let outcome: ExecOutcome;
        try {
          outcome = await run();
        } catch (err) {
          // As ssh.exec: retry once only when the command never ran (a pooled connection died while idle).
          if (isScoutError(err, 'CHANNEL_FAILED') || (isScoutError(err, 'CONNECTION_LOST') && err.details.ran === false)) outcome = await run();
          else throw err;
        }
        const result = execResult(outcome);
        return { ok: result.exitCode === 0, result };
      });
    },
    // One file from many hosts (fs.read on each): ok when it was read; a host that could not say why in error.
    'fleet.read': async (p, ctx): Promise<FleetResult<FsReadResult>> => {
      const hosts = resolveTargets(svc, p);
      const maxBytes = Math.min(p.maxBytes ?? svc.settings.maxFileSize, Math.max(1, Math.floor(FLEET_OUTPUT_BUDGET / hosts.length)));
      return forEachHost(hosts, p.concurrency ?? FLEET_DEFAULT_CONCURRENCY, ctx.signal, async (host) => ({
        ok: true,
        result: await withFiles(svc, host, ctx, (f) => readRemote(f, svc, { ...p, maxBytes }), p.path),
      }));
    },
  };
}
