import { describe, expect, it } from 'vitest';
import { isScoutError } from '../protocol/errors.js';
import { METHODS, type MethodName } from '../protocol/table.js';
import { Grant } from './grant.js';

const ids = { job: (id: string) => (id === 'j1' ? 'web2' : undefined), forward: (id: string) => (id === 'f1' ? 'web1' : undefined) };
const grant = (hosts: string[], readOnly = false) => new Grant({ name: 'key:test', hosts, readOnly }, ids);

const refusal = (fn: () => void): string => {
  try {
    fn();
  } catch (err) {
    if (isScoutError(err, 'POLICY_DENIED')) return err.message;
    throw err;
  }
  return 'allowed';
};

describe('Grant', () => {
  it('reaches aliases and fleet patterns, nothing else', () => {
    const g = grant(['web1', 'db*']);
    expect(['web1', 'db1', 'db-eu'].every((h) => g.reaches(h))).toBe(true);
    expect(['web2', 'xdb1', 'web10'].some((h) => g.reaches(h))).toBe(false);
    expect(grant([]).reaches('web1')).toBe(false);
  });

  it('checks every host a call names: host, hosts, from/to, and through job and forward ids', () => {
    const g = grant(['web1']);
    expect(refusal(() => g.check('fs.read', { host: 'web1', path: '/etc/hosts' }))).toBe('allowed');
    expect(refusal(() => g.check('fs.read', { host: 'web2', path: '/etc/hosts' }))).toBe("key:test may not reach host 'web2' (it may reach: web1)");
    expect(refusal(() => g.check('fleet.exec', { hosts: ['web1', 'web2'], command: 'true' }))).toContain("'web2'");
    expect(refusal(() => g.check('transfer.copy', { from: { host: 'web1', path: '/a' }, to: { host: 'web2', path: '/b' } }))).toContain("'web2'");
    expect(refusal(() => g.check('jobs.output', { jobId: 'j1' }))).toContain("'web2'");
    expect(refusal(() => g.check('forward.close', { id: 'f1' }))).toBe('allowed');
  });

  it('refuses writes to a read-only grant and owner methods to every grant, whatever the host', () => {
    const ro = grant(['*'], true);
    expect(refusal(() => ro.check('fs.read', { host: 'web1', path: '/x' }))).toBe('allowed');
    expect(refusal(() => ro.check('ssh.exec', { host: 'web1', command: 'true' }))).toBe('key:test is read-only: ssh.exec is refused');
    const rw = grant(['*']);
    expect(refusal(() => rw.check('ssh.exec', { host: 'web1', command: 'true' }))).toBe('allowed');
    for (const m of ['daemon.shutdown', 'daemon.reload', 'hosts.trust', 'audit.query', 'transfer.get', 'transfer.put'] as const)
      expect(refusal(() => rw.check(m, {}))).toMatch(/^key:test may not call /);
    expect(refusal(() => rw.check('transfer.get', {}))).toContain('the machine scoutd runs on');
  });

  it('every method in the table says what a grant needs, and nothing that writes is open to a read-only one', () => {
    for (const [name, e] of Object.entries(METHODS)) {
      expect(['read', 'write', 'owner'], name).toContain(e.access);
      if (e.policy.some((p) => p === 'exec' || p === 'write' || p === 'forward')) expect(e.access, name).not.toBe('read');
    }
    const reads = (Object.keys(METHODS) as MethodName[]).filter((m) => METHODS[m].access === 'read');
    expect(reads).not.toContain('jobs.signal');
    expect(reads).not.toContain('shell.open');
  });
});
