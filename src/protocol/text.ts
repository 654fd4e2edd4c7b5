// Bytes → wire text. Output that is valid UTF-8 travels as a string; anything else as base64 so no byte is lost.
const strict = new TextDecoder('utf-8', { fatal: true });

/** Length of `buf` without a multi-byte UTF-8 sequence cut off at its end (a cap can split a character). */
export function completeUtf8Length(buf: Buffer): number {
  const n = buf.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = buf[n - back];
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead byte
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

/** Decode if valid UTF-8, else undefined. */
export function tryUtf8(buf: Buffer): string | undefined {
  try {
    return strict.decode(buf);
  } catch {
    return undefined;
  }
}
