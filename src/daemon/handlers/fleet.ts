// fleet.exec / fleet.read: one operation on many hosts at once, with bounded concurrency. Every host gets
// its own result or its own coded error; one unreachable host never fails the call.
import type { Wire } from '../../protocol/blobs.js';
import { ScoutError, isScoutError, type ErrorCode } from '../../protocol/errors.js';
import { FLEET_DEFAULT_CONCURRENCY, FLEET_OUTPUT_BUDGET, type ExecResult, type FleetHostResult, type FleetResult, type FsReadResult } from '../../protocol/methods/index.js';
import { DIALECTS, compileGlob, type Glob } from '../../protocol/glob.js';
import type { CallContext, Handlers, Services } from '../context.js';
import { readRemote, withFiles } from '../remote/files.js';
import { visible } from './hosts.js';
import { OutputNotifier, execResult, runCommand } from '../remote/exec.js';

/** `web*`, `db[12]`, `app?` over the whole alias, in the fleet dialect (protocol/glob.ts). */
export function hostPattern(glob: string): Glob {
  return compileGlob(glob, DIALECTS.fleet);
}

/** The hosts a fleet call targets: the list as given, or the configured aliases matching the pattern. */
export function resolveTargets(svc: Services, ctx: CallContext, p: { hosts?: string[]; pattern?: string }): string[] {
  if (p.hosts) return p.hosts;
  const re = hostPattern(p.pattern!);
  // A narrowed connection's `*` is every host it may reach (a named host outside its grant is refused instead).
  const hosts = visible(svc.registry.aliases(), ctx).filter((a) => re.test(a));
  if (hosts.length === 0) throw new ScoutError('NOT_FOUND', `no configured host matches '${p.pattern}'`, { pattern: p.pattern, known: svc.registry.aliases().slice(0, 100) });
  return hosts;
}

/**
 * Run `work` for each host with at most `concurrency` at once; results in input order, never a rejection.
 * `onDone` hears each host as it finishes (progress: hosts done of total). Each host's work gets a signal of
 * its own, aborted with the call's reason: the call's signal has one listener however many hosts run. Each
 * host's exec hangs up to three on the signal it is given, so at concurrency 100 the call's signal had ~100
 * at once and every fleet call over a dozen hosts printed MaxListenersExceededWarning into the daemon's log.
 */
export async function forEachHost<R>(
  hosts: string[],
  concurrency: number,
  signal: AbortSignal,
  work: (host: string, signal: AbortSignal) => Promise<{ ok: boolean; result: R }>,
  onDone?: (p: { host: string; ok: boolean; done: number; total: number }) => void,
): Promise<FleetResult<R>> {
  const started = performance.now();
  const results: Array<FleetHostResult<R>> = new Array(hosts.length);
  const running = new Set<AbortController>();
  const onAbort = () => {
    for (const c of running) c.abort(signal.reason);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < hosts.length) {
      const i = next++;
      const host = hosts[i];
      if (signal.aborted) {
        results[i] = { host, ok: false, error: errorOf(signal.reason) };
        done++;
        continue;
      }
      const stop = new AbortController();
      running.add(stop);
      try {
        const { ok, result } = await work(host, stop.signal);
        results[i] = { host, ok, result };
      } catch (err) {
        results[i] = { host, ok: false, error: errorOf(err) };
      } finally {
        running.delete(stop);
      }
      onDone?.({ host, ok: results[i].ok, done: ++done, total: hosts.length });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, hosts.length) }, worker));
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  const ok = results.filter((r) => r.ok).length;
  return { results, summary: { ok, failed: results.length - ok, total: results.length }, durationMs: Math.round(performance.now() - started) };
}

function errorOf(err: unknown): { code: ErrorCode; message: string } {
  if (isScoutError(err)) return { code: err.code, message: err.message };
  return { code: 'INTERNAL_ERROR', message: (err as Error)?.message ?? String(err) };
}

/** `fleet.progress` to the caller of a fleet call as each host finishes. */
const progressTo =
  (ctx: CallContext) =>
  (p: { host: string; ok: boolean; done: number; total: number }): void =>
    void ctx.notify('fleet.progress', { id: ctx.rpcId, ...p });

export function fleetHandlers(svc: Services): Handlers<'fleet.exec' | 'fleet.read'> {
  return {
    'fleet.exec': async (p, ctx): Promise<FleetResult<Wire<ExecResult>>> => {
      const hosts = resolveTargets(svc, ctx, p);
      // Every host's two streams share the call's budget, so the whole answer stays readable in one message.
      const maxOutputBytes = Math.min(p.maxOutputBytes ?? svc.settings.maxOutputBytes, Math.floor(FLEET_OUTPUT_BUDGET / (2 * hosts.length)));
      return forEachHost(
        hosts,
        p.concurrency ?? FLEET_DEFAULT_CONCURRENCY,
        ctx.signal,
        async (host, signal) => {
          // Policy is per host: a refused host gets its own POLICY_DENIED, the others run. Streamed output is
          // capped per stream like the result, and tagged with its host.
          const notifier = p.stream ? new OutputNotifier(ctx, maxOutputBytes, host) : undefined;
          try {
            const result = execResult(
              await runCommand(svc, {
                host,
                command: p.command,
                cwd: p.cwd,
                timeoutMs: p.timeoutMs,
                maxOutputBytes,
                signal,
                approve: svc.approvals.asker({ ...ctx, signal }, p.approval),
                ...(notifier ? { onOutput: notifier.push } : {}),
              }),
            );
            return { ok: result.exitCode === 0, result };
          } finally {
            notifier?.flush();
          }
        },
        progressTo(ctx),
      );
    },
    // One file from many hosts (fs.read on each): ok when it was read; a host that could not say why in error.
    'fleet.read': async (p, ctx): Promise<FleetResult<Wire<FsReadResult>>> => {
      const hosts = resolveTargets(svc, ctx, p);
      const maxBytes = Math.min(p.maxBytes ?? svc.settings.maxFileSize, Math.max(1, Math.floor(FLEET_OUTPUT_BUDGET / hosts.length)));
      return forEachHost(
        hosts,
        p.concurrency ?? FLEET_DEFAULT_CONCURRENCY,
        ctx.signal,
        async (host, signal) => ({
          ok: true,
          result: await withFiles(svc, host, { ...ctx, signal }, (f) => readRemote(f, svc, { ...p, maxBytes }), p.path),
        }),
        progressTo(ctx),
      );
    },
  };
}
