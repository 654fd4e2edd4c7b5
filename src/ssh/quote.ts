/** Quote one word for a POSIX shell: everything inside single quotes is literal; `'` becomes `'\''`. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./=:@%+,-]+$/.test(word) && !word.startsWith('-')) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * `cd -- <dir> || exit; <command>`: the directory can never be read as an option or expanded, and when `cd`
 * fails nothing runs. (`cd -- d && a; b` ran `b` in the login directory: `&&` binds only the first command of
 * a list.) `exit` leaves only the command's own shell: a subshell on a warm shell (lines with `cd` are never
 * plain, plain-command.ts), the exec channel's shell otherwise; the status is cd's. One line, so an error
 * message still names line 1.
 */
export function withCwd(command: string, cwd: string | undefined): string {
  return cwd === undefined ? command : `cd -- ${shellQuote(cwd)} || exit; ${command}`;
}
