#!/usr/bin/env node
// scoutctl: Scout's command-line client. Argument parsing and command code load lazily (start-up is part of the product).
const { main } = await import('../cli/main.js');
process.exitCode = await main(process.argv.slice(2));
