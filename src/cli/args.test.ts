// scoutctl's parsing, without a daemon: unknown options and commands are refused with a suggestion (exit 2),
// every command answers --help from its declaration, and after `exec HOST` the rest is the remote command.
import { describe, expect, it } from 'vitest';
import { suggest } from '../protocol/suggest.js';
import { parseArgs, timeoutMs, type ParseSpec } from './args.js';
import { main } from './main.js';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

const EXEC: ParseSpec = {
  options: [
    { name: 'timeout', value: 'SECONDS', help: '' },
    { name: 'cwd', value: 'DIR', help: '' },
    { name: 'detach', help: '' },
  ],
  commandAfter: 1,
};
const parse = (argv: string[]) => parseArgs(argv, (c) => (c === 'exec' ? EXEC : undefined));

describe('the remote command after the host', () => {
  it.each([
    [
      ['exec', 'web1', 'ls', '-h', '/'],
      ['ls', '-h', '/'],
    ],
    [
      ['exec', 'web1', 'tail', '-n', '1', '/etc/hostname'],
      ['tail', '-n', '1', '/etc/hostname'],
    ],
    [
      ['exec', 'web1', 'tail', '-f', '/var/log/syslog'],
      ['tail', '-f', '/var/log/syslog'],
    ],
    [
      ['exec', 'web1', 'echo', '--', 'hi'],
      ['echo', '--', 'hi'],
    ],
    [
      ['exec', 'web1', '--', 'echo', '--', 'hi'],
      ['echo', '--', 'hi'],
    ],
    [
      ['exec', 'web1', 'grep', '--json', 'x'],
      ['grep', '--json', 'x'],
    ],
    [
      ['exec', '--timeout', '5', 'web1', 'sleep', '1'],
      ['sleep', '1'],
    ],
    [
      ['exec', 'web1', '--timeout', '5', '--', 'sleep', '1'],
      ['sleep', '1'],
    ],
  ])('%j runs %j', (argv, command) => {
    const p = parse(argv);
    expect(p.positional).toEqual(['web1']);
    expect(p.rest).toEqual(command);
  });

  it('reads scoutctl options before the host, or between the host and --', () => {
    expect(parse(['exec', '--timeout', '5', 'web1', 'true']).flags.get('timeout')).toBe('5');
    expect(parse(['exec', 'web1', '--cwd=/srv', '--detach', '--', 'true']).flags).toEqual(
      new Map<string, string | true>([
        ['cwd', '/srv'],
        ['detach', true],
      ]),
    );
  });

  it('refuses options after the host without a -- to end them, and words between the host and --', () => {
    expect(() => parse(['exec', 'web1', '--timeout', '5', 'true'])).toThrow(/options go before the host/);
    expect(() => parse(['exec', 'web1', '--timeout', '5', 'x', '--', 'true'])).toThrow(/only scoutctl options go there/);
  });
});

describe('unknown and incomplete options', () => {
  it('scoutctl exec web1 --timout 5 -- true exits 2 naming --timeout', async () => {
    const r = await run(['exec', 'web1', '--timout', '5', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown option --timout for exec (did you mean --timeout?)');
  });

  it('an unknown option before the host, a missing value and a value for a switch exit 2', async () => {
    expect(await run(['exec', '--timout', '5', 'web1', 'true'])).toMatchObject({ code: 2, err: expect.stringContaining('did you mean --timeout?') });
    expect(await run(['exec', '--timeout'])).toMatchObject({ code: 2, err: expect.stringContaining('--timeout needs a value (SECONDS)') });
    expect(await run(['ls', '--all=yes', 'web1:/'])).toMatchObject({ code: 2, err: expect.stringContaining('--all takes no value') });
    expect(await run(['ls', '-x', 'web1:/'])).toMatchObject({ code: 2, err: expect.stringContaining('unknown option -x for ls') });
    // Another command's option is not this one's.
    expect(await run(['cat', '--depth', '3', 'web1:/etc/hostname'])).toMatchObject({ code: 2, err: expect.stringContaining('unknown option --depth for cat') });
  });

  it('an unknown command exits 2 with a suggestion', async () => {
    expect(await run(['exce', 'web1', 'true'])).toMatchObject({ code: 2, err: expect.stringContaining("unknown command 'exce' (did you mean exec?)") });
  });

  it("checks --timeout in seconds, in the CLI's words", async () => {
    expect(await run(['exec', '--timeout', '90000', 'web1', 'true'])).toMatchObject({ code: 2, err: expect.stringContaining('--timeout takes seconds, more than 0 and at most 86400 (24 h)') });
    expect(timeoutMs(parse(['exec', '--timeout', '1.5', 'web1', 'x']))).toBe(1500);
  });

  it('suggests only what is close', () => {
    expect(suggest('timout', ['timeout', 'cwd'])).toBe('timeout');
    expect(suggest('detahc', ['detach', 'stdin'])).toBe('detach');
    expect(suggest('zzz', ['timeout', 'cwd'])).toBeUndefined();
  });
});

describe('--help', () => {
  const commands = [
    'status',
    'hosts',
    'exec',
    'shell',
    'forward',
    'jobs',
    'pool',
    'drop',
    'get',
    'put',
    'cp',
    'cat',
    'ls',
    'stat',
    'tree',
    'find',
    'write',
    'fleet',
    'trust',
    'audit',
    'keys',
    'approvals',
    'approve',
    'deny',
    'stop',
    'reload',
    'doctor',
    'logs',
    'service',
  ];

  it.each(commands)('scoutctl %s --help prints its usage and options', async (name) => {
    const r = await run([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^Usage: scoutctl ${name}\\b`));
    expect(r.out).toContain('Global options:');
    expect(await run(['help', name])).toEqual(r);
  });

  it('lists every command of the usage page', async () => {
    const r = await run(['--help']);
    const listed = [...r.out.matchAll(/^ {2}scoutctl (\w+)/gm)].map((m) => m[1]);
    expect([...new Set(listed)].sort()).toEqual([...commands].sort());
  });

  it('gives each option its meaning and default', async () => {
    const r = await run(['exec', '--help']);
    expect(r.out).toContain('--timeout SECONDS');
    expect(r.out).toContain('(default: SCOUT_COMMAND_TIMEOUT');
    expect(r.out).toContain('everything after the host is the remote command');
    expect((await run(['write', '--help'])).out).toMatch(/-p, --create-dirs\s+create missing parent directories/);
  });
});

describe('HOST:PATH', () => {
  it('reads ~ and ~/x as the remote home, as scout-mcp does', async () => {
    const { parseRemote } = await import('./transfer.js');
    expect(parseRemote('web1:~/logs/a.log')).toEqual({ host: 'web1', path: 'logs/a.log' });
    expect(parseRemote('web1:~')).toEqual({ host: 'web1', path: '.' });
    expect(parseRemote('web1:/etc/hosts')).toEqual({ host: 'web1', path: '/etc/hosts' });
  });
});
