import { describe, expect, it } from 'vitest';
import { OutputPages, PAGE_BYTES, StreamCapture, TEXT_HEAD_BYTES, TEXT_TAIL_BYTES, TEXT_WHOLE_BYTES } from './output-pages.js';

describe('StreamCapture', () => {
  it('shows small output whole, and large output as head, omission line and tail cut on characters', () => {
    const small = new StreamCapture();
    small.push(Buffer.from('hello\n'));
    expect(small.text()).toEqual({ text: 'hello\n', omitted: 0 });

    const big = new StreamCapture();
    const body = '€'.repeat(TEXT_WHOLE_BYTES); // 3 bytes a character: cuts fall inside characters
    for (let i = 0; i < body.length; i += 1000) big.push(Buffer.from(body.slice(i, i + 1000)));
    big.push(Buffer.from('\nERROR at end\n'));
    const { text, omitted } = big.text();
    expect(text).not.toContain('\ufffd');
    expect(text.endsWith('ERROR at end\n')).toBe(true);
    expect(text).toContain(`[… ${omitted} bytes omitted …]`);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(TEXT_HEAD_BYTES + TEXT_TAIL_BYTES + 100);
    expect(big.bytes().toString()).toBe(`${body}\nERROR at end\n`);
    expect(big.complete).toBe(true);
  });
});

describe('StreamCapture with a byte budget', () => {
  it('shows at most the budget: half head, half tail, with the omission line', () => {
    const c = new StreamCapture(1000);
    c.push(Buffer.from('a'.repeat(999)));
    expect(c.shownWhole).toBe(true);
    c.push(Buffer.from(`${'b'.repeat(5000)}END`));
    const { text, omitted } = c.text();
    expect(c.shownWhole).toBe(false);
    expect(omitted).toBe(6002 - 1000);
    expect(text.startsWith('a'.repeat(500))).toBe(true);
    expect(text.endsWith(`${'b'.repeat(497)}END`)).toBe(true);
    expect(c.bytes().length).toBe(6002);
  });
});

describe('OutputPages', () => {
  it('pages a kept output and forgets it when it expires', () => {
    let now = 0;
    const pages = new OutputPages(() => now);
    const data = Buffer.alloc(PAGE_BYTES * 2 + 10, 7);
    const id = pages.save(data, data.length);
    expect(pages.page(id, 0)).toMatchObject({ pages: 3, total: data.length });
    expect(pages.page(id, 2)?.data.length).toBe(10);
    expect(pages.page(id, 3)).toBeUndefined();
    now += 31 * 60 * 1000;
    expect(pages.page(id, 0)).toBeUndefined();
  });
});
