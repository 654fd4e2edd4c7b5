// Shell-style globs on one name (a host alias for fleet patterns, an entry name for fs.find), as fnmatch and
// ssh_config read them: `*`, `?`, `[abc]`, `[a-z]`, `[!x]` / `[^x]`, and `\` to quote the next character.
import { ScoutError } from './errors.js';

export interface GlobOptions {
  /**
   * A class that is not one (a reversed range such as `[z-a]`): `'literal'` matches it as text, as a shell
   * does with a word; `'error'` (the default) refuses the pattern with INVALID_PARAMS.
   */
  invalidClass?: 'literal' | 'error';
}

/** The glob as a RegExp over the whole name. */
export function globToRegExp(glob: string, opts: GlobOptions = {}): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '\\' && i + 1 < glob.length) re += escapeRe(glob[++i]);
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      const cls = end < 0 ? undefined : classOf(glob.slice(i + 1, end));
      if (cls === undefined) {
        if (end >= 0 && opts.invalidClass !== 'literal') {
          throw new ScoutError('INVALID_PARAMS', `invalid glob pattern '${glob}'`, { pattern: glob }, -32602);
        }
        re += '\\[';
        continue;
      }
      re += cls;
      i = end;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`, 'su');
}

/** `a-z` / `!x` → a RegExp class, or undefined when it is not a valid one. */
function classOf(body: string): string | undefined {
  const negate = body.startsWith('!') || body.startsWith('^');
  const cls = `[${negate ? '^' : ''}${(negate ? body.slice(1) : body).replace(/[\\\]^]/g, '\\$&')}]`;
  try {
    new RegExp(cls, 'su');
    return cls;
  } catch {
    return undefined;
  }
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
