// How a pool key becomes a live connection: resolve the host, refuse what we cannot do (ProxyCommand), and
// reach ProxyJump targets through their jump host, which is itself a pooled connection (acquired from the
// same pool, so two targets behind one bastion share one bastion login).
//
// Pool keys: a configured alias (`web1`), a ProxyJump hop as written (`user@host:port`), or a chain prefix
// `a,b` meaning "hop b reached through a" (OpenSSH's `ProxyJump a,b` sends b through a whatever b's own
// config says; the first hop follows its own config, ProxyJump included).
import type { Duplex } from 'node:stream';
import type { HostRegistry } from '../hosts/registry.js';
import type { HostEntry } from '../hosts/ssh-config.js';
import { hostKeyVerifier, preferredKeyTypes, type TrustContext } from '../hosts/trust.js';
import type { Pool } from '../pool/pool.js';
import { ScoutError } from '../protocol/errors.js';
import { DEFAULT_HOST_KEY_ALGORITHMS, hostAlgorithms, type Ssh2Algorithms } from '../ssh/algorithms.js';
import { SshConnection, fetchHostKey } from '../ssh/connection.js';
import { isDroppedHandshake, jumpFailed } from '../ssh/errors.js';
import type { Settings } from './settings.js';
import { StartupGate } from './startups.js';
import type { WarmShellCounters } from '../ssh/warm-shells.js';

/** OpenSSH has no fixed bound on chains; eight hops is far beyond any real bastion setup and stops loops. */
export const MAX_JUMP_HOPS = 8;

export interface Route {
  entry: HostEntry;
  /** Pool key of the connection to tunnel through, when the host is behind a jump host. */
  via?: string;
}

export class Dialer {
  private readonly startups = new StartupGate();
  /** Dropped-algorithm warnings already logged (host + text): once each, not once per connect. */
  private readonly warned = new Set<string>();

  constructor(
    private readonly registry: HostRegistry,
    private readonly pool: Pool,
    private readonly settings: Settings,
    private readonly trust: TrustContext,
    /** Exec fast-path counters shared by every connection (daemon.status). */
    private readonly warmShellCounters?: WarmShellCounters,
  ) {}

  /** The host entry and jump route for a pool key. */
  route(key: string): Route {
    const comma = key.lastIndexOf(',');
    if (comma >= 0) return { entry: this.registry.resolveAny(key.slice(comma + 1)), via: key.slice(0, comma) };
    const entry = this.registry.has(key) ? this.registry.get(key) : this.registry.resolveAny(key);
    return { entry, via: entry.proxyJump?.join(',') };
  }

  /**
   * What a connection for `key` is dialled from: its host entry and every jump hop's. A reload compares this
   * before and after, so a target behind a bastion whose block changed is replaced too, as is a chain key
   * (`a,b`) or a hop written as `user@host:port` that a new `Host` pattern now matches.
   */
  signature(key: string): string {
    const parts: string[] = [];
    let k: string | undefined = key;
    for (let hop = 0; k !== undefined && hop <= MAX_JUMP_HOPS; hop++) {
      try {
        const r = this.route(k);
        parts.push(JSON.stringify(r.entry));
        k = r.via;
      } catch (err) {
        parts.push(`unresolvable: ${(err as Error).message}`);
        break;
      }
    }
    return parts.join('\n');
  }

  /** Total time a connect to `key` may take, retries included: the host's ConnectTimeout. */
  connectTimeoutMs(key: string): number {
    try {
      return this.route(key).entry.connectTimeoutMs ?? this.settings.connectTimeoutMs;
    } catch {
      return this.settings.connectTimeoutMs; // dial() reports the resolution error itself
    }
  }

  /** Open a connection for a pool key (used as the pool's `dial`); `timeoutMs` bounds this attempt. */
  async dial(key: string, timeoutMs?: number): Promise<SshConnection> {
    const { entry, via, algorithms } = this.routable(key);
    // One server's handshakes in progress are bounded (startups.ts: OpenSSH's MaxStartups drops past 10). The
    // tunnel opens inside the turn: through it the target already counts the connection as a startup.
    const server = `${via ?? ''}>${entry.hostname}:${entry.port}`;
    if (via === undefined) return this.startups.run(server, () => this.dialEntry(entry, algorithms, undefined, timeoutMs), isDroppedHandshake);
    return this.startups.run(
      server,
      async () => {
        const { sock, release } = await this.tunnel(entry, via);
        try {
          const conn = await this.dialEntry(entry, algorithms, sock, timeoutMs);
          // The jump connection stays in use for as long as the target connection lives.
          conn.once('close', release);
          return conn;
        } catch (err) {
          release();
          sock.destroy();
          throw err;
        }
      },
      isDroppedHandshake,
    );
  }

  /**
   * The host key the server for `key` offers, reached the way a connection would be (through its ProxyJump
   * hops), without logging in to it.
   */
  async offeredKey(key: string): Promise<Buffer> {
    const { entry, via, algorithms } = this.routable(key);
    const opts = {
      host: key,
      hostname: entry.hostname,
      port: entry.port,
      connectTimeoutMs: entry.connectTimeoutMs ?? this.settings.connectTimeoutMs,
      algorithms,
    };
    if (via === undefined) return fetchHostKey(opts);
    const { sock, release } = await this.tunnel(entry, via);
    try {
      return await fetchHostKey({ ...opts, sock });
    } finally {
      release();
      sock.destroy();
    }
  }

  /**
   * The route for `key` and the algorithms to offer, refusing loops, ProxyCommand and algorithm settings
   * ssh2 cannot honour before anything is dialled (no jump host is reached for a target that would fail).
   */
  private routable(key: string): Route & { algorithms: Ssh2Algorithms } {
    const route = this.route(key);
    this.checkChain(key);
    const { entry } = route;
    if (entry.proxyCommand !== undefined) {
      // Running a config-supplied shell command from a daemon is out of scope; dialling directly instead
      // would silently bypass whatever the command does (a bastion, a VPN hop), so refuse and say why.
      throw new ScoutError('CONNECT_FAILED', `${entry.name} uses ProxyCommand, which scoutd does not run: use ProxyJump instead (ProxyCommand ${entry.proxyCommand})`, {
        host: entry.name,
        reason: 'proxy-command',
        transient: false,
      });
    }
    return { ...route, algorithms: this.algorithmsFor(entry) };
  }

  /**
   * ssh2's algorithm lists for `entry`: its ssh config's (CONFIG_INVALID when one leaves nothing ssh2
   * supports; unsupported names dropped with a warning, once), host key algorithms ordered by known_hosts.
   */
  private algorithmsFor(entry: HostEntry): Ssh2Algorithms {
    const { algorithms, dropped } = hostAlgorithms(entry.name, entry.algorithms);
    for (const line of dropped) {
      const seen = `${entry.name}\0${line}`;
      if (this.warned.has(seen)) continue;
      this.warned.add(seen);
      this.trust.warn('ssh config names algorithms ssh2 does not support: they are left out', { host: entry.name, dropped: line });
    }
    const serverHostKey = orderHostKeyAlgorithms(preferredKeyTypes(entry, this.trust), algorithms.serverHostKey);
    return serverHostKey ? { ...algorithms, serverHostKey } : algorithms;
  }

  /**
   * A stream to `entry` through the pooled connection `via`, which is held in use (never reaped or evicted)
   * until `release` is called.
   */
  private async tunnel(entry: HostEntry, via: string): Promise<{ sock: Duplex; release: () => void }> {
    let jump: SshConnection;
    try {
      jump = await this.pool.acquire(via);
    } catch (err) {
      throw jumpFailed(entry.name, hopName(via), err);
    }
    const release = this.pool.retain(via, jump);
    try {
      return { sock: await jump.forwardOut(entry.hostname, entry.port), release };
    } catch (err) {
      release();
      throw jumpFailed(entry.name, hopName(via), err);
    }
  }

  /** Refuse ProxyJump loops and absurd chains before any connection is made. */
  private checkChain(key: string): void {
    const seen = [key];
    let via = this.route(key).via;
    while (via !== undefined) {
      if (seen.includes(via) || seen.length > MAX_JUMP_HOPS) {
        throw new ScoutError('CONNECT_FAILED', `ProxyJump chain for ${key} loops or is longer than ${MAX_JUMP_HOPS} hops: ${[...seen, via].join(' → ')}`, {
          host: key,
          chain: [...seen, via],
          transient: false,
        });
      }
      seen.push(via);
      via = this.route(via).via;
    }
  }

  private dialEntry(entry: HostEntry, algorithms: Ssh2Algorithms, sock?: Duplex, timeoutMs?: number): Promise<SshConnection> {
    const { settings, trust } = this;
    return SshConnection.dial({
      host: entry.name,
      hostname: entry.hostname,
      port: entry.port,
      username: entry.user,
      identityFiles: entry.identityFiles,
      identitiesOnly: entry.identitiesOnly,
      agent: entry.identityAgent !== undefined ? entry.identityAgent || undefined : settings.agentSocket,
      home: settings.home,
      connectTimeoutMs: timeoutMs ?? entry.connectTimeoutMs ?? settings.connectTimeoutMs,
      keepaliveIntervalMs: entry.serverAliveIntervalMs ?? settings.keepaliveIntervalMs,
      keepaliveCountMax: entry.serverAliveCountMax ?? settings.keepaliveCountMax,
      maxSessions: settings.maxSessions,
      channelQueue: settings.channelQueue,
      warmShells: settings.warmShells,
      warmShellCounters: this.warmShellCounters,
      verifyHostKey: hostKeyVerifier(entry, trust),
      algorithms,
      sock,
    });
  }
}

/** The hop a chain key ends with (`a,b` → `b`), for messages. */
function hopName(key: string): string {
  return key.slice(key.lastIndexOf(',') + 1);
}

/**
 * Host key algorithms to offer, with those of the key types already on file for the host first (an RSA-only
 * entry must not see ed25519 offered first, get an ed25519 key and call it unknown). Without HostKeyAlgorithms
 * (`configured` undefined): ssh2's defaults, known types first in known_hosts order; undefined (ssh2's
 * defaults as they are) when nothing is on file. With HostKeyAlgorithms: exactly the configured algorithms,
 * never another; those of known types first, each part in the configured order. (OpenSSH offers a configured
 * list as written; Scout keeps known_hosts first so that setting the keyword cannot turn a host whose key is
 * on file into HOST_KEY_UNKNOWN.)
 */
export function orderHostKeyAlgorithms(known: string[], configured?: string[]): string[] | undefined {
  const expand = (t: string) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]);
  const knownAlgorithms = [...new Set(known.flatMap(expand))];
  if (configured) return [...configured.filter((a) => knownAlgorithms.includes(a)), ...configured.filter((a) => !knownAlgorithms.includes(a))];
  if (known.length === 0) return undefined;
  const first = knownAlgorithms.filter((a) => DEFAULT_HOST_KEY_ALGORITHMS.includes(a));
  return [...first, ...DEFAULT_HOST_KEY_ALGORITHMS.filter((a) => !first.includes(a))];
}
