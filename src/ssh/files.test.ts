import { describe, expect, it } from 'vitest';
import { isScoutError } from '../protocol/errors.js';
import { compileGlob } from '../protocol/glob.js';

describe('compileGlob (find -name)', () => {
  const m = (glob: string, name: string) => compileGlob(glob).test(name);

  it('matches *, ? and classes over the whole name, a leading dot included', () => {
    expect(m('*.log', 'a.log')).toBe(true);
    expect(m('*.log', 'a.log.1')).toBe(false);
    expect(m('*', '.hidden')).toBe(true);
    expect(m('?.txt', 'ab.txt')).toBe(false);
    expect(m('[ab].*', 'b.conf')).toBe(true);
    expect(m('[!ab].*', 'b.conf')).toBe(false);
    expect(m('[a-c]x', 'cx')).toBe(true);
    expect(m('*', 'line\nbreak')).toBe(true);
  });

  it('takes regex and shell characters literally, and \\ quotes the next one', () => {
    expect(m('$(x)+.{1}|^', '$(x)+.{1}|^')).toBe(true);
    expect(m('a.b', 'axb')).toBe(false);
    expect(m('\\*', '*')).toBe(true);
    expect(m('\\*', 'x')).toBe(false);
    expect(m('-n*', '-n é')).toBe(true);
    expect(m('[', '[')).toBe(true);
  });

  it('a pattern that cannot be compiled is INVALID_PARAMS', () => {
    try {
      compileGlob('[z-a]');
      throw new Error('expected a throw');
    } catch (err) {
      expect(isScoutError(err, 'INVALID_PARAMS')).toBe(true);
    }
  });
});
