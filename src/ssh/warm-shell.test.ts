import { describe, expect, it } from 'vitest';
import { fastPathObstacle } from './warm-shell.js';

describe('which commands may take the fast path', () => {
  it('redirections and lists are fine; a background & is not', () => {
    for (const ok of ['true', 'a && b', 'a 2>&1', 'a >&2', 'a <&3', 'a &> f', 'a |& b', 'echo "x"']) expect(fastPathObstacle(ok, {}), ok).toBeUndefined();
    for (const bg of ['sleep 1 &', 'a & b', '(a) &', 'a &\nb', '&']) expect(fastPathObstacle(bg, {}), bg).toBe('background');
  });

  it('$$ (the resident shell is not the command\'s shell), stdin, env, NUL and long commands fall back', () => {
    expect(fastPathObstacle('kill $$', {})).toBe('pid-of-shell');
    expect(fastPathObstacle('echo ${$}', {})).toBe('pid-of-shell');
    expect(fastPathObstacle('cat', { stdin: Buffer.from('x') })).toBe('stdin');
    expect(fastPathObstacle('cat', { stdin: Buffer.alloc(0) })).toBeUndefined();
    expect(fastPathObstacle('env', { env: { A: '1' } })).toBe('env');
    expect(fastPathObstacle('a\0b', {})).toBe('nul-byte');
    expect(fastPathObstacle('x'.repeat(70_000), {})).toBe('long-command');
  });
});
