import { describe, expect, it } from 'vitest';
import { hostPattern } from './fleet.js';

describe('host patterns', () => {
  const match = (glob: string, names: string[]) => names.filter((n) => hostPattern(glob).test(n));
  const hosts = ['web1', 'web2', 'web10', 'db1', 'db.prod', 'dbXprod', 'app-a'];

  it('matches like ssh_config and the shell: *, ?, [set], [!set], whole names only', () => {
    expect(match('web*', hosts)).toEqual(['web1', 'web2', 'web10']);
    expect(match('web?', hosts)).toEqual(['web1', 'web2']);
    expect(match('web[12]', hosts)).toEqual(['web1', 'web2']);
    expect(match('web[!1]', hosts)).toEqual(['web2']);
    expect(match('web', hosts)).toEqual([]);
    expect(match('*', hosts)).toEqual(hosts);
  });

  it('treats regex characters in a pattern literally', () => {
    expect(match('db.prod', hosts)).toEqual(['db.prod']);
    expect(match('app-a', hosts)).toEqual(['app-a']);
    expect(match('a(b|c)+', ['a(b|c)+', 'ab'])).toEqual(['a(b|c)+']);
    expect(match('x[', ['x['])).toEqual(['x[']);
    // Not a valid class (a reversed range): literal, as in the shell, rather than a crash.
    expect(match('w[z-a]', ['w[z-a]', 'wb'])).toEqual(['w[z-a]']);
  });
});
