// Bundles scoutctl (dist/bin/scoutctl.js, tsc's output) into one CommonJS file, dist/bin/scoutctl.cjs, the
// binary package.json installs. Start-up is part of the product (issue 20: a one-shot within 30 ms of
// `node -e 0`). Measured on 2 cores, p50 of 60 runs of `scoutctl exec host -- true` against a warm daemon:
// tsc's ES modules 136.8 ms, an ES-module bundle 135.9 ms, this CommonJS bundle 123.8 ms, `node -e 0` 95.4 ms.
// Node's ES-module loader costs ~5 ms before the first line runs and ~0.5 ms per file; one CommonJS file pays
// neither. Commands stay lazy: esbuild turns each import() into a function run on first use.
// The output is then tidied (below): p50 of 60 interleaved runs, wall time over `node -e 0`, 28.8 -> 22.7 ms.
// A V8 code cache (vm.Script + cachedData in ~/.cache) measured no better than compiling: 28.4 vs 28.3 ms.
// npm packages stay external (only `logs` needs one, pino-pretty, required when it runs).
import fs from 'node:fs';
import { build } from 'esbuild';

const OUT = 'dist/bin/scoutctl.cjs';

await build({
  entryPoints: ['dist/bin/scoutctl.js'],
  outfile: OUT,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  // version.ts and autostart.ts find package.json and scoutd.js relative to their own file; from dist/bin the
  // same relative paths land on the same files.
  define: { 'import.meta.url': '__scoutFileUrl' },
  // 'use strict' first: esbuild writes its own after the banner, where it would no longer count.
  banner: { js: "'use strict';\nconst __scoutFileUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});

let text = fs.readFileSync(OUT, 'utf8');

// esbuild's interop for `import fs from 'node:fs'` copies every export of the module onto a fresh object as a
// getter, once per importing file: 14 such copies (fs, path, os, net) cost 2.3 ms on the one-shot path. Every
// default import in the bundle is of a Node built-in (checked below), whose exports are a plain object, so an
// object that inherits them and adds `default` gives the same reads for a few microseconds.
const TO_ESM = /^var __toESM = \(mod, isNodeMode, target2\) => \(target2 = [\s\S]*?^\)\);\n/m;
if (!TO_ESM.test(text)) throw new Error(`${OUT}: esbuild's __toESM helper changed; review the replacement in scripts/bundle-cli.ts`);
const notBuiltin = [...text.matchAll(/__toESM\(require\("([^"]+)"\)/g)].map((m) => m[1]).filter((id) => !id.startsWith('node:'));
if (notBuiltin.length) throw new Error(`${OUT}: default imports of npm packages (${notBuiltin.join(', ')}) need esbuild's own __toESM`);
text = text.replace(TO_ESM, 'var __toESM = (mod) => __create(mod, { default: { value: mod, enumerable: true } });\n');

// One character outside ASCII (esbuild escapes them in strings, not in the comments it keeps) makes the whole
// source a two-byte string: Node decodes it on a slower path and V8 scans twice the bytes. 2.5 ms of the
// one-shot for a single '…' in a comment (p50 of 30 interleaved runs, measured inside the process).
text = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

fs.writeFileSync(OUT, text);
