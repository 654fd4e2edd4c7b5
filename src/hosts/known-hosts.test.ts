// OpenSSH is the oracle: keys come from ssh-keygen, hashed names from `ssh-keygen -H`, fingerprints from
// `ssh-keygen -l`, and appended entries must be found by `ssh-keygen -F`.
import { execFileSync, spawn } from 'node:child_process';
import { lchownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, chownSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnownHosts, appendKnownHost, fingerprint, hostPatternName, keyTypeOfBlob } from './known-hosts.js';

interface Key {
  type: string;
  base64: string;
  blob: Buffer;
  pubFile: string;
}
let dir: string;
const keys: Record<'ed' | 'ed2' | 'rsa' | 'ecdsa', Key> = {} as never;

function genKey(name: string, type: string, extra: string[] = []): Key {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...extra, '-N', '', '-C', name, '-f', file]);
  const [keyType, base64] = readFileSync(`${file}.pub`, 'utf8').trim().split(' ');
  return { type: keyType, base64, blob: Buffer.from(base64, 'base64'), pubFile: `${file}.pub` };
}

const line = (hosts: string, k: Key, marker = ''): string => `${marker ? marker + ' ' : ''}${hosts} ${k.type} ${k.base64}`;
const kh = (...lines: string[]): KnownHosts => KnownHosts.parse(lines.join('\n') + '\n');
const check = (k: KnownHosts, host: string, port: number, key: Key) => k.check(host, port, key.type, key.blob);

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'scout-kh-'));
  keys.ed = genKey('ed', 'ed25519');
  keys.ed2 = genKey('ed2', 'ed25519');
  keys.rsa = genKey('rsa', 'rsa', ['-b', '2048']);
  keys.ecdsa = genKey('ecdsa', 'ecdsa');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('fingerprint and names', () => {
  it('prints SHA256 fingerprints exactly as ssh-keygen -l does', () => {
    for (const k of Object.values(keys)) {
      const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', k.pubFile], { encoding: 'utf8' });
      expect(fingerprint(k.blob)).toBe(out.split(' ')[1]);
    }
  });

  it('files port 22 under the bare name and other ports as [host]:port', () => {
    expect(hostPatternName('web1', 22)).toBe('web1');
    expect(hostPatternName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });

  it('reads the key type from the blob', () => {
    expect(keyTypeOfBlob(keys.ecdsa.blob)).toBe(keys.ecdsa.type);
    expect(keyTypeOfBlob(Buffer.from([0, 0, 0, 9, 1]))).toBe('');
  });
});

describe('matching hosts', () => {
  it('matches plain names and comma lists, per port', () => {
    const k = kh(line('web1,10.0.0.1', keys.ed), line('[web1]:2222', keys.rsa));
    expect(check(k, 'web1', 22, keys.ed)).toEqual({ status: 'ok' });
    expect(check(k, '10.0.0.1', 22, keys.ed)).toEqual({ status: 'ok' });
    expect(check(k, 'WEB1', 22, keys.ed)).toEqual({ status: 'ok' });
    expect(check(k, 'web1', 2222, keys.rsa)).toEqual({ status: 'ok' });
    expect(check(k, 'web1', 2223, keys.rsa)).toEqual({ status: 'unknown' });
    expect(check(k, 'web2', 22, keys.ed)).toEqual({ status: 'unknown' });
  });

  it('matches names hashed by ssh-keygen -H, including [host]:port', () => {
    const file = path.join(dir, 'hashed');
    writeFileSync(file, [line('web1', keys.ed), line('[127.0.0.1]:2222', keys.ecdsa)].join('\n') + '\n');
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('web1');
    expect(
      text
        .split('\n')
        .filter(Boolean)
        .every((l) => l.startsWith('|1|')),
    ).toBe(true);
    // OpenSSH itself still finds both names in the hashed file…
    for (const name of ['web1', '[127.0.0.1]:2222']) expect(execFileSync('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8' })).toContain('|1|');
    // …and so must we, for exactly those names.
    const k = KnownHosts.load([file]);
    expect(check(k, 'web1', 22, keys.ed)).toEqual({ status: 'ok' });
    expect(check(k, '127.0.0.1', 2222, keys.ecdsa)).toEqual({ status: 'ok' });
    expect(check(k, '127.0.0.1', 22, keys.ecdsa)).toEqual({ status: 'unknown' });
    expect(check(k, 'web2', 22, keys.ed)).toEqual({ status: 'unknown' });
  });

  it('supports * and ? wildcards, also inside [host]:port', () => {
    const k = kh(line('*.example.com', keys.ed), line('db?', keys.rsa), line('[10.0.0.*]:2222', keys.ecdsa));
    expect(check(k, 'a.example.com', 22, keys.ed)).toEqual({ status: 'ok' });
    expect(check(k, 'example.com', 22, keys.ed)).toEqual({ status: 'unknown' });
    expect(check(k, 'db1', 22, keys.rsa)).toEqual({ status: 'ok' });
    expect(check(k, 'db12', 22, keys.rsa)).toEqual({ status: 'unknown' });
    expect(check(k, 'db', 22, keys.rsa)).toEqual({ status: 'unknown' });
    expect(check(k, '10.0.0.7', 2222, keys.ecdsa)).toEqual({ status: 'ok' });
  });

  it('a matching negated pattern excludes the whole line', () => {
    const k = kh(line('*.example.com,!secret.example.com', keys.ed));
    expect(check(k, 'www.example.com', 22, keys.ed)).toEqual({ status: 'ok' });
    expect(check(k, 'secret.example.com', 22, keys.ed)).toEqual({ status: 'unknown' });
  });
});

describe('verdicts', () => {
  it('accepts any key on file for the host, and reports every fingerprint on a mismatch', () => {
    const k = kh(line('web1', keys.ed), line('web1', keys.rsa));
    expect(check(k, 'web1', 22, keys.rsa)).toEqual({ status: 'ok' });
    expect(check(k, 'web1', 22, keys.ed2)).toEqual({ status: 'mismatch', expected: [fingerprint(keys.ed.blob), fingerprint(keys.rsa.blob)] });
  });

  it('calls a key of a type not on file a mismatch, not unknown (see module comment)', () => {
    const k = kh(line('web1', keys.rsa));
    expect(check(k, 'web1', 22, keys.ed)).toEqual({ status: 'mismatch', expected: [fingerprint(keys.rsa.blob)] });
  });

  it('derives the key type from the blob, not from what the caller says', () => {
    const k = kh(line('web1', keys.ed));
    expect(k.check('web1', 22, 'ssh-rsa', keys.ed.blob)).toEqual({ status: 'ok' });
    expect(k.check('web1', 22, 'ssh-ed25519', keys.ed2.blob).status).toBe('mismatch');
  });

  it('@revoked wins even when another line accepts the key', () => {
    const k = kh(line('web1', keys.ed), line('*', keys.ed, '@revoked'));
    expect(check(k, 'web1', 22, keys.ed)).toEqual({ status: 'revoked' });
    expect(check(k, 'other', 22, keys.ed)).toEqual({ status: 'revoked' });
    expect(check(k, 'web1', 22, keys.ed2).status).toBe('mismatch');
  });

  it('@cert-authority only decides when no plain line does', () => {
    const ca = line('*.example.com', keys.ecdsa, '@cert-authority');
    expect(check(kh(ca), 'a.example.com', 22, keys.ed)).toEqual({ status: 'cert-authority-unsupported' });
    expect(check(kh(ca, line('a.example.com', keys.ed)), 'a.example.com', 22, keys.ed)).toEqual({ status: 'ok' });
    expect(check(kh(ca, line('a.example.com', keys.rsa)), 'a.example.com', 22, keys.ed).status).toBe('mismatch');
    expect(check(kh(ca), 'elsewhere', 22, keys.ed)).toEqual({ status: 'unknown' });
  });

  it('skips comments, blank lines and malformed lines without failing', () => {
    const k = KnownHosts.parse(
      [
        '# a comment',
        '',
        '   ',
        'web1',
        'web1 ssh-ed25519',
        'web1 ssh-ed25519 !!!notbase64',
        `web1 ssh-rsa ${keys.ed.base64}`, // type field disagrees with the blob
        `@bogus web1 ${keys.ed2.type} ${keys.ed2.base64}`,
        `  ${line('web1', keys.ed)} trailing comment`,
      ].join('\n'),
    );
    expect(check(k, 'web1', 22, keys.ed)).toEqual({ status: 'ok' });
    expect(k.check('web1', 22, 'ssh-ed25519', keys.ed2.blob)).toEqual({ status: 'mismatch', expected: [fingerprint(keys.ed.blob)] });
  });

  it('lists the key types on file for a host in file order, ignoring markers and other hosts', () => {
    const k = kh(line('web1', keys.rsa), line('other', keys.ecdsa), line('web?', keys.ed), line('web1', keys.ed2), line('web1', keys.ecdsa, '@revoked'));
    expect(k.knownKeyTypes('web1', 22)).toEqual(['ssh-rsa', 'ssh-ed25519']);
    expect(k.knownKeyTypes('web1', 2222)).toEqual([]);
  });
});

describe('load', () => {
  it('merges files in order and treats missing ones as empty', () => {
    const a = path.join(dir, 'load-a');
    writeFileSync(a, line('web1', keys.ed) + '\n');
    const k = KnownHosts.load([path.join(dir, 'missing'), a, path.join(dir, 'no/such/dir')]);
    expect(check(k, 'web1', 22, keys.ed)).toEqual({ status: 'ok' });
    expect(KnownHosts.load([]).check('web1', 22, keys.ed.type, keys.ed.blob)).toEqual({ status: 'unknown' });
  });

  it('throws a clear error for a file it cannot read', () => {
    expect(() => KnownHosts.load([dir])).toThrow(`cannot read known_hosts file ${dir}`);
  });
});

describe('appendKnownHost', () => {
  it('creates the directory 0700 and file 0600 with an entry OpenSSH finds', async () => {
    const file = path.join(dir, 'new/sub/known_hosts');
    await appendKnownHost(file, '127.0.0.1', 2222, keys.ed.type, keys.ed.blob);
    expect(readFileSync(file, 'utf8')).toBe(`[127.0.0.1]:2222 ${keys.ed.type} ${keys.ed.base64}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    const found = execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:2222', '-f', file], { encoding: 'utf8' });
    expect(found).toContain(keys.ed.base64);
    expect(check(KnownHosts.load([file]), '127.0.0.1', 2222, keys.ed)).toEqual({ status: 'ok' });
  });

  it('starts a new line when the file does not end with one', async () => {
    const file = path.join(dir, 'no-newline');
    writeFileSync(file, line('web1', keys.rsa));
    await appendKnownHost(file, 'web2', 22, keys.ed.type, keys.ed.blob);
    expect(readFileSync(file, 'utf8')).toBe(`${line('web1', keys.rsa)}\n${line('web2', keys.ed)}\n`);
  });

  it('refuses a key type that contradicts the blob', async () => {
    await expect(appendKnownHost(path.join(dir, 'kt'), 'h', 22, 'ssh-rsa', keys.ed.blob)).rejects.toThrow(/does not match the key itself/);
  });

  it('keeps every line whole under concurrent appends from this and other processes', async () => {
    const file = path.join(dir, 'concurrent');
    const perWriter = 40;
    const modUrl = new URL('./known-hosts.ts', import.meta.url).href;
    // Other processes run the same function through tsx, each appending perWriter entries at once.
    const child = (id: number) =>
      new Promise<void>((resolve, reject) => {
        const code = `const m = await import(${JSON.stringify(modUrl)});
        const blob = Buffer.from(${JSON.stringify(keys.rsa.base64)}, 'base64');
        await Promise.all(Array.from({ length: ${perWriter} }, (_, i) => m.appendKnownHost(${JSON.stringify(file)}, 'p${id}-' + i, 22, 'ssh-rsa', blob)));`;
        const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'inherit'] });
        p.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`writer ${id} exited ${c}`))));
      });
    await Promise.all([child(1), child(2), ...Array.from({ length: perWriter }, (_, i) => appendKnownHost(file, `local-${i}`, 2222, keys.ed.type, keys.ed.blob))]);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(3 * perWriter);
    const k = KnownHosts.load([file]);
    for (let i = 0; i < perWriter; i++) {
      expect(check(k, `local-${i}`, 2222, keys.ed)).toEqual({ status: 'ok' });
      expect(check(k, `p1-${i}`, 22, keys.rsa)).toEqual({ status: 'ok' });
      expect(check(k, `p2-${i}`, 22, keys.rsa)).toEqual({ status: 'ok' });
    }
  });

  it('follows a symlink the user owns (a dotfiles setup) and writes to its target', async () => {
    const target = path.join(dir, 'real_known_hosts');
    const link = path.join(dir, 'linked_known_hosts');
    writeFileSync(target, '');
    symlinkSync(target, link);
    await appendKnownHost(link, 'web1', 22, keys.ed.type, keys.ed.blob);
    expect(readFileSync(target, 'utf8')).toBe(`${line('web1', keys.ed)}\n`);
  });

  // Another user's symlink and file: as root the test hands its own to `nobody`; as anyone else it uses ones
  // root owns on every Linux (/proc/self, /dev/null), so the refusal is checked whoever runs the suite.
  const asRoot = process.geteuid?.() === 0;
  it('refuses a symlink planted by another user, and a file owned by another user', async () => {
    const victim = path.join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    let planted = '/proc/self';
    if (asRoot) {
      mkdirSync(path.join(dir, 'shared'));
      planted = path.join(dir, 'shared/known_hosts');
      symlinkSync(victim, planted);
      lchownSync(planted, 65534, 65534);
    }
    await expect(appendKnownHost(planted, 'web1', 22, keys.ed.type, keys.ed.blob)).rejects.toThrow(asRoot ? /symlink owned by uid 65534/ : /symlink owned by uid 0/);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');

    let foreign = '/dev/null';
    if (asRoot) {
      foreign = path.join(dir, 'foreign');
      writeFileSync(foreign, '');
      chownSync(foreign, 65534, 65534);
    }
    await expect(appendKnownHost(foreign, 'web1', 22, keys.ed.type, keys.ed.blob)).rejects.toThrow(/not a regular file owned by us/);
    expect(readFileSync(foreign, 'utf8')).toBe('');
  });
});
