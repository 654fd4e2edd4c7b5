import { createRequire } from 'node:module';

/** Wire protocol number. Bump on any incompatible change; clients and daemon compare it in `daemon.hello`. */
export const PROTOCOL_VERSION = 1;

let cached: string | undefined;
/** The package version (package.json), read once. */
export function packageVersion(): string {
  if (!cached) {
    const require = createRequire(import.meta.url);
    // src/protocol and dist/protocol are both two levels below the package root.
    cached = (require('../../package.json') as { version: string }).version;
  }
  return cached;
}
