// Host-key trust end to end: known_hosts in every OpenSSH form against real sshd servers (the strictness
// modes: security-trust-modes.test.ts; scoutctl trust and the socket directory: security-trust-cli.test.ts).
// `ssh-keygen` is the oracle for the file format (hashing, lookups).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isScoutError } from '../src/protocol/errors.js';
import type { DaemonProc } from './fixtures/daemon.js';
import { newPublicKey, useTrustSession } from './fixtures/known-hosts.js';
import { useFleet } from './fixtures/suite.js';

const pexec = promisify(execFile);

let keysDir: string;
/** 'ssh-rsa AAAA…' of web2's second host key. */
let web2Rsa: string;

const fleet = useFleet(['web1', 'web2'], async () => {
  keysDir = fs.mkdtempSync(path.join(os.tmpdir(), 'scout-keys-'));
  web2Rsa = await newPublicKey(path.join(keysDir, 'web2_rsa'), 'rsa');
  // web2 also serves an RSA host key (sshd prefers ed25519 when the client offers both).
  return { perHost: { web2: { config: [`HostKey ${path.join(keysDir, 'web2_rsa')}`] } } };
});

afterAll(() => {
  if (keysDir) fs.rmSync(keysDir, { recursive: true, force: true });
});

const trust = useTrustSession(fleet);
const { name, key, writeKnownHosts, connect } = trust;

describe('known_hosts forms (StrictHostKeyChecking yes)', () => {
  // One daemon for all: known_hosts is read on every connect, and connect() drops the pooled connection first.
  let shared: DaemonProc | undefined;
  beforeAll(async () => {
    shared = await fleet.startDaemon();
  });
  afterAll(async () => {
    await shared?.kill9();
  });
  const withSharedDaemon = () => trust.use(shared!);

  it('plain [host]:port lines: the right key connects, a wrong one is HOST_KEY_MISMATCH, none is HOST_KEY_UNKNOWN', async () => {
    await withSharedDaemon();
    writeKnownHosts([`${name('web1')} ${key('web1')}`]);
    expect(await connect('web1')).toBe('ok');
    writeKnownHosts([`${name('web1')} ${trust.strangerKey}`]);
    expect(await connect('web1')).toBe('HOST_KEY_MISMATCH');
    writeKnownHosts([`${name('web2')} ${key('web2')}`]);
    expect(await connect('web1')).toBe('HOST_KEY_UNKNOWN');
  });

  it('hashed names written by ssh-keygen -H match, and a hashed wrong key is refused', async () => {
    await withSharedDaemon();
    writeKnownHosts([`${name('web1')} ${key('web1')}`, `${name('web2')} ${trust.strangerKey}`]);
    await pexec('ssh-keygen', ['-H', '-f', fleet.knownHostsPath]);
    const text = fs.readFileSync(fleet.knownHostsPath, 'utf8');
    expect(text).not.toContain('127.0.0.1');
    expect(text).toMatch(/^\|1\|/m);
    expect(await connect('web1')).toBe('ok');
    expect(await connect('web2')).toBe('HOST_KEY_MISMATCH');
  });

  it('comma lists, wildcards and negation follow OpenSSH', async () => {
    await withSharedDaemon();
    writeKnownHosts([`other.example,${name('web1')} ${key('web1')}`]);
    expect(await connect('web1')).toBe('ok');
    writeKnownHosts([`[127.0.0.?]:${fleet.server('web1').port} ${key('web1')}`]);
    expect(await connect('web1')).toBe('ok');
    writeKnownHosts([`[127.0.0.*]:* ${trust.strangerKey}`]);
    expect(await connect('web1')).toBe('HOST_KEY_MISMATCH');
    // A negated match excludes the host from that line even though the wildcard matches it.
    writeKnownHosts([`[127.0.0.*]:*,!${name('web1')} ${key('web1')}`]);
    expect(await connect('web1')).toBe('HOST_KEY_UNKNOWN');
  });

  it('several keys and key types per host: any matching key connects', async () => {
    await withSharedDaemon();
    writeKnownHosts([`${name('web1')} ${trust.strangerKey}`, `${name('web1')} ${web2Rsa}`, `${name('web1')} ${key('web1')}`]);
    expect(await connect('web1')).toBe('ok');
  });

  it('@revoked refuses even when another line carries the same key', async () => {
    await withSharedDaemon();
    writeKnownHosts([`${name('web1')} ${key('web1')}`, `@revoked * ${key('web1')}`]);
    expect(await connect('web1')).toBe('HOST_KEY_REVOKED');
    // Revoking some other key does not affect this host.
    writeKnownHosts([`${name('web1')} ${key('web1')}`, `@revoked * ${trust.strangerKey}`]);
    expect(await connect('web1')).toBe('ok');
  });

  it('@cert-authority is refused with a message that says it is not supported', async () => {
    await withSharedDaemon();
    writeKnownHosts([`@cert-authority * ${trust.strangerKey}`]);
    await trust.client.call('pool.drop', { host: 'web1' });
    const err = await trust.client.call('ssh.exec', { host: 'web1', command: 'true' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isScoutError(err, 'HOST_KEY_UNKNOWN')).toBe(true);
    expect((err as Error).message).toMatch(/@cert-authority.*not support/);
  });

  it('a host known only by its RSA key connects to a server that also has ed25519', async () => {
    await withSharedDaemon();
    writeKnownHosts([`${name('web2')} ${web2Rsa}`]);
    expect(await connect('web2')).toBe('ok');
    // The server really prefers ed25519: known only by ed25519, it connects too (and a stranger RSA key is a mismatch).
    writeKnownHosts([`${name('web2')} ${key('web2')}`]);
    expect(await connect('web2')).toBe('ok');
    writeKnownHosts([`${name('web2')} ${await newPublicKey(path.join(keysDir, `rsa-${Date.now()}`), 'rsa')}`]);
    expect(await connect('web2')).toBe('HOST_KEY_MISMATCH');
  });
});
