// The docs a newcomer reads (issue 20): a README of at most 10 KB with the set-up commands first, the rest in
// docs/, and every relative link and #anchor in them pointing at a file and a heading that exist.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './fixtures/daemon.js';

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function anchors(file: string): Set<string> {
  const out = new Set<string>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('#')) continue;
    out.add(
      line
        .replace(/^#+/, '')
        .trim()
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-'),
    );
  }
  return out;
}

const docs = [
  'README.md',
  ...fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

describe('docs', () => {
  it('the README is at most 10 KB, set-up commands first, and keeps the test command', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(10 * 1024);
    expect(readme.indexOf('## Set up')).toBeLessThan(readme.indexOf('## Quick start'));
    expect(readme).toContain('```sh\nnpm test\n```');
  });

  it('every relative link and anchor resolves', () => {
    const broken: string[] = [];
    for (const doc of docs) {
      const file = path.join(ROOT, doc);
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
        const url = m[1];
        if (/^[a-z]+:/.test(url)) continue;
        const [p, anchor] = url.split('#');
        const target = p ? path.resolve(path.dirname(file), p) : file;
        if (!fs.existsSync(target)) broken.push(`${doc}: ${url} (no such file)`);
        else if (anchor && target.endsWith('.md') && !anchors(target).has(anchor)) broken.push(`${doc}: ${url} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
});
