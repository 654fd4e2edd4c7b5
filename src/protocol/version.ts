import { createRequire } from 'node:module';

/** Wire protocol number. Bump on any incompatible change; clients and daemon compare it in `daemon.hello`. */
export const PROTOCOL_VERSION = 1;

let cached: string | undefined;
/** The package version (package.json), read once. */
export function packageVersion(): string {
  if (!cached) {
    const require = createRequire(import.meta.url);
    // src/protocol and dist/protocol are two levels below the package root, dist-bench/src/protocol (the
    // bench's build, tsconfig.bench.json) three: take the nearest package.json up from here.
    let found: { version: string } | undefined;
    for (const up of ['../../package.json', '../../../package.json']) {
      try {
        found = require(up) as { version: string };
        break;
      } catch {
        // not at this level
      }
    }
    if (!found) throw new Error('package.json not found above src/protocol');
    cached = found.version;
  }
  return cached;
}

/** `--version` / `-V` for a binary: print `name version` and exit. Shared by scoutd, scoutctl and scout-mcp. */
export function exitWithVersion(name: string): never {
  process.stdout.write(`${name} ${packageVersion()}\n`);
  process.exit(0);
}
