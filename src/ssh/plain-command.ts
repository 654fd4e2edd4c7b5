// Recognises commands that cannot change a shell's state, so a resident shell may run them without the
// subshell that otherwise isolates each call. The subshell is a fork of the resident shell, and on these
// machines that fork is most of a fast-path call: measured with bash 5.2 after ~/.bashrc, `( eval true )`
// costs 2.8 ms where `eval true` costs 0.4 ms; `ls /` costs 9.8 ms against 6.5 ms (bash does not turn the
// last command of an eval'd string into an exec, so the subshell adds a fork to every external command). With
// dash, 2,000 requests through the resident loop: `true` 2.1 ms each in the subshell, 0.2 ms without; `ls /`
// 5.8 ms against 3.5 ms (dash does not exec the last command either).
//
// "Plain" is decided on the text alone, conservatively: anything this does not understand is not plain and
// takes the subshell, which is always correct. A plain command is a list (`;`, `&&`, `||`, `|`) of simple
// commands made of literal words and redirections:
//   - no expansion that can assign or run code: no `$`, backquote, `(`, `)`, `{`, `}`, `[`, `]`, `#`, `!`;
//   - no here-documents, no `&` (background), no newline;
//   - the command name is literal (no glob), not an assignment (`X=1` would persist), and names either an
//     external program or one of a few builtins that change nothing (PURE_BUILTINS), as reported by the
//     resident shell itself: a function or alias of that name (from the user's rc files) or any other builtin
//     or keyword makes the command not plain. The shell's inventory is taken once when it starts; it cannot
//     change afterwards, because the only commands run outside a subshell are plain ones, which define nothing.
// Globs (`*`, `?`) in arguments are fine: expanding them changes nothing, and with `failglob` the shell reports
// the error and goes on. Redirections apply to their own command only (`exec`, the one builtin that makes them
// stick, is not pure).

/**
 * Regular builtins that change nothing in the shell. Special builtins (`:`, `.`, `exec`, `set`…) are left out
 * even when harmless, because in POSIX mode a redirection error on one of them exits the shell.
 * `printf -v` assigns and is refused separately.
 */
const PURE_BUILTINS = new Set(['true', 'false', 'echo', 'printf', 'test', 'pwd', 'type']);

/** What a resident shell reported about itself when it started (see warm-shell.ts's bootstrap). */
export interface ShellInventory {
  /** The shell can run plain commands without a subshell (bash without DEBUG/ERR/RETURN traps). */
  direct: boolean;
  /** Enabled builtins. */
  builtins: ReadonlySet<string>;
  /** Names that are not what they look like: functions, aliases and reserved words. */
  shadows: ReadonlySet<string>;
}

export const NO_DIRECT: ShellInventory = { direct: false, builtins: new Set(), shadows: new Set() };

/**
 * dash 0.5's builtins (its builtins.def), special ones included. dash cannot list them itself (no compgen), so
 * the list is ours: src/ssh/plain-command.test.ts checks it against the dash installed, name by name.
 */
export const DASH_BUILTINS: readonly string[] =
  '. : [ alias bg break cd chdir command continue echo eval exec exit export false fg getopts hash jobs kill local printf pwd read readonly return set shift test times trap true type ulimit umask unalias unset wait'.split(
    ' ',
  );

const DASH_RESERVED = '! case do done elif else esac fi for if in then until while { }'.split(' ');

/**
 * Builtins of other shells that change a shell's state (or run code). A resident dash reports those of them
 * that `type` finds (a later dash that gained one, or a program of that name): they take the subshell, so a
 * list of dash's builtins that has grown out of date fails safe for these names.
 */
export const DASH_CHECKED: readonly string[] =
  'source pushd popd dirs declare typeset let shopt enable builtin disown suspend logout mapfile readarray caller compgen complete compopt bind history fc setopt unsetopt emulate autoload functions coproc select function time'.split(
    ' ',
  );

/** Unquoted characters a literal word may hold (ASCII only: anything else is left to the subshell). */
const WORD = /[A-Za-z0-9_./,:@%+=~^*?-]/;
const BLANK = /[ \t]/;

interface Scanned {
  /** Each simple command's words, unquoted (redirection targets excluded). */
  commands: Array<{ words: string[]; globbedName: boolean }>;
}

/** Split `command` into simple commands of literal words, or undefined when it is not plain syntax. */
export function scanPlain(command: string): Scanned | undefined {
  const text = command.endsWith('\n') ? command.slice(0, -1) : command;
  const commands: Scanned['commands'] = [];
  let words: string[] = [];
  let globbedName = false;
  let word: string | undefined; // the word being read, undefined between words
  let wordGlob = false;
  let wordQuoted = false;
  let redirectTarget = false; // the next word is a redirection's target, not an argument
  let needCommand = false; // after `|`, `&&` or `||` a command must follow

  const endWord = () => {
    if (word === undefined) return;
    if (redirectTarget) redirectTarget = false;
    else {
      if (words.length === 0) globbedName = wordGlob;
      words.push(word);
    }
    word = undefined;
    wordGlob = false;
    wordQuoted = false;
  };
  /** End a simple command at an operator or at the end; false when that is a syntax error or not plain. */
  const endCommand = (atEnd: boolean): boolean => {
    endWord();
    if (redirectTarget) return false;
    if (words.length === 0) return atEnd && !needCommand && commands.length > 0; // `a;` is fine, `a |` or `;` not
    commands.push({ words, globbedName });
    words = [];
    globbedName = false;
    return true;
  };
  const append = (text: string) => {
    word = (word ?? '') + text;
  };

  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (BLANK.test(ch)) {
      endWord();
      continue;
    }
    if (ch === ';' || ch === '|' || ch === '&') {
      const two = text.slice(i, i + 2);
      if (two === '&>') {
        // `&>file` / `&>>file`: both streams of this command to a file (bash).
        if (word !== undefined || redirectTarget) return undefined;
        i += text[i + 2] === '>' ? 2 : 1;
        redirectTarget = true;
        continue;
      }
      let op: string = ch;
      if (two === '&&' || two === '||') op = two;
      else if (ch === '&' || two === '|&' || two === ';;' || two === ';&') return undefined; // background, case syntax
      if (!endCommand(false)) return undefined;
      i += op.length - 1;
      needCommand = op !== ';';
      continue;
    }
    if (ch === '>' || ch === '<') {
      // An io-number prefix (`2>`) is the word read so far when it is unquoted digits touching the operator.
      if (word !== undefined) {
        if (!/^\d+$/.test(word) || wordQuoted) return undefined;
        word = undefined;
      }
      if (redirectTarget) return undefined;
      const next = text[i + 1];
      if (next === '(' || (ch === '<' && (next === '<' || next === '>'))) return undefined; // <(…), here-doc, <>
      const long = ch === '>' && (next === '>' || next === '|');
      if (long) i++;
      if (text[i + 1] === '&') {
        if (long) return undefined; // `>>&` is a syntax error
        // Duplication: `2>&1`, `>&2`, `<&0`, `>&-`.
        const m = /^&(\d+|-)(?=$|[ \t;|&<>])/.exec(text.slice(i + 1));
        if (!m) return undefined;
        i += m[0].length;
        continue;
      }
      redirectTarget = true;
      continue;
    }
    if (ch === "'" || ch === '"') {
      const end = text.indexOf(ch, i + 1);
      if (end < 0) return undefined;
      const body = text.slice(i + 1, end);
      // Single quotes take everything literally; double quotes would still expand `$`, backquotes and `\`.
      if (/[\0-\x08\x0a-\x1f\x7f]/.test(body) || (ch === '"' && /[$`\\]/.test(body))) return undefined;
      append(body);
      wordQuoted = true;
      i = end;
      continue;
    }
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === undefined || !/[\x20-\x7e]/.test(next)) return undefined;
      append(next);
      wordQuoted = true;
      i++;
      continue;
    }
    if (!WORD.test(ch)) return undefined;
    if (ch === '*' || ch === '?') wordGlob = true;
    append(ch);
  }
  if (!endCommand(true)) return undefined;
  return { commands };
}

/** True when `command` may run in the resident shell itself (no subshell): see the header. */
export function isPlainCommand(command: string, shell: ShellInventory): boolean {
  if (!shell.direct) return false;
  const scanned = scanPlain(command);
  if (!scanned) return false;
  return scanned.commands.every(({ words, globbedName }) => {
    const name = words[0]!;
    if (globbedName || name === '' || name.includes('=')) return false;
    if (shell.shadows.has(name)) return false;
    if (shell.builtins.has(name)) {
      if (!PURE_BUILTINS.has(name)) return false;
      if (name === 'printf' && words.slice(1).some((w) => w.startsWith('-v'))) return false;
    }
    return true;
  });
}

/**
 * Parse the inventory line a resident shell prints after its ready marker: `bash\tBUILTINS\tSHADOWS`, or
 * `dash\t\tSHADOWS` (the DASH_CHECKED names it has).
 */
export function parseInventory(line: string): ShellInventory {
  const [kind, builtins = '', shadows = ''] = line.split('\t');
  const names = (s: string) => new Set(s.split(/\s+/).filter(Boolean));
  if (kind === 'dash') return { direct: true, builtins: new Set(DASH_BUILTINS), shadows: new Set([...DASH_RESERVED, ...names(shadows)]) };
  if (kind !== 'bash') return NO_DIRECT;
  const b = names(builtins);
  // A shell that lists no builtins did not answer as expected: do not guess.
  if (b.size === 0) return NO_DIRECT;
  return { direct: true, builtins: b, shadows: names(shadows) };
}
