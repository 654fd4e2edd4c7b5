// Layering rules (STYLE.md 15): cli and mcp reach the daemon only through client/, and client/ stays light
// (no ssh2, no daemon, no pool) so scoutctl starts fast.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '..', 'src');

function filesIn(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return filesIn(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

/** Value imports only: `import type` costs nothing at run time. */
function imports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'"]*?from\s+['"]([^'"]+)['"]/gm)) specs.push(m[1]);
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]);
  return specs.map((s) => (s.startsWith('.') ? path.relative(SRC, path.resolve(path.dirname(file), s)) : s));
}

const FORBIDDEN: Record<string, RegExp> = {
  client: /^(daemon|pool|ssh|hosts|cli|mcp)\/|^ssh2$|^pino$|^zod$|^json-rpc-2\.0$/,
  cli: /^(daemon|pool|ssh|hosts)\/|^ssh2$/,
  // ssh/quote is pure (no ssh2): the resources quote names with the same shellQuote the daemon uses.
  mcp: /^(daemon|pool|hosts)\/|^ssh\/(?!quote\.js$)|^ssh2$/,
  protocol: /^(daemon|pool|ssh|hosts|cli|mcp|client)\//,
  pool: /^(daemon|cli|mcp|client)\/|^json-rpc-2\.0$/,
  ssh: /^(daemon|pool|cli|mcp|client)\/|^json-rpc-2\.0$/,
};

describe('module layering', () => {
  for (const [layer, rule] of Object.entries(FORBIDDEN)) {
    it(`${layer}/ imports nothing it must not`, () => {
      const bad = filesIn(path.join(SRC, layer)).flatMap((f) =>
        imports(f)
          .filter((i) => rule.test(i))
          .map((i) => `${path.relative(SRC, f)} → ${i}`),
      );
      expect(bad).toEqual([]);
    });
  }
});
