import { describe, expect, it } from 'vitest';
import { table, visible } from './output.js';

describe('visible', () => {
  it('shows control characters, C1 and bidi overrides as escapes and leaves other text alone', () => {
    expect(visible('a\x1b[2Jb')).toBe('a\\x1b[2Jb');
    expect(visible('l1\nl2\tx\r')).toBe('l1\\nl2\\tx\\r');
    expect(visible('\x7f\x9b\u202e\u2066')).toBe('\\x7f\\x9b\\u202e\\u2066');
    expect(visible('héllo ✓ 日本')).toBe('héllo ✓ 日本');
  });

  it('is applied to every table cell', () => {
    expect(table([['x\x1b', 'y']], ['A', 'B'])).not.toContain('\x1b');
  });
});
