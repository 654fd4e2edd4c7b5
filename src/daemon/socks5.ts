// The SOCKS5 handshake of a `-D` forward (RFC 1928), server side, CONNECT only and no authentication: what
// `ssh -D` offers, and what curl --socks5-hostname, browsers and proxychains speak. The listener is bound to
// 127.0.0.1 unless the user says otherwise, like ssh's. A pure parser over the bytes received so far, so the
// framing is tested without sockets.

/** Replies (RFC 1928 section 6). */
export const REPLY = { ok: 0x00, failure: 0x01, networkUnreachable: 0x03, hostUnreachable: 0x04, refused: 0x05, commandUnsupported: 0x07, addressUnsupported: 0x08 } as const;

export type Step =
  /** More bytes are needed. */
  | { need: true }
  /** Send `reply` and close: the client asked for something we do not do. */
  | { fail: Buffer; why: string }
  /** The greeting is done: send `reply` (no authentication), the request comes next. */
  | { greeted: Buffer; used: number }
  /** A CONNECT to host:port; `used` bytes were the request (what follows is the client's data). */
  | { connect: { host: string; port: number }; used: number };

/** The greeting: VER 5, NMETHODS, METHODS. We take "no authentication" (0x00) or refuse (0xff). */
export function greeting(buf: Buffer): Step {
  if (buf.length < 2) return { need: true };
  if (buf[0] !== 0x05) return { fail: Buffer.from([0x05, 0xff]), why: `not SOCKS5 (version byte ${buf[0]})` };
  const n = buf[1];
  if (buf.length < 2 + n) return { need: true };
  const methods = buf.subarray(2, 2 + n);
  if (!methods.includes(0x00)) return { fail: Buffer.from([0x05, 0xff]), why: 'the client offers no method without authentication' };
  return { greeted: Buffer.from([0x05, 0x00]), used: 2 + n };
}

/** The request: VER CMD RSV ATYP DST.ADDR DST.PORT. Only CONNECT (0x01). */
export function request(buf: Buffer): Step {
  if (buf.length < 4) return { need: true };
  if (buf[0] !== 0x05) return { fail: reply(REPLY.failure), why: `bad request version ${buf[0]}` };
  let host: string;
  let at: number;
  switch (buf[3]) {
    case 0x01: // IPv4
      if (buf.length < 10) return { need: true };
      host = [...buf.subarray(4, 8)].join('.');
      at = 8;
      break;
    case 0x03: {
      // A name, resolved by the remote side (curl --socks5-hostname): it may be a name only the host knows.
      if (buf.length < 5) return { need: true };
      const len = buf[4];
      if (buf.length < 5 + len + 2) return { need: true };
      host = buf.subarray(5, 5 + len).toString('latin1');
      at = 5 + len;
      break;
    }
    case 0x04: // IPv6
      if (buf.length < 22) return { need: true };
      host = Array.from({ length: 8 }, (_, i) => buf.readUInt16BE(4 + i * 2).toString(16)).join(':');
      at = 20;
      break;
    default:
      return { fail: reply(REPLY.addressUnsupported), why: `address type ${buf[3]} is not one SOCKS5 defines` };
  }
  if (buf[1] !== 0x01) return { fail: reply(REPLY.commandUnsupported), why: `command ${buf[1]} (only CONNECT is offered, as by ssh -D)` };
  return { connect: { host, port: buf.readUInt16BE(at) }, used: at + 2 };
}

/** A reply with a zero bound address (clients do not use it for CONNECT). */
export function reply(code: number): Buffer {
  return Buffer.from([0x05, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
}
