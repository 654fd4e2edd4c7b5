// The one pattern language of Scout: shell-style globs over a whole string (a host alias for fleet patterns,
// policy entries and SCOUT_EXEC_MODE; an entry name for fs.find; a command line for policy deny/allow lists).
// `*` any run of characters, `?` one character, and, where `classes` is on, `[abc]`, `[a-z]`, `[!x]` / `[^x]`
// and `\` to quote the next character, as fnmatch and ssh_config read them.
//
// Matching runs in linear time: the pattern becomes a small NFA simulated with bit sets (one bit per pattern
// position, 32 to a word), so a string of n characters costs n × ⌈m/32⌉ word operations for a pattern of m
// positions, whatever the pattern is. The RegExp this replaces backtracked: `*a*a*a*a*a*a*b` against a name of
// eighty `a` took 5 s of the daemon's only thread, against a hundred about four minutes, and a 1 MiB command
// checked against five deny patterns 3 s — every other client waited meanwhile (issue 17).
import { ScoutError } from './errors.js';

export interface GlobOptions {
  /**
   * `[…]` classes and `\` quoting. Off, only `*` and `?` are special and every other character stands for
   * itself (policy deny/allow lists, where `[` and `\` are common in commands). Default on.
   */
  classes?: boolean;
  /**
   * A class that is not one (a reversed range such as `[z-a]`): `'literal'` matches it as text, as a shell
   * does with a word; `'error'` (the default) refuses the pattern with INVALID_PARAMS.
   */
  invalidClass?: 'literal' | 'error';
}

/** A compiled glob: `test` answers whether it matches a whole string. */
export interface Glob {
  readonly source: string;
  test(s: string): boolean;
  /** Whether it matches any of the pieces `s.slice(ranges[i], ranges[i + 1])` (i even), without slicing. */
  testAnyRange(s: string, ranges: ArrayLike<number>): boolean;
}

type Token = { kind: 'star' } | { kind: 'any' } | { kind: 'char'; cp: number } | { kind: 'class'; negate: boolean; ranges: Array<[number, number]> };

/**
 * The dialects Scout reads patterns in, each named for where it is written. One matcher serves them all; they
 * differ only in what is special and what happens to a class that is not one.
 */
export const DIALECTS = {
  /** fleet.exec / fleet.read `pattern` over host aliases: classes; a class that is not one is text, as in a shell word. */
  fleet: { classes: true, invalidClass: 'literal' },
  /**
   * Host entries of the policy file and SCOUT_EXEC_MODE: read as fleet patterns (`db[12]` is db1 and db2), but
   * a pattern that is not one is refused when the file or setting is loaded: a protection must never be text
   * that silently matches nothing.
   */
  hostSetting: { classes: true, invalidClass: 'error' },
  /** fs.find names (fnmatch): classes; an invalid one is INVALID_PARAMS. */
  name: { classes: true, invalidClass: 'error' },
  /** Policy deny/allow command patterns: `*` and `?` only (`[` and `\` are common in commands). */
  command: { classes: false },
  /**
   * OpenSSH's own patterns (match.c): ssh_config `Host`, known_hosts host fields: `*` and `?` only. known_hosts
   * is case-insensitive: its caller lowercases both sides.
   */
  openssh: { classes: false },
  /** Include paths in ssh_config, per path segment (glob(3)): classes; an invalid one is text. */
  file: { classes: true, invalidClass: 'literal' },
} as const satisfies Record<string, GlobOptions>;
export type Dialect = keyof typeof DIALECTS;

const cache = new Map<string, Glob>();
/** Most patterns kept compiled (config files re-match the same few patterns for every lookup). */
const CACHE_MAX = 4096;

/** A pattern in a named dialect, compiled once and cached: for the hot, repeated matching of config files. */
export function globIn(dialect: Dialect, source: string): Glob {
  const key = `${dialect}\0${source}`;
  let g = cache.get(key);
  if (!g) {
    if (cache.size >= CACHE_MAX) cache.clear();
    g = compileGlob(source, DIALECTS[dialect]);
    cache.set(key, g);
  }
  return g;
}

/**
 * OpenSSH's match_pattern_list over `patterns` (already split: `Host` words, or a comma list): true when one
 * matches and no matching `!pattern` vetoes. Case-sensitive; lowercase both sides for known_hosts and Match.
 */
export function matchOpensshList(patterns: Iterable<string>, subject: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (globIn('openssh', p.slice(1)).test(subject)) return false;
    } else if (globIn('openssh', p).test(subject)) matched = true;
  }
  return matched;
}

/** Compile `glob`; throws INVALID_PARAMS for an invalid class unless `invalidClass: 'literal'`. */
export function compileGlob(glob: string, opts: GlobOptions = {}): Glob {
  return new GlobMatcher(glob, parse(glob, opts));
}

/** True when the glob has a wildcard or class, i.e. it can match more than its own text. */
export function isGlob(glob: string, opts: GlobOptions = {}): boolean {
  return parse(glob, opts).some((t) => t.kind !== 'char');
}

function parse(glob: string, opts: GlobOptions): Token[] {
  const classes = opts.classes ?? true;
  const cps = Array.from(glob, (c) => c.codePointAt(0)!);
  const tokens: Token[] = [];
  const STAR = 0x2a,
    QUESTION = 0x3f,
    BACKSLASH = 0x5c,
    OPEN = 0x5b,
    CLOSE = 0x5d;
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i];
    if (c === STAR) {
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' }); // `**` is `*`: keeps closure one step
    } else if (c === QUESTION) tokens.push({ kind: 'any' });
    else if (classes && c === BACKSLASH && i + 1 < cps.length) tokens.push({ kind: 'char', cp: cps[++i] });
    else if (classes && c === OPEN) {
      // The first character of the body may be `]` (or `!`/`^` then `]`) and is then a member, as in fnmatch.
      const end = cps.indexOf(CLOSE, i + 2);
      const cls = end < 0 ? undefined : classOf(cps.slice(i + 1, end));
      if (cls === undefined) {
        if (end >= 0 && opts.invalidClass !== 'literal') {
          throw new ScoutError('INVALID_PARAMS', `invalid glob pattern '${glob}'`, { pattern: glob });
        }
        tokens.push({ kind: 'char', cp: OPEN });
        continue;
      }
      tokens.push(cls);
      i = end;
    } else tokens.push({ kind: 'char', cp: c });
  }
  return tokens;
}

/** A class body (between the brackets) → its ranges, or undefined when a range is reversed. */
function classOf(body: number[]): Token | undefined {
  const negate = body[0] === 0x21 || body[0] === 0x5e; // ! or ^
  const items = negate ? body.slice(1) : body;
  const ranges: Array<[number, number]> = [];
  for (let i = 0; i < items.length; i++) {
    const lo = items[i];
    // `a-z` is a range; a `-` first or last is itself.
    if (items[i + 1] === 0x2d && i + 2 < items.length) {
      const hi = items[i + 2];
      if (hi < lo) return undefined;
      ranges.push([lo, hi]);
      i += 2;
    } else ranges.push([lo, lo]);
  }
  return { kind: 'class', negate, ranges };
}

function matches(t: Token, cp: number): boolean {
  switch (t.kind) {
    case 'any':
      return true;
    case 'char':
      return t.cp === cp;
    case 'class':
      return t.ranges.some(([lo, hi]) => cp >= lo && cp <= hi) !== t.negate;
    default:
      return false;
  }
}

/**
 * NFA over pattern positions 0..m (position i: the first i tokens are matched). A non-star token i moves
 * i → i+1 on a character it matches; a star token i is an ε-move i → i+1, and position i+1 then loops on any
 * character. Stars never follow each other, so the ε-closure is one shift.
 */
class GlobMatcher implements Glob {
  private readonly words: number;
  /** Positions whose token is a star. */
  private readonly star: Uint32Array;
  /** Positions that loop on any character (right after a star). */
  private readonly loop: Uint32Array;
  /** Positions with an `any` token: they advance on every character. */
  private readonly anyMask: Uint32Array;
  /** Per code point: positions whose char/class token matches it (cached; at most MASK_CACHE entries). */
  private readonly masks = new Map<number, Uint32Array>();
  private readonly asciiMasks: Array<Uint32Array | undefined> = new Array(128);
  /** ASCII masks as plain integers, for one-word patterns (the hot loop of a 1 MiB command check). */
  private asciiSmall: Int32Array | undefined;
  private readonly m: number;

  constructor(
    readonly source: string,
    private readonly tokens: Token[],
  ) {
    this.m = tokens.length;
    this.words = (this.m >>> 5) + 1;
    this.star = new Uint32Array(this.words);
    this.loop = new Uint32Array(this.words);
    this.anyMask = new Uint32Array(this.words);
    tokens.forEach((t, i) => {
      if (t.kind === 'star') {
        setBit(this.star, i);
        setBit(this.loop, i + 1);
      } else if (t.kind === 'any') setBit(this.anyMask, i);
    });
  }

  test(s: string): boolean {
    return this.words === 1 ? this.testSmall(s, [0, s.length]) : this.testLarge(s);
  }

  testAnyRange(s: string, ranges: ArrayLike<number>): boolean {
    if (this.words === 1) return this.testSmall(s, ranges);
    for (let r = 0; r < ranges.length; r += 2) if (this.testLarge(s.slice(ranges[r], ranges[r + 1]))) return true;
    return false;
  }

  /** Patterns of up to 31 positions (nearly all): the state set is one integer. */
  private testSmall(s: string, ranges: ArrayLike<number>): boolean {
    const star = this.star[0] | 0,
      loop = this.loop[0] | 0,
      acceptBit = (2 ** this.m) | 0;
    const table = (this.asciiSmall ??= Int32Array.from({ length: 128 }, (_, cp) => this.maskOf(cp)[0]));
    // Once the accepting position loops (the pattern ends in `*`), nothing can take it away again.
    const acceptLoops = (loop & acceptBit) !== 0;
    const first = 1 | ((1 & star) << 1);
    // One loop over every piece: a 1 MiB command of 270,000 simple commands is one call, not 270,000.
    pieces: for (let r = 0; r < ranges.length; r += 2) {
      const n = ranges[r + 1];
      let cur = first;
      for (let i = ranges[r]; i < n; i++) {
        if (acceptLoops && (cur & acceptBit) !== 0) return true;
        let cp = s.charCodeAt(i);
        let mask: number;
        if (cp < 128) mask = table[cp];
        else {
          if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n) {
            const lo = s.charCodeAt(i + 1);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
              cp = (cp - 0xd800) * 0x400 + (lo - 0xdc00) + 0x10000;
              i++;
            }
          }
          mask = this.maskFor(cp)[0] | 0;
        }
        const next = ((cur & mask) << 1) | (cur & loop);
        if (next === 0) continue pieces;
        cur = next | ((next & star) << 1);
      }
      if ((cur & acceptBit) !== 0) return true;
    }
    return false;
  }

  private testLarge(s: string): boolean {
    const w = this.words;
    let cur = new Uint32Array(w);
    let next = new Uint32Array(w);
    setBit(cur, 0);
    this.close(cur);
    for (const ch of s) {
      const cp = ch.codePointAt(0)!;
      const mask = cp < 128 ? this.ascii(cp) : this.maskFor(cp);
      // next = ((cur & mask) << 1) | (cur & loop), then the ε-closure over stars.
      let carry = 0;
      let alive = 0;
      for (let k = 0; k < w; k++) {
        const adv = cur[k] & mask[k];
        const v = ((adv << 1) | carry | (cur[k] & this.loop[k])) >>> 0;
        carry = adv >>> 31;
        next[k] = v;
        alive |= v;
      }
      if (alive === 0) return false;
      this.close(next);
      [cur, next] = [next, cur];
    }
    return getBit(cur, this.m);
  }

  private ascii(cp: number): Uint32Array {
    return (this.asciiMasks[cp] ??= this.maskOf(cp));
  }

  /** Add i+1 for every active star position i. */
  private close(set: Uint32Array): void {
    let carry = 0;
    for (let k = 0; k < this.words; k++) {
      const s = set[k] & this.star[k];
      const shifted = ((s << 1) | carry) >>> 0;
      carry = s >>> 31;
      set[k] = (set[k] | shifted) >>> 0;
    }
  }

  private maskFor(cp: number): Uint32Array {
    let mask = this.masks.get(cp);
    if (mask) return mask;
    mask = this.maskOf(cp);
    // A command of a million distinct characters must not grow the cache without bound.
    if (this.masks.size < MASK_CACHE) this.masks.set(cp, mask);
    return mask;
  }

  private maskOf(cp: number): Uint32Array {
    const mask = Uint32Array.from(this.anyMask);
    this.tokens.forEach((t, i) => {
      if ((t.kind === 'char' || t.kind === 'class') && matches(t, cp)) setBit(mask, i);
    });
    return mask;
  }
}

/** Distinct characters whose masks a compiled glob remembers. */
const MASK_CACHE = 4096;

function setBit(set: Uint32Array, i: number): void {
  set[i >>> 5] = (set[i >>> 5] | (1 << (i & 31))) >>> 0;
}

function getBit(set: Uint32Array, i: number): boolean {
  return (set[i >>> 5] & (1 << (i & 31))) !== 0;
}
