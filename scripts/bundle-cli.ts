// Bundles scoutctl (dist/bin/scoutctl.js, tsc's output) into one CommonJS file, dist/bin/scoutctl.cjs, the
// binary package.json installs. Start-up is part of the product (issue 20: a one-shot within 30 ms of
// `node -e 0`). Measured on 2 cores, p50 of 60 runs of `scoutctl exec host -- true` against a warm daemon:
// tsc's ES modules 136.8 ms, an ES-module bundle 135.9 ms, this CommonJS bundle 123.8 ms, `node -e 0` 95.4 ms.
// Node's ES-module loader costs ~5 ms before the first line runs and ~0.5 ms per file; one CommonJS file pays
// neither. Commands stay lazy: esbuild turns each import() into a function run on first use.
// npm packages stay external (only `logs` needs one, pino-pretty, required when it runs).
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/bin/scoutctl.js'],
  outfile: 'dist/bin/scoutctl.cjs',
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
