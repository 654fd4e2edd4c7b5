// The protocol table is the contract: the daemon has exactly its handlers (tsc), the client infers params and
// results from a method's name (tsc, the @ts-expect-error lines below), and every method the table marks as
// touching a host writes an audit line, with no list kept by hand: this walks the table against a real daemon.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScoutClient } from '../src/client/client.js';
import { AUDITED } from '../src/daemon/audit.js';
import type { HandlerTable, Handlers } from '../src/daemon/context.js';
import { METHODS, type MethodName, type ParamsOf } from '../src/protocol/table.js';
import { useFleet } from './fixtures/suite.js';

// Compile-time checks: `tsc --noEmit` (part of npm test) fails when one of these lines stops being an error.
// Never called: they exist for the type checker.
function _typeChecks(client: ScoutClient, handlers: HandlerTable): void {
  // @ts-expect-error a misspelt method name
  void client.call('hosts.lst');
  // @ts-expect-error a misspelt param name
  void client.call('ssh.exec', { host: 'web1', comand: 'true' });
  // @ts-expect-error a param of the wrong type
  void client.call('ssh.exec', { host: 'web1', command: 'true', timeoutMs: '5' });
  // @ts-expect-error a method that needs params called without
  void client.call('fs.read');
  // The result type comes from the name: a HostInfo[] has no `.stdout`.
  void client.call('hosts.list').then((hosts) => {
    // @ts-expect-error
    void hosts.stdout;
    return hosts.map((h) => h.name);
  });
  // Notifications are the method's own: ssh.exec's are exec.output and approval.pending, with typed params.
  void client.call(
    'ssh.exec',
    { host: 'web1', command: 'true', stream: true },
    {
      onNotification: (method, p) => {
        // @ts-expect-error ssh.exec sends no transfer.progress
        if (method === 'transfer.progress') return 0;
        if (method === 'approval.pending') return p.approvalId.length;
        return p.data.length;
      },
    },
  );
  // A handler group may not name a method the table lacks, and the table needs every handler.
  // @ts-expect-error no such method
  const extra: Handlers<'ssh.exec'> = { 'ssh.exec': handlers['ssh.exec'], 'ssh.run': handlers['ssh.exec'] };
  const { 'fs.read': _dropped, ...rest } = handlers;
  // @ts-expect-error fs.read has no handler
  const missing: HandlerTable = rest;
  void extra;
  void missing;
}

describe('the method table', () => {
  it('audits exactly the methods it marks as touching a host', () => {
    const marked = Object.entries(METHODS)
      .filter(([, e]) => e.touchesHost)
      .map(([n]) => n)
      .sort();
    expect([...AUDITED].sort()).toEqual(marked);
    // Sanity: the table is the whole protocol, exec and files are host methods, hello is not.
    expect(marked).toEqual(expect.arrayContaining(['ssh.exec', 'fleet.exec', 'jobs.start', 'fs.write', 'transfer.put']));
    expect(marked).not.toContain('daemon.hello');
  });

  it('names in each entry only notifications and policy checks the protocol has', () => {
    for (const [name, e] of Object.entries(METHODS)) {
      expect(name).toMatch(/^[a-z]+\.[a-zA-Z]+$/);
      expect(e.summary.length).toBeGreaterThan(10);
      for (const n of e.notifications) expect(['exec.output', 'transfer.progress', 'fleet.progress', 'shell.ready', 'approval.pending']).toContain(n);
      for (const c of e.policy) expect(['exec', 'paths', 'write', 'forward']).toContain(c);
      if (e.policy.length > 0) expect(e.touchesHost).toBe(true);
    }
  });
});

const fleet = useFleet(['web1']);

type HostMethod = { [M in MethodName]: (typeof METHODS)[M]['touchesHost'] extends true ? M : never }[MethodName];

/**
 * One call per host-touching method, on web1, on paths outside /srv. Whether it succeeds does not matter to
 * the audit walk (a refusal is audited too), only that it passes validation. A method added to the table
 * without a line here fails tsc.
 */
function hostCalls(local: string, jobId: string): { [M in HostMethod]: () => ParamsOf<M> } {
  return {
    'hosts.hostKey': () => ({ host: 'web1' }),
    'hosts.trust': () => ({ host: 'web1', fingerprint: `SHA256:${'A'.repeat(43)}` }),
    'pool.drop': () => ({ host: 'web1' }),
    'ssh.exec': () => ({ host: 'web1', command: 'true' }),
    'fleet.exec': () => ({ hosts: ['web1'], command: 'true' }),
    'fleet.read': () => ({ hosts: ['web1'], path: '/etc/hostname' }),
    'jobs.start': () => ({ host: 'web1', command: 'true' }),
    'jobs.signal': () => ({ jobId, signal: 'TERM' }),
    'transfer.get': () => ({ host: 'web1', remotePath: '/etc/hostname', localPath: path.join(local, 'got.txt') }),
    'transfer.put': () => ({ host: 'web1', localPath: path.join(local, 'up.txt'), remotePath: '/tmp/scout-table-walk-up.txt' }),
    'transfer.copy': () => ({ from: { host: 'web1', path: '/etc/hostname' }, to: { host: 'web1', path: '/tmp/scout-table-walk-copy.txt' } }),
    'fs.read': () => ({ host: 'web1', path: '/etc/hostname' }),
    'fs.stat': () => ({ host: 'web1', path: '/etc' }),
    'fs.list': () => ({ host: 'web1', path: '/etc' }),
    'fs.tree': () => ({ host: 'web1', path: '/etc', depth: 1 }),
    'fs.find': () => ({ host: 'web1', path: '/etc', pattern: 'host*', depth: 1 }),
    'fs.write': () => ({ host: 'web1', path: '/tmp/scout-table-walk.txt', content: 'x' }),
    'shell.open': () => ({ host: 'web1', command: 'true' }),
    'forward.open': () => ({ host: 'web1', kind: 'dynamic', bindPort: 0 }),
  };
}

describe('walking the table against a real daemon', () => {
  it('every method that touches a host writes an audit line, and no other method does', async () => {
    const state = path.join(fleet.root, 'walk-state');
    const daemon = await fleet.startDaemon({ SCOUT_STATE_DIR: state });
    const client = await daemon.client('table-walk');
    const local = path.join(fleet.root, 'walk-local');
    fs.mkdirSync(local, { recursive: true });
    fs.writeFileSync(path.join(local, 'up.txt'), 'up\n');
    const job = await client.call('jobs.start', { host: 'web1', command: 'sleep 30' });
    const calls = hostCalls(local, job.jobId);
    for (const [method, params] of Object.entries(calls) as Array<[string, () => unknown]>) {
      if (method === 'shell.open') continue;
      await client.callUnchecked(method, params()).catch(() => undefined);
    }
    // A session answers when it ends, and its bytes need a reader: attach, then end its input.
    await client.call('shell.open', { host: 'web1', command: 'true' }, { onNotification: (_m, p) => void client.attach({ token: p.token }).then((s) => s.resume().end()) });
    // And some that touch no host.
    for (const method of ['daemon.status', 'hosts.list', 'pool.list', 'jobs.list'] as const) await client.call(method);
    const { entries } = await client.call('audit.query', { limit: 1000 });
    const audited = new Set(entries.map((e) => e.method));
    for (const m of Object.keys(METHODS) as MethodName[]) {
      if (METHODS[m].touchesHost) expect(audited.has(m), `${m} wrote no audit line`).toBe(true);
      else expect(audited.has(m), `${m} touches no host but was audited`).toBe(false);
    }
    expect(entries.every((e) => e.client === 'table-walk')).toBe(true);
  });
});

describe('walking the table against the policy', () => {
  it('every method the table says the policy checks is refused on a read-only host with roots, and the others are not', async () => {
    const config = path.join(fleet.root, 'walk-policy.json');
    fs.writeFileSync(config, JSON.stringify({ hosts: { web1: { readOnly: true, roots: ['/srv/none'] } } }));
    const daemon = await fleet.startDaemon({ SCOUT_CONFIG: config });
    const client = await daemon.client('policy-walk');
    const local = path.join(fleet.root, 'walk-local');
    fs.mkdirSync(local, { recursive: true });
    fs.writeFileSync(path.join(local, 'up.txt'), 'up\n');
    const refused: string[] = [];
    for (const [method, params] of Object.entries(hostCalls(local, 'jnosuchjob')) as Array<[MethodName, () => unknown]>) {
      // A refusal is thrown, or for fleet calls reported per host.
      const code = await client.callUnchecked(method, params()).then(
        (r) => (r as { results?: Array<{ error?: { code: string } }> }).results?.[0]?.error?.code,
        (err: { code?: string }) => err.code,
      );
      if (code === 'POLICY_DENIED') refused.push(method);
    }
    const checked = (Object.keys(METHODS) as MethodName[]).filter((m) => METHODS[m].policy.length > 0);
    expect(refused.sort()).toEqual(checked.sort());
  });
});
