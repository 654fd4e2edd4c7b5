// Small readings of setting values that several programs share, so they cannot drift apart.

/** `a, b,,c` → ['a', 'b', 'c']: a comma-separated setting or flag, blanks dropped. */
export function commaList(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * The addresses scout-mcp --http serves without a key (it refuses any other without one); `scoutctl service
 * install --http` warns on the same test.
 */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
