import fs from 'node:fs';

/** Wire protocol number. Bump on any incompatible change; clients and daemon compare it in `daemon.hello`. */
export const PROTOCOL_VERSION = 1;

let cached: string | undefined;
/** The package version (package.json), read once. */
export function packageVersion(): string {
  if (!cached) {
    // src/protocol and dist/protocol are two levels below the package root, dist-bench/src/protocol (the
    // bench's build, tsconfig.bench.json) three: take the nearest package.json up from here.
    let found: { version: string } | undefined;
    for (const up of ['../../package.json', '../../../package.json']) {
      try {
        // Read, not require(): createRequire pulls in the CommonJS loader, ~7 ms of every scoutctl start.
        found = JSON.parse(fs.readFileSync(new URL(up, import.meta.url), 'utf8')) as { version: string };
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

/**
 * The arguments of scoutd and scout-mcp, which take none but --help and --version: those answer and exit, and
 * anything else is refused (exit 2) rather than ignored.
 */
export function binaryArgs(name: string, help: string, accepts: { flags?: string[]; valued?: string[] } = {}): void {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(help);
    process.exit(0);
  }
  if (args.includes('--version') || args.includes('-V')) exitWithVersion(name);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (accepts.flags?.includes(a) || accepts.valued?.some((v) => a.startsWith(`${v}=`))) continue;
    if (accepts.valued?.includes(a) && i + 1 < args.length) {
      i++;
      continue;
    }
    const known = ['--help', '--version', ...(accepts.flags ?? []), ...(accepts.valued ?? []).map((v) => `${v} VALUE`)].join(', ');
    process.stderr.write(`${name}: unknown argument '${a}' (${name} takes ${known}; settings are environment variables)\n`);
    process.exit(2);
  }
}
