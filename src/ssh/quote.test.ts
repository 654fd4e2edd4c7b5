import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
    expect(withCwd('pwd', '-x')).toBe("cd -- '-x' || exit; pwd");
  });

  it('runs no part of a list when cd fails, and every part when it works', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scout-cwd-'));
    try {
      const line = withCwd('echo a > one; echo b > two', path.join(dir, 'missing'));
      const r = spawnSync('/bin/sh', ['-c', line], { cwd: dir });
      expect(r.status).not.toBe(0);
      expect(fs.readdirSync(dir)).toEqual([]);
      const sub = path.join(dir, 'sub');
      fs.mkdirSync(sub);
      expect(spawnSync('/bin/sh', ['-c', withCwd('echo a > one; echo b > two', sub)], { cwd: dir }).status).toBe(0);
      expect(fs.readdirSync(sub).sort()).toEqual(['one', 'two']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
