// The set of hosts Scout may talk to: the concrete aliases of the user's ssh config. Anything else is an
// UNKNOWN_HOST, so a typo or a hostile string never turns into a connection attempt.
import { ScoutError } from '../protocol/errors.js';
import { loadSshConfig, type HostEntry, type SshHosts } from './ssh-config.js';

export interface RegistryOptions {
  sshConfigPath: string;
  home: string;
  localUser: string;
}

export interface RegistryDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

export class HostRegistry {
  private hosts: SshHosts;
  private entries = new Map<string, HostEntry>();

  constructor(private readonly opts: RegistryOptions) {
    this.hosts = this.read();
    this.index();
  }

  /** Concrete aliases, in config order. */
  aliases(): string[] {
    return this.hosts.aliases;
  }

  has(alias: string): boolean {
    return this.entries.has(alias);
  }

  /** The resolved entry for a configured alias; UNKNOWN_HOST otherwise. */
  get(alias: string): HostEntry {
    const e = this.entries.get(alias);
    if (!e) {
      const known = this.hosts.aliases;
      const list = known.length ? known.slice(0, 20).join(', ') + (known.length > 20 ? ', …' : '') : 'none';
      throw new ScoutError('UNKNOWN_HOST', `unknown host '${alias}': not a Host alias in ${this.opts.sshConfigPath} (known: ${list})`, { host: alias, known: known.slice(0, 100) });
    }
    return e;
  }

  /** Resolve a name that may not be a listed alias (a ProxyJump hop such as user@host:port). */
  resolveAny(name: string): HostEntry {
    return this.entries.get(name) ?? this.hosts.resolve(name);
  }

  /** Re-read the config; says which aliases were added, removed or resolve differently now. */
  reload(): RegistryDiff {
    const before = this.entries;
    this.hosts = this.read();
    this.index();
    const diff: RegistryDiff = { added: [], removed: [], changed: [] };
    for (const [name, e] of this.entries) {
      const old = before.get(name);
      if (!old) diff.added.push(name);
      else if (JSON.stringify(old) !== JSON.stringify(e)) diff.changed.push(name);
    }
    for (const name of before.keys()) if (!this.entries.has(name)) diff.removed.push(name);
    return diff;
  }

  /** Files read, for status. */
  get path(): string {
    return this.opts.sshConfigPath;
  }

  private read(): SshHosts {
    return loadSshConfig(this.opts.sshConfigPath, { home: this.opts.home, localUser: this.opts.localUser });
  }

  private index(): void {
    this.entries = new Map(this.hosts.aliases.map((a) => [a, this.hosts.resolve(a)]));
  }
}
