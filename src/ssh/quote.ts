/** Quote one word for a POSIX shell: everything inside single quotes is literal; `'` becomes `'\''`. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./=:@%+,-]+$/.test(word) && !word.startsWith('-')) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `cd -- <dir> && <command>`: the directory can never be read as an option or expanded. */
export function withCwd(command: string, cwd: string | undefined): string {
  return cwd === undefined ? command : `cd -- ${shellQuote(cwd)} && ${command}`;
}
