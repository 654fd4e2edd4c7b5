import { describe, expect, it } from 'vitest';
import { SudoGate, sudoWrap } from './sudo.js';

const P = '[scout-sudo-abc]';
const M = 'scout-sudo-started-abc';
const feedAll = (g: SudoGate, ...chunks: string[]) => chunks.flatMap((c) => g.feed(Buffer.from(c)));

describe('SudoGate', () => {
  it('asks for the password once, at the prompt, even split across chunks; then hands over at the marker', () => {
    const g = new SudoGate(P, M);
    expect(feedAll(g, 'We trust you have received the usual lecture\n', '[scout-su')).toEqual([]);
    expect(g.unknownQuestion()).toBeUndefined();
    expect(feedAll(g, 'do-abc]')).toEqual([{ kind: 'password' }]);
    const steps = feedAll(g, `${M}\ncommand's own stderr`);
    expect(steps).toEqual([{ kind: 'started', rest: Buffer.from("command's own stderr") }]);
    expect(g.started).toBe(true);
    expect(g.said).toEqual(['We trust you have received the usual lecture']);
  });

  it('starts without a prompt (NOPASSWD, cached credentials)', () => {
    expect(feedAll(new SudoGate(P, M), `${M}\n`)).toEqual([{ kind: 'started', rest: Buffer.alloc(0) }]);
  });

  it('fails at the second prompt: a wrong password is never retried', () => {
    const g = new SudoGate(P, M);
    expect(feedAll(g, P)).toEqual([{ kind: 'password' }]);
    expect(feedAll(g, '\nSorry, try again.\n', P)).toEqual([{ kind: 'fail', message: 'sudo refused the password (it asked again)' }]);
    expect(g.said).toContain('Sorry, try again.');
  });

  it('names a question it does not know', () => {
    const g = new SudoGate(P, M);
    feedAll(g, 'Verification code: ');
    expect(g.unknownQuestion()).toBe('Verification code:');
  });
});

describe('sudoWrap', () => {
  it('puts a random prompt and marker on the line, and the command only as a quoted argument', () => {
    const a = sudoWrap("echo 'hi'; id -u");
    const b = sudoWrap('true');
    expect(a.prompt).not.toBe(b.prompt);
    expect(a.line.startsWith(`sudo -S -p '${a.prompt}' -- /bin/sh -c `)).toBe(true);
    expect(a.line.endsWith(`${a.marker} 'echo '\\''hi'\\''; id -u'`)).toBe(true);
  });
});
