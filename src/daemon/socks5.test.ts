import { describe, expect, it } from 'vitest';
import { REPLY, greeting, reply, request } from './socks5.js';

describe('SOCKS5 greeting', () => {
  it('takes no-authentication, waits for the whole greeting, refuses other versions and auth-only clients', () => {
    expect(greeting(Buffer.from([0x05]))).toEqual({ need: true });
    expect(greeting(Buffer.from([0x05, 0x02, 0x00]))).toEqual({ need: true });
    expect(greeting(Buffer.from([0x05, 0x02, 0x02, 0x00, 0xaa]))).toEqual({ greeted: Buffer.from([0x05, 0x00]), used: 4 });
    expect(greeting(Buffer.from([0x04, 0x01, 0x00]))).toMatchObject({ fail: Buffer.from([0x05, 0xff]) });
    expect(greeting(Buffer.from([0x05, 0x01, 0x02]))).toMatchObject({ fail: Buffer.from([0x05, 0xff]), why: expect.stringContaining('no method') });
  });
});

describe('SOCKS5 request', () => {
  const port = (p: number) => [p >> 8, p & 0xff];
  it('reads CONNECT to an IPv4 address, a name and an IPv6 address, leaving what follows', () => {
    expect(request(Buffer.from([0x05, 0x01, 0x00, 0x01, 10, 0, 0, 5, ...port(8080), 0x47]))).toEqual({ connect: { host: '10.0.0.5', port: 8080 }, used: 10 });
    const name = Buffer.from('db.internal');
    expect(request(Buffer.from([0x05, 0x01, 0x00, 0x03, name.length, ...name, ...port(5432)]))).toEqual({ connect: { host: 'db.internal', port: 5432 }, used: 7 + name.length });
    const v6 = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1];
    expect(request(Buffer.from([0x05, 0x01, 0x00, 0x04, ...v6, ...port(443)]))).toEqual({ connect: { host: '2001:db8:0:0:0:0:0:1', port: 443 }, used: 22 });
  });

  it('waits for a split request, and refuses BIND, UDP and unknown address types with the matching reply', () => {
    expect(request(Buffer.from([0x05, 0x01, 0x00, 0x03, 20, 0x61]))).toEqual({ need: true });
    expect(request(Buffer.from([0x05, 0x02, 0x00, 0x01, 1, 2, 3, 4, 0, 80]))).toMatchObject({ fail: reply(REPLY.commandUnsupported) });
    expect(request(Buffer.from([0x05, 0x03, 0x00, 0x01, 1, 2, 3, 4, 0, 80]))).toMatchObject({ fail: reply(REPLY.commandUnsupported) });
    expect(request(Buffer.from([0x05, 0x01, 0x00, 0x09, 0, 0]))).toMatchObject({ fail: reply(REPLY.addressUnsupported) });
  });
});
