import { describe, expect, it } from 'vitest';
import { StartupGate } from './startups.js';

/** A start that runs until released, recording how many ran at once per server. */
function starts() {
  const releases: Array<() => void> = [];
  const peak = new Map<string, number>();
  const now = new Map<string, number>();
  const start =
    (server: string, fail = false) =>
    () =>
      new Promise<string>((resolve, reject) => {
        now.set(server, (now.get(server) ?? 0) + 1);
        peak.set(server, Math.max(peak.get(server) ?? 0, now.get(server)!));
        releases.push(() => {
          now.set(server, now.get(server)! - 1);
          if (fail) reject(new Error('refused'));
          else resolve(server);
        });
      });
  return { releases, peak, start };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('StartupGate', () => {
  it('runs at most the limit per server, others independently, and every start in the end (a failure frees its slot)', async () => {
    const gate = new StartupGate(3);
    const { releases, peak, start } = starts();
    const results = [...Array.from({ length: 10 }, (_, i) => gate.run('a', start('a', i === 1)).catch((e: Error) => e.message)), ...Array.from({ length: 2 }, () => gate.run('b', start('b')))];
    await settle();
    expect(gate.inProgress('a')).toBe(3);
    expect(gate.inProgress('b')).toBe(2);
    while (releases.length > 0) {
      releases.shift()!();
      await settle();
      await settle();
    }
    expect(await Promise.all(results)).toEqual(['a', 'refused', ...Array(8).fill('a'), 'b', 'b']);
    expect(peak.get('a')).toBe(3);
    expect(gate.inProgress('a')).toBe(0);
  });
});
