import { describe, expect, it } from 'vitest';
import { completeUtf8Length, tryUtf8 } from './text.js';

describe('tryUtf8', () => {
  it('gives text for valid UTF-8, ASCII or not, and keeps a leading BOM', () => {
    expect(tryUtf8(Buffer.from('plain ascii\n'))).toBe('plain ascii\n');
    expect(tryUtf8(Buffer.from('é✓😀 \u2028'))).toBe('é✓😀 \u2028');
    expect(tryUtf8(Buffer.from('\ufeffbom'))).toBe('\ufeffbom');
    expect(tryUtf8(Buffer.alloc(0))).toBe('');
    const big = 'line of text "quoted" \\ and é\n'.repeat(40_000);
    expect(tryUtf8(Buffer.from(big))).toBe(big);
  });

  it('refuses invalid UTF-8: stray continuation, overlong, surrogate, cut sequence', () => {
    for (const bytes of [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x9c], [0x61, 0xff]]) expect(tryUtf8(Buffer.from(bytes))).toBeUndefined();
  });

  it('sends dense control characters as base64 but keeps colored output as text', () => {
    expect(tryUtf8(Buffer.alloc(200_000, 0x01))).toBeUndefined();
    const colored = '\u001b[31mred\u001b[0m plain\n'.repeat(5_000);
    expect(tryUtf8(Buffer.from(colored))).toBe(colored);
  });
});

describe('completeUtf8Length', () => {
  it('drops a multi-byte character cut at the end', () => {
    const b = Buffer.from('a✓');
    expect(completeUtf8Length(b.subarray(0, 3))).toBe(1);
    expect(completeUtf8Length(b)).toBe(4);
  });
});

describe('tryUtf8 escape count', () => {
  it('counts every byte, the last ones too, whatever the length modulo 4', () => {
    // 13,108 control characters escape to 65,540 extra bytes, just over the slack: base64. 13,107: text.
    const text = (lead: number, controls: number) => Buffer.alloc(lead + controls, 0x01).fill(0x61, 0, lead);
    for (const lead of [0, 1, 2, 3]) {
      expect(tryUtf8(text(lead, 13_108))).toBeUndefined();
      expect(tryUtf8(text(lead, 13_107))).toBe(text(lead, 13_107).toString('latin1'));
    }
  });
});
