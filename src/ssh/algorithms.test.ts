// ssh config algorithm specs as ssh2 options: OpenSSH's +/-/^ over ssh2's own lists, unsupported names
// dropped, nothing left refused loudly; and the host key order known_hosts adds on top.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { orderHostKeyAlgorithms } from '../daemon/dialer.js';
import { isScoutError, type ScoutError } from '../protocol/errors.js';
import { hostAlgorithms } from './algorithms.js';

const ssh2 = createRequire(import.meta.url)('ssh2/lib/protocol/constants.js') as Record<string, string[]>;

function refusal(fn: () => unknown): ScoutError {
  try {
    fn();
  } catch (err) {
    if (isScoutError(err)) return err;
    throw err;
  }
  throw new Error('expected a ScoutError');
}

describe('hostAlgorithms', () => {
  it('leaves every category to ssh2 when the config sets none', () => {
    expect(hostAlgorithms('web1', undefined)).toEqual({ algorithms: {}, dropped: [] });
    expect(hostAlgorithms('web1', {})).toEqual({ algorithms: {}, dropped: [] });
  });

  it('maps each keyword to its ssh2 category, explicit lists as written', () => {
    const r = hostAlgorithms('web1', { ciphers: 'aes256-ctr,aes128-ctr', macs: 'hmac-sha2-256', kexAlgorithms: 'curve25519-sha256', hostKeyAlgorithms: 'ssh-ed25519' });
    expect(r).toEqual({ algorithms: { cipher: ['aes256-ctr', 'aes128-ctr'], hmac: ['hmac-sha2-256'], kex: ['curve25519-sha256'], serverHostKey: ['ssh-ed25519'] }, dropped: [] });
  });

  it('applies +, - and ^ to ssh2 defaults, not OpenSSH ones', () => {
    expect(hostAlgorithms('h', { ciphers: '+aes128-cbc' }).algorithms.cipher).toEqual([...ssh2.DEFAULT_CIPHER, 'aes128-cbc']);
    expect(hostAlgorithms('h', { ciphers: '-*gcm*,chacha20*' }).algorithms.cipher).toEqual(ssh2.DEFAULT_CIPHER.filter((c) => !/gcm|chacha20/.test(c)));
    expect(hostAlgorithms('h', { macs: '^hmac-sha2-512' }).algorithms.hmac).toEqual(['hmac-sha2-512', ...ssh2.DEFAULT_MAC.filter((m) => m !== 'hmac-sha2-512')]);
    // umac is in OpenSSH's default MACs but not in ssh2's: removing it changes nothing.
    expect(hostAlgorithms('h', { macs: '-umac*' }).algorithms.hmac).toEqual(ssh2.DEFAULT_MAC);
    // A pattern expands over everything ssh2 supports, not only its defaults.
    expect(hostAlgorithms('h', { kexAlgorithms: '+diffie-hellman-group*-sha1' }).algorithms.kex).toEqual([
      ...ssh2.DEFAULT_KEX,
      'diffie-hellman-group-exchange-sha1',
      'diffie-hellman-group14-sha1',
      'diffie-hellman-group1-sha1',
    ]);
  });

  it('drops names ssh2 does not support and says which, when others remain', () => {
    const r = hostAlgorithms('web1', { ciphers: 'aes256-ctr,no-such-cipher', kexAlgorithms: 'sntrup761x25519-sha512@openssh.com,curve25519-sha256' });
    expect(r.algorithms).toEqual({ cipher: ['aes256-ctr'], kex: ['curve25519-sha256'] });
    expect(r.dropped).toEqual([
      'Ciphers: no-such-cipher (not supported by ssh2; using aes256-ctr)',
      'KexAlgorithms: sntrup761x25519-sha512@openssh.com (not supported by ssh2; using curve25519-sha256)',
    ]);
  });

  it('refuses with CONFIG_INVALID naming host, keyword and what ssh2 supports when nothing is left', () => {
    const e = refusal(() => hostAlgorithms('web9', { ciphers: '3des-cbc-does-not-exist' }));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(/^ssh config for web9 sets 'Ciphers 3des-cbc-does-not-exist', which leaves no cipher .*ssh2.* supports; it supports .*aes256-ctr/);
    expect(e.details).toMatchObject({ host: 'web9', keyword: 'Ciphers', value: '3des-cbc-does-not-exist', supported: ssh2.SUPPORTED_CIPHER, transient: false });
    expect(refusal(() => hostAlgorithms('h', { macs: '-*' })).details).toMatchObject({ keyword: 'MACs', value: '-*' });
    expect(refusal(() => hostAlgorithms('h', { hostKeyAlgorithms: 'sk-ssh-ed25519@openssh.com' })).details.keyword).toBe('HostKeyAlgorithms');
  });
});

describe('orderHostKeyAlgorithms', () => {
  it('without HostKeyAlgorithms: ssh2 defaults, known types first; nothing on file leaves ssh2 as it is', () => {
    expect(orderHostKeyAlgorithms([])).toBeUndefined();
    expect(orderHostKeyAlgorithms(['ssh-rsa'])).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', ...ssh2.DEFAULT_SERVER_HOST_KEY.filter((a) => !a.includes('rsa'))]);
  });

  it('with HostKeyAlgorithms: only the configured ones, known types first, in the configured order', () => {
    const configured = ['ssh-ed25519', 'rsa-sha2-256', 'ecdsa-sha2-nistp256', 'rsa-sha2-512'];
    expect(orderHostKeyAlgorithms([], configured)).toEqual(configured);
    expect(orderHostKeyAlgorithms(['ssh-rsa'], configured)).toEqual(['rsa-sha2-256', 'rsa-sha2-512', 'ssh-ed25519', 'ecdsa-sha2-nistp256']);
    // A type on file that the config leaves out is not offered.
    expect(orderHostKeyAlgorithms(['ecdsa-sha2-nistp384', 'ssh-ed25519'], ['rsa-sha2-512', 'ssh-ed25519'])).toEqual(['ssh-ed25519', 'rsa-sha2-512']);
  });
});
