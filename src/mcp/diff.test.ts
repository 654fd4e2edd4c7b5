// The shim's unified diff, checked against the tools people trust: GNU `patch` must turn the old text into
// the new one with every diff we print, and small cases must read exactly like `diff -u`.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { unifiedDiff } from './diff.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scout-diff-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function applyWithPatch(oldText: string, diff: string): string {
  const oldFile = path.join(dir, 'old');
  const outFile = path.join(dir, 'out');
  fs.writeFileSync(oldFile, oldText);
  fs.rmSync(outFile, { force: true });
  const r = spawnSync('patch', ['-s', '-o', outFile, oldFile], { input: diff });
  if (r.status !== 0) throw new Error(`patch failed: ${r.stdout}${r.stderr}\n${diff}`);
  return fs.readFileSync(outFile, 'utf8');
}

function gnuDiff(oldText: string, newText: string): string {
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  fs.writeFileSync(a, oldText);
  fs.writeFileSync(b, newText);
  try {
    return execFileSync('diff', ['-u', '--label', 'a', '--label', 'b', a, b], { encoding: 'utf8' });
  } catch (err) {
    return (err as { stdout: string }).stdout; // exit 1 = differences found
  }
}

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('x\ny\n', 'x\ny\n', 'a', 'b')).toBe('');
  });

  it('reads like diff -u for a change in the middle of a file', () => {
    const a = Array.from({ length: 20 }, (_, i) => `line ${i + 1}\n`).join('');
    const b = a.replace('line 10\n', 'line ten\n').replace('line 18\n', '');
    expect(unifiedDiff(a, b, 'a', 'b')).toBe(gnuDiff(a, b));
  });

  it('marks a missing final newline like diff -u', () => {
    expect(unifiedDiff('one\ntwo\n', 'one\ntwo', 'a', 'b')).toBe(gnuDiff('one\ntwo\n', 'one\ntwo'));
    expect(unifiedDiff('', 'new\n', 'a', 'b')).toBe(gnuDiff('', 'new\n'));
  });

  it('every diff applies with patch and yields the new text', () => {
    const line = fc.constantFrom('a\n', 'b\n', 'c\n', 'd\n', 'e', '\n');
    const text = fc.array(line, { maxLength: 30 }).map((l) => l.join(''));
    fc.assert(
      fc.property(text, text, (a, b) => {
        const d = unifiedDiff(a, b, 'a', 'b');
        if (a === b) return d === '';
        return applyWithPatch(a, d) === b;
      }),
      { numRuns: 150 },
    );
  });
});
