// Bytes → wire text. Output that is valid UTF-8 travels as a string; anything else as base64 so no byte is lost.
const strict = new TextDecoder('utf-8', { fatal: true });

/** Bytes JSON escaping may add before dense control characters switch a text to base64. */
const ESCAPE_SLACK = 64 * 1024;

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

/**
 * The bytes as text for the wire, or undefined when they must travel as base64: not valid UTF-8, or so full of
 * control characters that JSON would carry them much larger than base64 does (each becomes `\u00XX`, six
 * bytes: a 12 MiB read of such "text" would have been a 72 MiB line). Tab, newline and carriage return stay
 * cheap, and below ESCAPE_SLACK extra bytes text stays text: colored output (ESC sequences) reads as text.
 */
export function tryUtf8(buf: Buffer): string | undefined {
  let escaped = 0;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) escaped += 5;
    else if (b === 0x22 || b === 0x5c) escaped += 1;
  }
  // base64 adds a third; JSON escapes added `escaped` bytes.
  if (escaped > ESCAPE_SLACK && escaped * 3 > buf.length) return undefined;
  try {
    return strict.decode(buf);
  } catch {
    return undefined;
  }
}
