// A grant narrows what one client connection may do, for the rest of that connection: the hosts it may reach
// and whether it may change anything. scout-mcp --http says one in `daemon.hello` for each API key (or OAuth
// token), so a key allowed only web1 cannot reach web2 through the daemon whatever the MCP layer does. A grant
// only takes rights away; the per-host policy file still applies on top of it.
//
// What each method needs is the protocol table's `access` (protocol/table.ts): 'read' is open to any grant,
// 'write' to a grant that is not read-only, 'owner' to no grant at all (shutdown, host-key trust, the audit log,
// and transfer.get/put, whose local side is the filesystem of the machine scoutd runs on, not the caller's).
import { ScoutError } from '../protocol/errors.js';
import { DIALECTS, compileGlob, type Glob } from '../protocol/glob.js';
import type { Grant as GrantParams } from '../protocol/methods/index.js';
import { METHODS, type MethodName } from '../protocol/table.js';

/** The host behind a job or forward id (jobs.output, forward.close name theirs only so). Unknown ids: undefined. */
export interface IdHosts {
  job(id: string): string | undefined;
  forward(id: string): string | undefined;
}

export class Grant {
  private readonly globs: Glob[];

  constructor(
    readonly spec: GrantParams,
    private readonly ids: IdHosts,
  ) {
    // Fleet patterns (`web*`, `db[12]`) or plain aliases, as `scoutctl fleet` reads them.
    this.globs = spec.hosts.map((h) => compileGlob(h, DIALECTS.fleet));
  }

  /** The client's own words for what it was granted, in refusals: "key ci-bot". */
  get who(): string {
    return this.spec.name;
  }

  reaches(host: string): boolean {
    return this.globs.some((g) => g.test(host));
  }

  /** Refuse a host outside the grant; the message names the host and the grant, never more. */
  checkHost(host: string): void {
    if (!this.reaches(host)) throw new ScoutError('POLICY_DENIED', `${this.who} may not reach host '${host}' (it may reach: ${this.spec.hosts.join(', ') || 'no host'})`, { host, grant: this.who });
  }

  /** Refuse a method the grant does not cover; then each host the params name (`host`, `from`/`to`, `hosts`). */
  check(method: MethodName, params: unknown): void {
    const access = METHODS[method].access;
    if (access === 'owner')
      throw new ScoutError('POLICY_DENIED', `${this.who} may not call ${method}: ${OWNER_ONLY_WHY[method] ?? "it is for scoutd's owner on this machine"}`, { method, grant: this.who });
    if (access === 'write' && this.spec.readOnly) throw new ScoutError('POLICY_DENIED', `${this.who} is read-only: ${method} is refused`, { method, grant: this.who, readOnly: true });
    for (const host of this.hostsNamed(params)) this.checkHost(host);
  }

  /** Every host the params name: `host`, `hosts`, `from`/`to`, or through a job's or a forward's id. */
  private hostsNamed(params: unknown): string[] {
    if (!params || typeof params !== 'object') return [];
    const p = params as { host?: unknown; hosts?: unknown; from?: { host?: unknown }; to?: { host?: unknown }; jobId?: unknown; id?: unknown };
    const out: string[] = [];
    if (typeof p.host === 'string') out.push(p.host);
    if (Array.isArray(p.hosts)) for (const h of p.hosts) if (typeof h === 'string') out.push(h);
    if (typeof p.from?.host === 'string') out.push(p.from.host);
    if (typeof p.to?.host === 'string') out.push(p.to.host);
    const viaId = typeof p.jobId === 'string' ? this.ids.job(p.jobId) : typeof p.id === 'string' ? this.ids.forward(p.id) : undefined;
    if (viaId !== undefined) out.push(viaId);
    return out;
  }
}

/** Said in the refusal where the reason is not obvious. */
const OWNER_ONLY_WHY: Partial<Record<MethodName, string>> = {
  'transfer.get': 'its local path is on the machine scoutd runs on, not yours (use transfer.copy between hosts, or fs.read)',
  'transfer.put': 'its local path is on the machine scoutd runs on, not yours (use fs.write, or transfer.copy between hosts)',
  'hosts.trust': 'only the owner decides which host keys to trust',
};
