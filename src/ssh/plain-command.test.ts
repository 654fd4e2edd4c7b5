import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DASH_BUILTINS, DASH_CHECKED, NO_DIRECT, isPlainCommand, parseInventory, scanPlain } from './plain-command.js';

// A bash inventory as a resident shell reports it: builtins, then functions, aliases and reserved words.
const bash = parseInventory(
  'bash\t. : [ alias cd command echo eval exec exit export false hash kill printf pwd read set source test trap true type umask unset \t' + 'if then fi { } ! [[ ]] time function ll greet stat',
);

describe('plain commands (run in the resident shell itself)', () => {
  it.each([
    'true',
    'true\n',
    'ls -la /var/log',
    'cat /etc/hosts',
    "grep -rn 'a b$(x)' /etc",
    'ls /var/log/*.log',
    'git status --short',
    'df -h | sort -k5 | head -n 3',
    'test -d /tmp && echo yes || echo no',
    'cat /nope 2>/dev/null; echo done',
    'ls -l >out.txt 2>&1',
    'sort <in.txt >>out.txt',
    'uptime &>/dev/null',
    'echo "quoted words, no expansion" \\; literal',
    'printf %s\\\\n a',
    '~/bin/tool --flag=value',
    './script.sh a=b',
    'true;',
  ])('%j', (command) => {
    expect(isPlainCommand(command, bash)).toBe(true);
  });

  it.each([
    // state-changing builtins, special builtins, keywords
    'cd /tmp',
    'export A=1',
    'umask 077',
    'exec ls',
    'exit 3',
    'set -e',
    'trap x EXIT',
    'source f',
    '. f',
    ': >x',
    'read x',
    'kill 0',
    'hash -r',
    'alias x=y',
    'unset PATH',
    'eval ls',
    'command cd /',
    'time ls',
    'if true; then :; fi',
    // a function or alias from the rc files shadows the program
    'stat /',
    'll',
    'greet',
    // assignments, expansions, code
    'A=1',
    'A=1 ls',
    'echo $HOME',
    'echo ${A:=1}',
    'echo $((a=1))',
    'echo `id`',
    'echo "$HOME"',
    'echo "`id`"',
    'echo "a\\"b"',
    'printf -v x 1',
    'printf -vx 1',
    '(cd /tmp)',
    '{ ls; }',
    'f() { :; }',
    'echo [a]',
    '! true',
    'ls # comment',
    // background, here-documents, process substitution, odd redirections
    'sleep 1 &',
    'ls &',
    'cat <<EOF\nx\nEOF',
    'cat <<<x',
    'diff <(ls) x',
    'ls >(cat)',
    'ls >>&2',
    'ls >&file',
    'cat <>f',
    "'2'>x ls",
    // lists that are not complete, multi-line, control characters, globbed command names
    '',
    ' ',
    ';',
    '; ls',
    'ls |',
    'ls &&',
    '| ls',
    'ls && ; x',
    'ls\nls',
    'ls\tx\r',
    'l* x',
    "echo 'unterminated",
    'ls >',
    'ls > | x',
    'ls |& cat',
    'ls ;; x',
    'echo ünï',
  ])('not plain: %j', (command) => {
    expect(isPlainCommand(command, bash)).toBe(false);
  });

  it('dash: its own builtins and reserved words, and the names it reported, are not plain', () => {
    const dash = parseInventory('dash\t\t source time');
    for (const command of ['true', 'echo hi', 'ls -l /tmp | wc -l', 'type ls', 'pwd', 'test -e /x || printf no']) expect(isPlainCommand(command, dash), command).toBe(true);
    for (const command of ['cd /tmp', 'chdir /tmp', 'local x', 'read x', 'kill 1', 'alias a=b', 'hash ls', 'source x', 'time ls', 'if true', 'while true', 'command ls'])
      expect(isPlainCommand(command, dash), command).toBe(false);
  });

  // The list is ours (dash cannot print it): every name some shell has as a builtin or keyword is asked of the
  // dash installed here, and its answer must agree with DASH_BUILTINS and DASH_CHECKED.
  it('DASH_BUILTINS is what the installed dash has, and it has none of DASH_CHECKED', () => {
    const candidates = new Set([...DASH_BUILTINS, ...DASH_CHECKED, ...execFileSync('bash', ['-c', 'compgen -b; compgen -k'], { encoding: 'utf8' }).split('\n').filter(Boolean)]);
    const script = [...candidates].map((n) => `type '${n}' 2>&1 || :`).join('\n');
    const lines = execFileSync('/bin/dash', ['-c', script], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const builtin = lines.filter((l) => / is a (special )?shell builtin$/.test(l)).map((l) => l.split(' ')[0]);
    expect(new Set(builtin)).toEqual(new Set(DASH_BUILTINS));
    const dash = parseInventory('dash\t\t');
    const keywords = lines.filter((l) => / is a shell keyword$/.test(l)).map((l) => l.split(' ')[0]!);
    for (const k of keywords) expect(dash.shadows.has(k), k).toBe(true);
    for (const n of DASH_CHECKED) expect(builtin.includes(n) || keywords.includes(n), n).toBe(false);
  });

  it('a shell that is not bash or dash (or bash in POSIX mode, or with traps) runs nothing directly', () => {
    expect(isPlainCommand('true', NO_DIRECT)).toBe(false);
    expect(parseInventory('sh')).toEqual(NO_DIRECT);
    expect(parseInventory('bash\t\t')).toEqual(NO_DIRECT);
  });

  it('a quoted name is still looked up: functions and builtins match it unquoted', () => {
    expect(isPlainCommand("'cd' /tmp", bash)).toBe(false);
    expect(isPlainCommand('"stat" /', bash)).toBe(false);
    expect(scanPlain("'l s' a\\ b 2>/dev/null | wc")?.commands.map((c) => c.words)).toEqual([['l s', 'a b'], ['wc']]);
  });
});
