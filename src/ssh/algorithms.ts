// ssh config's Ciphers / MACs / KexAlgorithms / HostKeyAlgorithms as ssh2's `algorithms` option. The specs
// are assembled with OpenSSH's rules (hosts/ssh-config.ts assembleAlgorithms) over ssh2's own lists, read
// from ssh2 itself (they depend on the Node build: chacha20 and ed25519 only where OpenSSL has them), so
// `+`, `-` and `^` change what ssh2 would offer. A name ssh2 does not support is dropped with a warning; a
// keyword left with nothing ssh2 supports is refused (CONFIG_INVALID): "a setting the daemon cannot honour
// is refused loudly, never ignored", and dialling with ssh2's defaults instead would ignore it.
import { createRequire } from 'node:module';
import { assembleAlgorithms, type AlgorithmSpecs } from '../hosts/ssh-config.js';
import { ScoutError } from '../protocol/errors.js';

/** ssh2's algorithm option, the categories a config can set. */
export interface Ssh2Algorithms {
  cipher?: string[];
  hmac?: string[];
  kex?: string[];
  serverHostKey?: string[];
}

interface Ssh2Lists {
  DEFAULT_CIPHER: string[];
  SUPPORTED_CIPHER: string[];
  DEFAULT_MAC: string[];
  SUPPORTED_MAC: string[];
  DEFAULT_KEX: string[];
  SUPPORTED_KEX: string[];
  DEFAULT_SERVER_HOST_KEY: string[];
  SUPPORTED_SERVER_HOST_KEY: string[];
}

// Not part of ssh2's documented API, but the lists its generateAlgorithmList checks an `algorithms` option
// against (lib/client.js): reading them is the only way to apply `+`/`-`/`^` to what it would really offer.
const lists = createRequire(import.meta.url)('ssh2/lib/protocol/constants.js') as Ssh2Lists;

interface Category {
  keyword: string;
  field: keyof AlgorithmSpecs;
  option: keyof Ssh2Algorithms;
  /** What one name is, for messages. */
  noun: string;
  defaults: readonly string[];
  supported: readonly string[];
}

const CATEGORIES: Category[] = [
  { keyword: 'Ciphers', field: 'ciphers', option: 'cipher', noun: 'cipher', defaults: lists.DEFAULT_CIPHER, supported: lists.SUPPORTED_CIPHER },
  { keyword: 'MACs', field: 'macs', option: 'hmac', noun: 'MAC', defaults: lists.DEFAULT_MAC, supported: lists.SUPPORTED_MAC },
  { keyword: 'KexAlgorithms', field: 'kexAlgorithms', option: 'kex', noun: 'key exchange algorithm', defaults: lists.DEFAULT_KEX, supported: lists.SUPPORTED_KEX },
  {
    keyword: 'HostKeyAlgorithms',
    field: 'hostKeyAlgorithms',
    option: 'serverHostKey',
    noun: 'host key algorithm',
    defaults: lists.DEFAULT_SERVER_HOST_KEY,
    supported: lists.SUPPORTED_SERVER_HOST_KEY,
  },
];

/** ssh2's default host key algorithms, most preferred first. */
export const DEFAULT_HOST_KEY_ALGORITHMS: readonly string[] = lists.DEFAULT_SERVER_HOST_KEY;

export interface HostAlgorithms {
  /** Only the categories the config sets; the others stay ssh2's defaults. */
  algorithms: Ssh2Algorithms;
  /** Names (or patterns) ssh2 does not support, left out: one line per keyword, for a warning. */
  dropped: string[];
}

/**
 * ssh2's algorithm lists for a host's specs. Throws CONFIG_INVALID naming the host, the keyword and what
 * ssh2 supports when a keyword leaves nothing ssh2 can use.
 */
export function hostAlgorithms(host: string, specs: AlgorithmSpecs | undefined): HostAlgorithms {
  const out: HostAlgorithms = { algorithms: {}, dropped: [] };
  if (!specs) return out;
  for (const c of CATEGORIES) {
    const spec = specs[c.field];
    if (spec === undefined) continue;
    const { names, unmatched } = assembleAlgorithms(spec, c.defaults, c.supported);
    if (names.length === 0) {
      throw new ScoutError(
        'CONFIG_INVALID',
        `ssh config for ${host} sets '${c.keyword} ${spec}', which leaves no ${c.noun} scoutd's SSH library (ssh2) supports; it supports ${c.supported.join(', ')} (default ${c.defaults.join(',')})`,
        { host, keyword: c.keyword, value: spec, supported: [...c.supported], transient: false },
      );
    }
    if (unmatched.length > 0) out.dropped.push(`${c.keyword}: ${unmatched.join(', ')} (not supported by ssh2; using ${names.join(',')})`);
    out.algorithms[c.option] = names;
  }
  return out;
}
