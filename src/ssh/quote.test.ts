import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellQuote, withCwd } from './quote.js';

const hostile = ["it's", 'a b', '$(touch /tmp/pwned)', '`id`', 'line\nbreak', '-rf', '--', 'ünïcødé', '"dq"', '\\back', '*', '', ';|&<>'];

describe('shellQuote', () => {
  it('makes every hostile word reach the program unchanged, through a real /bin/sh', () => {
    for (const w of hostile) {
      const out = execFileSync('/bin/sh', ['-c', `printf '%s' ${shellQuote(w)}`]).toString();
      expect(out).toBe(w);
    }
  });

  it('cd -- protects a directory that starts with a dash', () => {
    expect(withCwd('pwd', '-x')).toBe("cd -- '-x' && pwd");
  });
});
