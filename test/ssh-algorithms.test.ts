// A user's Ciphers / MACs / HostKeyAlgorithms in ssh config are what goes on the wire (sshd's DEBUG1 log
// names the negotiated cipher and MAC), and a setting scoutd cannot honour is refused for that host alone,
// loudly, before anything is dialled, without holding up the other hosts.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { scoutctl } from './fixtures/daemon.js';
import { expectCode } from './fixtures/expect.js';
import { useFleet } from './fixtures/suite.js';

// sshd keeps the first LogLevel: DEBUG1 logs `kex: client->server cipher: … MAC: …` for every handshake.
const fleet = useFleet(['web1', 'web2'], { config: ['LogLevel DEBUG1'] });

const log = (name: string) => fs.readFileSync(fleet.server(name).logPath, 'utf8');

describe('ssh config algorithms', () => {
  it("the config's cipher and MAC are negotiated; a cipher ssh2 lacks fails that host only, with CONFIG_INVALID", async () => {
    fleet.writeConfig({ web1: ['Ciphers no-such-cipher,aes256-ctr', 'MACs hmac-sha2-256'], web2: ['Ciphers 3des-cbc-does-not-exist'] });
    const web2Connections = log('web2').split('Connection from ').length;
    const daemon = await fleet.startDaemon();
    const c = await daemon.client();
    const t0 = performance.now();
    const [ok, bad] = await Promise.allSettled([c.call('ssh.exec', { host: 'web1', command: 'echo ok' }), expectCode(c.call('ssh.exec', { host: 'web2', command: 'echo no' }), 'CONFIG_INVALID')]);
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(ok.status === 'fulfilled' && ok.value.stdout).toBe('ok\n');
    // ssh2's default would be aes128-gcm (whose MAC is implicit): these lines exist only because of the config.
    expect(log('web1')).toMatch(/kex: client->server cipher: aes256-ctr MAC: hmac-sha2-256 compression/);
    expect(log('web1')).toMatch(/kex: server->client cipher: aes256-ctr MAC: hmac-sha2-256 compression/);
    if (bad.status !== 'fulfilled') throw bad.reason;
    expect(bad.value.message).toMatch(/^ssh config for web2 sets 'Ciphers 3des-cbc-does-not-exist', which leaves no cipher .*ssh2.* supports; it supports .*aes256-ctr/);
    expect(bad.value.details).toMatchObject({ host: 'web2', keyword: 'Ciphers', value: '3des-cbc-does-not-exist' });
    // Refused before dialling: web2's sshd never saw a connection.
    expect(log('web2').split('Connection from ').length).toBe(web2Connections);
    // The daemon goes on: web1 again (warm), web2 refused again at once, and the dropped name was logged once.
    expect((await c.call('ssh.exec', { host: 'web1', command: 'echo again' })).stdout).toBe('again\n');
    await expectCode(c.call('ssh.exec', { host: 'web2', command: 'echo no' }), 'CONFIG_INVALID');
    expect(daemon.logs().match(/ssh config names algorithms ssh2 does not support/g)).toHaveLength(1);
    expect(daemon.logs()).toContain('Ciphers: no-such-cipher (not supported by ssh2; using aes256-ctr)');

    // doctor names both, without logging in.
    const doctor = await scoutctl(['doctor'], daemon.env);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/^FAIL\s+web2\s+ssh config for web2 sets 'Ciphers 3des-cbc-does-not-exist'.*: connects are refused \(CONFIG_INVALID\)$/m);
    expect(doctor.stdout).toMatch(/^WARN\s+web1\s+ssh config Ciphers: no-such-cipher \(not supported by ssh2; using aes256-ctr\)$/m);

    // Fixed and reloaded, web2 connects.
    fleet.writeConfig({ web1: ['Ciphers aes256-ctr'], web2: ['Ciphers ^aes192-ctr'] });
    await c.call('daemon.reload');
    expect((await c.call('ssh.exec', { host: 'web2', command: 'echo fixed' })).stdout).toBe('fixed\n');
    expect(log('web2')).toMatch(/kex: client->server cipher: aes192-ctr /);
    expect(log('web2').split('Connection from ').length).toBe(web2Connections + 1);
  });

  it('HostKeyAlgorithms restricts what is offered: a list without the server key type cannot connect', async () => {
    // The servers have only an ed25519 host key (on file in known_hosts).
    fleet.writeConfig({ web1: ['HostKeyAlgorithms rsa-sha2-512,ssh-ed25519'], web2: ['HostKeyAlgorithms ecdsa-sha2-nistp256,rsa-sha2-256'] });
    const daemon = await fleet.startDaemon();
    const c = await daemon.client();
    expect((await c.call('ssh.exec', { host: 'web1', command: 'echo ok' })).stdout).toBe('ok\n');
    expect(log('web1')).toMatch(/kex: host key algorithm: ssh-ed25519/);
    const e = await expectCode(c.call('ssh.exec', { host: 'web2', command: 'true' }), 'CONNECT_FAILED');
    expect(e.message).toMatch(/host key/i);
  });
});
