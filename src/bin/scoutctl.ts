#!/usr/bin/env node
// scoutctl: Scout's command-line client. Argument parsing and command code load lazily (start-up is part of the product).
// The installed binary is this file bundled into one CommonJS file (scripts/bundle-cli.ts), so no top-level await.
import('../cli/main.js')
  .then(({ main }) => main(process.argv.slice(2)))
  .then((code) => {
    process.exitCode = code;
  });
