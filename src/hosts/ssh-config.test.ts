// OpenSSH is the oracle: for each fixture config, what Scout resolves must equal what `ssh -G` (and, for
// expanded IdentityFile paths, `ssh -v`) says. ssh takes ~ and %d from the passwd entry, not $HOME, so the
// fixtures use the real home directory and reach the temp directory through `~/../…` paths.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleAlgorithms, loadSshConfig, parseSshConfigText, type AlgorithmSpecs, type HostEntry, type SshConfigOptions } from './ssh-config.js';

const { homedir: home, username: localUser } = os.userInfo();
const opts: SshConfigOptions = { home, localUser, env: { SSH_AUTH_SOCK: '/run/agent.sock', MY_AGENT: '/run/mine.sock' } };
let dir: string;

function write(rel: string, text: string): string {
  const file = path.join(dir, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** `ssh -G` output as key → values (lowercase keys, repeated keys collected). */
function sshG(config: string, target: string, extra: string[] = []): Map<string, string[]> {
  const out = execFileSync('ssh', ['-G', '-F', config, ...extra, target], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const map = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp < 0) continue;
    const key = line.slice(0, sp);
    map.set(key, [...(map.get(key) ?? []), line.slice(sp + 1)]);
  }
  return map;
}

/** The identity files ssh really tries, fully expanded (`ssh -G` prints them unexpanded). A ProxyCommand that
 *  exits at once makes ssh load identities and then fail at the banner, without any network. */
function sshIdentityFiles(config: string, target: string): string[] {
  let out = '';
  try {
    execFileSync('ssh', ['-v', '-F', config, '-o', 'ProxyCommand=true', '-o', 'BatchMode=yes', target, 'true'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    out = String((err as { stderr?: string }).stderr ?? '');
  }
  return [...out.matchAll(/^debug1: identity file (.*) type -?\d+$/gm)].map((m) => m[1]).filter((f) => !f.endsWith('-cert'));
}

/** Assert Scout agrees with ssh on everything the DESIGN names: HostName, User, Port, IdentityFile, ProxyJump. */
function expectSameAsSsh(config: string, entry: HostEntry, target: string, extra: string[] = []): void {
  const g = sshG(config, target, extra);
  expect({ hostname: entry.hostname, user: entry.user, port: String(entry.port), proxyjump: entry.proxyJump?.join(',') }, target).toEqual({
    hostname: g.get('hostname')?.[0],
    user: g.get('user')?.[0],
    port: g.get('port')?.[0],
    proxyjump: g.get('proxyjump')?.[0],
  });
  // With no IdentityFile set ssh lists its defaults; Scout reports [] and leaves defaults to the auth layer.
  if (entry.identityFiles.length > 0) expect(entry.identityFiles, `${target} identityfile`).toEqual(sshIdentityFiles(config, target));
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'scout-sshcfg-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('fleet config with includes, wildcards, negation and ProxyJump (ssh -G oracle)', () => {
  let main: string;
  beforeAll(() => {
    const viaHome = path.relative(home, dir); // ~/../tmp/… : tilde expansion in Include, checked by ssh too
    write('fleet/conf.d/10-app.conf', 'Host app1\n  HostName App1.Local\n  Port 2022\nHost web1\n  User fromInclude\n');
    write('fleet/conf.d/20-more.conf', `Host app2\n  ProxyJump none\nInclude ${path.join(dir, 'fleet/nested/*.cfg')}\n`);
    write('fleet/conf.d/.hidden.conf', 'Host hidden\n  Port 9999\n');
    write('fleet/conf.d/skip.txt', 'Host skipped\n  Port 9998\n');
    write('fleet/nested/a.cfg', 'Host deep\n  HostName deep.example.com\n');
    main = write(
      'fleet/config',
      `# top-level settings apply to every host, and win (first value wins)
ConnectTimeout 5
Include ~/${viaHome}/fleet/conf.d/*.conf

Host web1 web2 !web3
  HostName %h.example.com
  User deploy
Host web?
  Port 2201
Host db1
  HostName 10.0.0.5
  ProxyJump bastion,jump2
  IdentityFile ~/.ssh/id_db
  IdentityFile %d/keys/%u-%h-%r-%n
Host bastion
  HostName Bastion.Example.COM
  Port=2222
  IdentityFile "~/.ssh/key with space"
Host noname
  IdentitiesOnly yes
Host *.internal !secret.internal
  User ops
  ProxyJump bastion
Host *
  User fallback
  Port 22
  ConnectTimeout 7
  ServerAliveInterval 1m30s
  ServerAliveCountMax 4
  IdentityFile ~/.ssh/id_all
`,
    );
  });

  const targets = ['web1', 'web2', 'web3', 'webx', 'web', 'db1', 'bastion', 'noname', 'a.internal', 'secret.internal', 'app1', 'app2', 'deep', 'hidden', 'skipped', 'not-listed.example.org'];
  for (const target of targets) {
    it(`resolves ${target} as ssh does`, () => {
      expectSameAsSsh(main, loadSshConfig(main, opts).resolve(target), target);
    });
  }

  it('resolves a ProxyJump-style user@host:port like ssh -l user -p port host', () => {
    const entry = loadSshConfig(main, opts).resolve('bob@web1:2200');
    expect(entry.name).toBe('bob@web1:2200');
    expectSameAsSsh(main, entry, 'bob@web1', ['-p', '2200']);
  });

  it('lists concrete aliases in file order (includes in place), without patterns, negations or dot files', () => {
    const hosts = loadSshConfig(main, opts);
    expect(hosts.aliases).toEqual(['app1', 'web1', 'app2', 'deep', 'web2', 'db1', 'bastion', 'noname']);
    expect(hosts.files).toEqual([main, path.join(dir, 'fleet/conf.d/10-app.conf'), path.join(dir, 'fleet/conf.d/20-more.conf'), path.join(dir, 'fleet/nested/a.cfg')]);
  });

  it('maps the other settings Scout honours', () => {
    const hosts = loadSshConfig(main, opts);
    expect(hosts.resolve('db1')).toMatchObject({
      connectTimeoutMs: 5000, // the top-level value came first
      serverAliveIntervalMs: 90_000,
      serverAliveCountMax: 4,
      proxyJump: ['bastion', 'jump2'],
      identityFiles: [path.join(home, '.ssh/id_db'), path.join(home, `keys/${localUser}-10.0.0.5-fallback-db1`), path.join(home, '.ssh/id_all')],
      identitiesOnly: false,
    });
    expect(hosts.resolve('noname')).toMatchObject({ hostname: 'noname', identitiesOnly: true });
    expect(hosts.resolve('app2').proxyJump).toBeUndefined();
  });
});

describe('Include semantics', () => {
  it('an Include inside a Host block applies only when the block matches, and restores the block after', () => {
    write('cond/a.conf', 'User fromA\nHost zzz\n  Port 1111\n');
    write('cond/b.conf', 'Host *\n  HostName fromB\n');
    const main = write(
      'cond/config',
      `Host nomatch
  Include ${path.join(dir, 'cond/b.conf')}
Host x
  Include ${path.join(dir, 'cond/a.conf')}
  Port 2000
Host *
  IdentitiesOnly yes
`,
    );
    const hosts = loadSshConfig(main, opts);
    expect(hosts.resolve('x')).toMatchObject({ user: 'fromA', port: 2000, hostname: 'x' });
    expect(hosts.resolve('zzz')).toMatchObject({ port: 22, hostname: 'zzz' });
    for (const t of ['x', 'zzz', 'nomatch']) expectSameAsSsh(main, hosts.resolve(t), t);
  });

  it('takes relative Include paths from ~/.ssh and expands globs there', () => {
    const fakeHome = path.join(dir, 'home');
    write('home/.ssh/config.d/b.conf', 'Host two\n  Port 2\n');
    write('home/.ssh/config.d/a.conf', 'Host one\n  Port 1\n');
    write('home/.ssh/single', 'Host three\n');
    const main = write('home/.ssh/config', 'Include config.d/*.conf single missing/*.conf\n');
    const hosts = loadSshConfig(main, { home: fakeHome, localUser: 'me' });
    expect(hosts.aliases).toEqual(['one', 'two', 'three']);
    expect(hosts.resolve('two')).toMatchObject({ port: 2, user: 'me' });
  });

  it('baseDir overrides where parseSshConfigText looks for relative includes', () => {
    write('base/x.conf', 'Host fromBase\n  Port 7\n');
    const hosts = parseSshConfigText('Include x.conf\n', { ...opts, baseDir: path.join(dir, 'base') });
    expect(hosts.resolve('fromBase').port).toBe(7);
    expect(hosts.files).toEqual([path.join(dir, 'base/x.conf')]);
  });

  it('stops a file that includes itself with an error naming the file', () => {
    const loop = path.join(dir, 'loop.conf');
    write('loop.conf', `Include ${loop}\n`);
    expect(() => loadSshConfig(loop, opts)).toThrow(/loop\.conf: too many nested Include levels/);
  });
});

describe('Match blocks', () => {
  it('evaluates all, host, originalhost, user and localuser like ssh', () => {
    const main = write(
      'match/config',
      `Host m1
  HostName real.example.com
Match originalhost m1 user ${localUser}
  Port 1001
Match host *.example.com
  User matched
Match localuser ${localUser} !host nothing
  ProxyJump via
Match all
  Port 1003
`,
    );
    const hosts = loadSshConfig(main, opts);
    expect(hosts.resolve('m1')).toMatchObject({ port: 1001, user: 'matched', proxyJump: ['via'] });
    for (const t of ['m1', 'other', 'x.example.com']) expectSameAsSsh(main, hosts.resolve(t), t);
  });

  it('never runs Match exec, and treats the block as not matching', () => {
    const marker = path.join(dir, 'exec-ran');
    const hosts = parseSshConfigText(`Match exec "touch ${marker}"\n  Port 1\nMatch canonical\n  Port 2\n`, opts);
    expect(hosts.resolve('h').port).toBe(22);
    expect(() => execFileSync('test', ['-e', marker])).toThrow();
  });
});

describe('values and errors', () => {
  it('maps StrictHostKeyChecking, IdentityAgent, UserKnownHostsFile and HostKeyAlias', () => {
    const hosts = parseSshConfigText(
      `Host a
  StrictHostKeyChecking ask
  IdentityAgent none
  UserKnownHostsFile ~/.ssh/kh1 /etc/kh2
  HostKeyAlias alias-a
Host b
  StrictHostKeyChecking accept-new
  IdentityAgent SSH_AUTH_SOCK
  UserKnownHostsFile none
Host c
  StrictHostKeyChecking off
  IdentityAgent $MY_AGENT
Host d
  IdentityAgent ~/agent-%r.sock
  User u
`,
      opts,
    );
    expect(hosts.resolve('a')).toMatchObject({ strictHostKeyChecking: 'yes', identityAgent: '', hostKeyAlias: 'alias-a', userKnownHostsFiles: [path.join(home, '.ssh/kh1'), '/etc/kh2'] });
    expect(hosts.resolve('b')).toMatchObject({ strictHostKeyChecking: 'accept-new', identityAgent: '/run/agent.sock', userKnownHostsFiles: ['/dev/null'] });
    expect(hosts.resolve('c')).toMatchObject({ strictHostKeyChecking: 'no', identityAgent: '/run/mine.sock', userKnownHostsFiles: [] });
    expect(hosts.resolve('d').identityAgent).toBe(path.join(home, 'agent-u.sock'));
    expect(hosts.resolve('d')).not.toHaveProperty('strictHostKeyChecking');
  });

  it('keeps ProxyCommand visible when it comes before ProxyJump (ssh then ignores the jump)', () => {
    const hosts = parseSshConfigText('Host p\n  ProxyCommand nc %h %p\n  ProxyJump j\n', opts);
    expect(hosts.resolve('p')).toMatchObject({ proxyCommand: 'nc %h %p' });
    expect(hosts.resolve('p').proxyJump).toBeUndefined();
  });

  it('matches Host patterns case-sensitively and lowercases the resulting hostname, as ssh does', () => {
    const main = write('case/config', 'Host FOO\n  User bob\nHost Bar\n  HostName MiXeD.example.com\n');
    const hosts = loadSshConfig(main, opts);
    for (const t of ['FOO', 'foo', 'Bar']) expectSameAsSsh(main, hosts.resolve(t), t);
    expect(hosts.resolve('foo').user).toBe(localUser);
  });

  it('treats a missing file as an empty host set', () => {
    const hosts = loadSshConfig(path.join(dir, 'nope/config'), opts);
    expect(hosts.aliases).toEqual([]);
    expect(hosts.files).toEqual([]);
    expect(hosts.resolve('any')).toEqual({ name: 'any', hostname: 'any', user: localUser, port: 22, identityFiles: [], identitiesOnly: false, userKnownHostsFiles: [] });
  });

  it('names file and line for a syntax error', () => {
    const bad = write('bad1', 'Host a\n  HostName ok\n  IdentityFile "unterminated\n');
    expect(() => loadSshConfig(bad, opts)).toThrow(`${bad} line 3: cannot parse`);
  });

  it('names file and line for a bad value, even in a block that does not match', () => {
    const bad = write('bad2', 'Host a\n  Port 22\nHost b\n\n  Port 70000\n');
    expect(() => loadSshConfig(bad, opts)).toThrow(`${bad} line 5: Port: bad port number '70000'`);
    expect(() => parseSshConfigText('StrictHostKeyChecking maybe\n', opts)).toThrow(/<text> line 1: StrictHostKeyChecking: expected yes/);
  });
});

describe('Ciphers, MACs, KexAlgorithms, HostKeyAlgorithms (ssh -G oracle)', () => {
  // Assembled against OpenSSH's own default and supported lists, Scout's reading of a spec must give exactly
  // the list `ssh -G` prints; against ssh2's lists (src/ssh/algorithms.ts) the same rules then apply.
  const KEYWORDS: Array<{ field: keyof AlgorithmSpecs; g: string; q: string }> = [
    { field: 'ciphers', g: 'ciphers', q: 'cipher' },
    { field: 'macs', g: 'macs', q: 'mac' },
    { field: 'kexAlgorithms', g: 'kexalgorithms', q: 'kex' },
    { field: 'hostKeyAlgorithms', g: 'hostkeyalgorithms', q: 'HostKeyAlgorithms' },
  ];
  const sshQ = (what: string) => execFileSync('ssh', ['-Q', what], { encoding: 'utf8' }).trim().split('\n');
  let main: string;
  let defaults: Map<string, string[]>;
  beforeAll(() => {
    defaults = sshG('/dev/null', 'any');
    main = write(
      'algos/config',
      `Host plain
  Ciphers aes256-ctr,aes128-ctr,aes256-ctr
  MACs hmac-sha2-256
Host plus
  Ciphers +aes128-cbc,3des-cbc
  KexAlgorithms +diffie-hellman-group14-sha1
  MACs +hmac-sha1,,hmac-md5
Host minus
  Ciphers -aes*-ctr
  MACs -*etm@openssh.com,!hmac-sha1-etm@openssh.com
  KexAlgorithms -*sha1,sntrup*
  HostKeyAlgorithms -*-cert-v01@openssh.com,sk-*
Host caret
  Ciphers ^aes256-ctr,aes128-cbc
  HostKeyAlgorithms ^rsa*
Host keypatterns
  HostKeyAlgorithms ssh-ed25519*,ecdsa-sha2-nistp256
Host empties
  Ciphers ,aes128-ctr,,aes256-ctr
Host first
  Ciphers aes128-ctr
Host first second
  Ciphers aes256-ctr
Match originalhost matched
  MACs hmac-sha2-512
Host *
  KexAlgorithms curve25519-sha256
  HostKeyAlgorithms -ssh-dss*
`,
    );
  });

  for (const target of ['plain', 'plus', 'minus', 'caret', 'keypatterns', 'empties', 'first', 'second', 'matched', 'other']) {
    it(`assembles ${target}'s lists as ssh does`, () => {
      const entry = loadSshConfig(main, opts).resolve(target);
      const g = sshG(main, target);
      for (const k of KEYWORDS) {
        const spec = entry.algorithms?.[k.field];
        const ours = spec === undefined ? defaults.get(k.g)?.[0] : assembleAlgorithms(spec, defaults.get(k.g)![0].split(','), sshQ(k.q)).names.join(',');
        expect(ours, `${target} ${k.g} (${spec ?? 'default'})`).toBe(g.get(k.g)?.[0]);
      }
    });
  }

  it('keeps the first value as written, and says which names nothing supports', () => {
    const hosts = loadSshConfig(main, opts);
    expect(hosts.resolve('first').algorithms).toEqual({ ciphers: 'aes128-ctr', kexAlgorithms: 'curve25519-sha256', hostKeyAlgorithms: '-ssh-dss*' });
    expect(hosts.resolve('nothing-set-here').algorithms).toEqual({ kexAlgorithms: 'curve25519-sha256', hostKeyAlgorithms: '-ssh-dss*' });
    expect(parseSshConfigText('Host x\n  Port 1\n', opts).resolve('x')).not.toHaveProperty('algorithms');
    const supported = ['a-1', 'a-2', 'b-1'];
    expect(assembleAlgorithms('zz,a-*,nope?', ['b-1'], supported)).toEqual({ names: ['a-1', 'a-2'], unmatched: ['zz', 'nope?'] });
    expect(assembleAlgorithms('^b-1,x', ['a-1', 'b-1'], supported)).toEqual({ names: ['b-1', 'a-1'], unmatched: ['x'] });
    expect(assembleAlgorithms('-x,a-*', ['a-1', 'b-1'], supported)).toEqual({ names: ['b-1'], unmatched: [] });
    expect(assembleAlgorithms('-*', ['a-1'], supported)).toEqual({ names: [], unmatched: [] });
  });

  it('refuses at load what ssh refuses whatever the names: two words, a negation outside a - list', () => {
    const two = write('algos/two', 'Host a\n  Ciphers aes128-ctr, aes256-ctr\n');
    expect(() => loadSshConfig(two, opts)).toThrow(`${two} line 2: Ciphers: one comma-separated list expected, got 2 words`);
    expect(() => execFileSync('ssh', ['-G', '-F', two, 'a'], { stdio: 'ignore' })).toThrow();
    const negated = write('algos/negated', 'Host b\n  HostKeyAlgorithms +ssh-ed25519,!ssh-rsa\n');
    expect(() => loadSshConfig(negated, opts)).toThrow(`${negated} line 2: HostKeyAlgorithms: '!ssh-rsa': a negated name is only allowed in a list that starts with '-'`);
    expect(() => execFileSync('ssh', ['-G', '-F', negated, 'b'], { stdio: 'ignore' })).toThrow();
    // A name OpenSSH does not know is a load error for ssh; Scout leaves it to the connect of that host.
    expect(parseSshConfigText('Host c\n  Ciphers 3des-cbc-does-not-exist\n', opts).resolve('c').algorithms).toEqual({ ciphers: '3des-cbc-does-not-exist' });
  });
});
