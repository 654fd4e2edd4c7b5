// `scoutctl forward HOST -L|-R|-D SPEC`, `forward list`, `forward close ID`: forwards scoutd owns, so they
// outlive this process (ssh -N -L with a ControlMaster exits 0 at once and leaves the forward to the master).
import type { ForwardInfo, ForwardOpenParams } from '../../protocol/methods/index.js';
import { UsageError, flag } from '../args.js';
import { connect } from '../connect.js';
import type { CommandContext } from '../main.js';
import { json } from '../output.js';

/** `[bind:]port:host:hostport` (-L, -R) or `[bind:]port` (-D), as ssh writes them; `[v6]` in brackets. */
export function parseSpec(kind: 'local' | 'remote' | 'dynamic', spec: string): Omit<ForwardOpenParams, 'host' | 'kind'> {
  const parts = spec.match(/\[[^\]]*\]|[^:]+/g)?.map((p) => p.replace(/^\[(.*)\]$/, '$1')) ?? [];
  const port = (s: string | undefined, what: string) => {
    const n = Number(s);
    if (!s || !/^\d+$/.test(s) || n > 65_535 || (what !== 'listening port' && n === 0)) throw new UsageError(`bad ${what} '${s ?? ''}' in '${spec}'`);
    return n;
  };
  const want = kind === 'dynamic' ? '[bind:]port' : '[bind:]port:host:hostport';
  const targetParts = kind === 'dynamic' ? 0 : 2;
  if (parts.length < 1 + targetParts || parts.length > 2 + targetParts) throw new UsageError(`'${spec}' is not ${want}`);
  const bind = parts.length === 2 + targetParts ? parts[0] : undefined;
  const rest = bind === undefined ? parts : parts.slice(1);
  return {
    ...(bind !== undefined ? { bindAddress: bind } : {}),
    bindPort: port(rest[0], 'listening port'),
    ...(kind === 'dynamic' ? {} : { targetHost: rest[1], targetPort: port(rest[2], 'target port') }),
  };
}

/** One forward on one line: id, kind, where it listens and goes, state, connections and bytes. */
export function forwardLine(f: ForwardInfo): string {
  const arrow = f.kind === 'local' ? `${f.bind} -> ${f.host} -> ${f.target}` : f.kind === 'remote' ? `${f.host}:${f.bind} -> ${f.target}` : `${f.bind} (SOCKS5) -> ${f.host}`;
  return `${f.id}  ${f.kind.padEnd(7)}  ${arrow}  ${f.state}, ${f.open} open, ${f.total} total, ${f.bytesOut} B out, ${f.bytesIn} B in${f.lastError ? `  (last error: ${f.lastError})` : ''}`;
}

export async function run(ctx: CommandContext): Promise<number> {
  const [first, second] = ctx.args.positional;
  if (!first) throw new UsageError('forward needs a HOST and -L, -R or -D (or: forward list, forward close ID)');
  const client = await connect(ctx);
  try {
    if (first === 'list') {
      const r = await client.call('forward.list', {});
      ctx.io.out(ctx.json ? `${json(r)}\n` : r.forwards.length ? `${r.forwards.map(forwardLine).join('\n')}\n` : 'no forwards\n');
      return 0;
    }
    if (first === 'close') {
      if (!second) throw new UsageError('forward close needs a forward ID (see scoutctl forward list)');
      const r = await client.call('forward.close', { id: second });
      if (!r.closed) ctx.io.err(`scoutctl: no forward ${second} (see scoutctl forward list)\n`);
      return r.closed ? 0 : 1;
    }
    const kinds = (['local', 'remote', 'dynamic'] as const).filter((k) => flag(ctx.args, k) !== undefined);
    if (kinds.length !== 1) throw new UsageError('give exactly one of -L, -R and -D');
    const kind = kinds[0];
    const f = await client.call('forward.open', { host: first, kind, ...parseSpec(kind, flag(ctx.args, kind)!) });
    ctx.io.out(ctx.json ? `${json(f)}\n` : `${forwardLine(f)}\n(owned by scoutd: it stays open after this command; close it with scoutctl forward close ${f.id})\n`);
    return 0;
  } finally {
    client.close();
  }
}
