// Hostile input against a live scoutd: 10,000 generated messages (garbage lines, arbitrary JSON, and JSON-RPC
// requests for every method with wrong types, huge numbers, deep nesting, long strings, NUL bytes and shell
// metacharacters in hosts, paths and commands). Every answer is a JSON-RPC error (never an internal error),
// nothing runs remotely, and a well-behaved client on another connection is served throughout.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ScoutClient } from '../src/client/client.js';
import { startDaemon, type DaemonProc } from './fixtures/daemon.js';
import { useFleet } from './fixtures/suite.js';

const MESSAGES = 10_000;
/** Bound on daemon start-up (binding a socket and reading ssh config). */
const START_TIMEOUT_MS = 15_000;
const BATCH = 200;
/** Methods whose success is harmless and expected for some inputs (they touch no host). */
const BENIGN = new Set(['$/cancel', 'daemon.hello', 'daemon.status', 'daemon.reload', 'hosts.list', 'pool.list', 'jobs.list', 'audit.query']);
const METHODS = [
  'daemon.hello',
  'daemon.status',
  'daemon.reload',
  'hosts.list',
  'pool.list',
  'pool.drop',
  'ssh.exec',
  'fleet.exec',
  'fleet.read',
  'jobs.start',
  'jobs.output',
  'jobs.list',
  'jobs.signal',
  'jobs.wait',
  'jobs.forget',
  'transfer.get',
  'transfer.put',
  'transfer.copy',
  'fs.read',
  'fs.list',
  'fs.stat',
  'fs.tree',
  'fs.find',
  'fs.write',
  'audit.query',
  '$/cancel',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'daemon.',
  '',
  'ssh.exec\u0000',
  'SSH.EXEC',
];
const FIELDS = [
  'host',
  'hosts',
  'pattern',
  'command',
  'cwd',
  'path',
  'remotePath',
  'localPath',
  'from',
  'to',
  'content',
  'stdin',
  'env',
  'jobId',
  'timeoutMs',
  'maxBytes',
  'maxOutputBytes',
  'offset',
  'depth',
  'concurrency',
  'recursive',
  'stream',
  'signal',
  'client',
  'protocol',
  'since',
  'limit',
  'probe',
  '__proto__',
];

const fleet = useFleet(['web1', 'web2']);
let daemon: DaemonProc;
let good: ScoutClient;
let canary: string;

beforeAll(async () => {
  canary = path.join(fleet.root, 'canary');
  fs.mkdirSync(canary, { mode: 0o777 });
  fs.chmodSync(canary, 0o777);
  // Log level warn: 10,000 'done' lines at info would only measure the log pipe.
  // (so 'scoutd listening' is not printed either: the socket answering is the sign it is up).
  daemon = await fleet.startDaemon({ SCOUT_STATE_DIR: path.join(fleet.root, 'state'), SCOUT_LOG_LEVEL: 'warn' }, { waitForListening: false });
  const end = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      good = await daemon.client('good');
      break;
    } catch (err) {
      if (Date.now() > end || daemon.proc.exitCode !== null) throw new Error(`scoutd did not start: ${(err as Error).message}\n${daemon.logs()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
});

function hostileStrings(): fc.Arbitrary<string> {
  const pwn = (how: string) => how.replace('CMD', `touch ${canary}/pwned`);
  return fc
    .oneof(
      fc.constantFrom(
        pwn('$(CMD)'),
        pwn('`CMD`'),
        pwn('web1;CMD'),
        pwn('web1 && CMD'),
        pwn('web1|CMD'),
        pwn("web1'; CMD; '"),
        pwn('-oProxyCommand=CMD'),
        'web1\u0000',
        'web1 ',
        ' web1',
        'WEB1',
        'web1\n',
        'web1/../web2',
        '../../../../etc/passwd',
        '/etc/shadow',
        '~root/.ssh/id_rsa',
        '\u0000',
        '',
        ' ',
        '*',
        '?',
        '[z-a]',
        '[',
        '\\',
        '%s%n%x',
        '${HOME}',
        '\u202e',
        '\ud800',
        'A'.repeat(5000),
        'x'.repeat(70_000),
        '/'.repeat(5000),
        'a/'.repeat(3000),
        '\u0000'.repeat(100),
        '🙂'.repeat(300),
      ),
      fc.string({ maxLength: 64 }),
      fc.string({ unit: 'binary', maxLength: 64 }),
      fc.string({ maxLength: 32 }).map((s) => `${s}\u0000${s}`),
      fc.string({ maxLength: 16 }).map((s) => pwn(`${s};CMD`)),
    )
    .filter((s) => s !== 'web1' && s !== 'web2');
}

function hostileValue(): fc.Arbitrary<unknown> {
  const { deep } = fc.letrec((tie) => ({
    deep: fc.oneof({ depthSize: 'small', withCrossShrink: true }, hostileStrings(), fc.array(tie('deep'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), tie('deep'), { maxKeys: 3 })),
  }));
  return fc.oneof(
    hostileStrings(),
    fc.constantFrom(0, -1, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 64, 0.5, -0, true, false, null, [], {}, '1000'),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.array(hostileStrings(), { maxLength: 5 }),
    fc.record({ host: hostileStrings(), path: hostileStrings() }),
    deep,
  );
}

type Message = { kind: 'line'; text: string } | { kind: 'request'; method: string; params: unknown; hasParams: boolean };

function messages(): fc.Arbitrary<Message> {
  const params = fc.oneof(fc.dictionary(fc.constantFrom(...FIELDS), hostileValue(), { maxKeys: 6 }), hostileValue());
  return fc.oneof(
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((text): Message => ({ kind: 'line', text })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v): Message => ({ kind: 'line', text: JSON.stringify(v) ?? 'null' })) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          `{"jsonrpc":"2.0","id":1,"method":"ssh.exec","params":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
          `${'['.repeat(200_000)}`,
          `{"jsonrpc":"2.0","id":1e400,"method":"daemon.status"}`,
          `{"jsonrpc":"2.0","id":{"a":1},"method":"daemon.status"}`,
          `{"jsonrpc":"1.0","id":2,"method":"daemon.status"}`,
          `{"jsonrpc":"2.0","id":3,"method":"ssh.exec","params":{"host":"web1","command":"true","__proto__":{"command":"touch ${canary}/pwned"}}}`,
          `{"jsonrpc":"2.0","id":4,"method":"ssh.exec","params":{"host":"web1","command":"true","command":"touch ${canary}/pwned","timeoutMs":"x"}}`,
          `{"jsonrpc":"2.0","method":"ssh.exec","params":{"host":"web1","command":"touch ${canary}/pwned"}}`,
          `[${Array.from({ length: 300 }, (_, i) => `{"jsonrpc":"2.0","id":"b${i}","method":"nope"}`).join(',')}]`,
          '\uFEFF{"jsonrpc":"2.0","id":5,"method":"daemon.status"}',
        )
        .map((text): Message => ({ kind: 'line', text })),
    },
    {
      weight: 7,
      arbitrary: fc.record({ method: fc.oneof(fc.constantFrom(...METHODS), fc.string({ maxLength: 20 })), params, hasParams: fc.boolean() }).map((r): Message => ({ kind: 'request', ...r })),
    },
  );
}

/** A raw NDJSON connection: lines out, parsed responses in (batches flattened). */
class RawConn {
  private readonly sock: net.Socket;
  private buf = '';
  readonly responses: Array<Record<string, unknown>> = [];
  readonly bad: string[] = [];
  private waiters: Array<() => void> = [];

  constructor(socketPath: string) {
    this.sock = net.connect(socketPath);
    this.sock.on('data', (d: Buffer) => {
      this.buf += d.toString('utf8');
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        try {
          const v = JSON.parse(line) as unknown;
          for (const m of Array.isArray(v) ? v : [v]) this.responses.push(m as Record<string, unknown>);
        } catch {
          this.bad.push(line.slice(0, 200));
        }
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sock.once('connect', resolve);
      this.sock.once('error', reject);
    });
  }

  send(text: string): void {
    this.sock.write(text.replace(/\n/g, ' ') + '\n');
  }

  /** Wait (bounded) until `done()` holds; re-checked whenever data arrives. */
  async until(done: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!done()) {
      if (this.sock.destroyed) throw new Error(`connection closed while waiting for ${what}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  close(): void {
    this.sock.destroy();
  }
}

describe('hostile RPC input', () => {
  it(`${MESSAGES} generated messages get only JSON-RPC errors, run nothing, and never starve a good client`, async () => {
    const conn = new RawConn(daemon.socket);
    await conn.ready();
    let goodCalls = 0;
    // The well-behaved client: one real exec on web1, on its own connection, while each batch is in flight.
    const goodCall = async () => {
      const n = goodCalls;
      const r = await good.call('ssh.exec', { host: 'web1', command: `echo good-${n}` });
      expect(r.stdout).toBe(`good-${n}\n`);
      goodCalls++;
    };

    let nextId = 1;
    let sent = 0;
    let sentinel = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(messages(), { minLength: BATCH, maxLength: BATCH }), async (batch) => {
          const first = conn.responses.length;
          const served = goodCall();
          const expected = new Map<number, string>();
          for (const m of batch) {
            if (m.kind === 'line') conn.send(m.text);
            else {
              const id = nextId++;
              expected.set(id, m.method);
              conn.send(JSON.stringify({ jsonrpc: '2.0', id, method: m.method, ...(m.hasParams ? { params: m.params } : {}) }));
            }
          }
          sent += batch.length;
          const tag = `sentinel-${sentinel++}`;
          conn.send(JSON.stringify({ jsonrpc: '2.0', id: tag, method: 'daemon.status' }));
          const answered = () => {
            const ids = new Set(conn.responses.slice(first).map((r) => r.id));
            return ids.has(tag) && [...expected.keys()].every((id) => ids.has(id));
          };
          await served;
          await conn.until(answered, `answers to batch ${sentinel}`).catch((err: Error) => {
            const ids = new Set(conn.responses.slice(first).map((r) => r.id));
            const missing = [...expected].filter(([id]) => !ids.has(id)).slice(0, 5);
            throw new Error(`${err.message}; unanswered: ${JSON.stringify(missing)}; sentinel answered: ${ids.has(tag)}`);
          });
          for (const r of conn.responses.slice(first)) {
            expect(r.jsonrpc).toBe('2.0');
            if (r.id === tag) continue;
            const method = typeof r.id === 'number' ? expected.get(r.id) : undefined;
            if ('result' in r) {
              // Only calls that touch no host may succeed (daemon.status for a well-formed request, say).
              expect(method !== undefined && BENIGN.has(method), `unexpected result for ${method}: ${JSON.stringify(r).slice(0, 300)}`).toBe(true);
              continue;
            }
            const err = r.error as { code: number; message: string; data?: { code?: string } };
            expect(typeof err.message).toBe('string');
            expect(err.code, `internal error: ${err.message}`).not.toBe(-32603);
            expect(err.code === -32700 || err.code === -32600 || err.code === -32601 || err.code === -32602 || (err.code <= -32000 && err.code >= -32099), err.message).toBe(true);
            expect(typeof err.data?.code, `no data.code in ${JSON.stringify(r).slice(0, 300)}`).toBe('string');
          }
          expect(conn.bad).toEqual([]);
        }),
        {
          numRuns: MESSAGES / BATCH,
          seed: 8_2026,
          endOnFailure: true,
          // The default report prints the whole counterexample (megabytes of nesting): keep it readable.
          reporter: (out) => {
            if (!out.failed) return;
            throw new Error(
              `fuzz failed at run ${out.numRuns} (seed ${out.seed}): ${String(out.errorInstance).slice(0, 2000)}\ncounterexample (cut): ${JSON.stringify(out.counterexample).slice(0, 2000)}`,
            );
          },
        },
      );
    } finally {
      conn.close();
    }
    expect(sent).toBe(MESSAGES);
    expect(goodCalls).toBe(MESSAGES / BATCH);
    expect(fs.readdirSync(canary)).toEqual([]);
    const pool = await good.call('pool.list');
    expect(pool.connections.map((c) => c.host)).toEqual(['web1']);
    expect(fleet.server('web2').acceptedLogins()).toBe(0);
    // Everything the fuzzer sent that reached a host-touching handler was refused: no 'ok' outside the good client.
    const audit = await good.call('audit.query', { limit: 10_000 });
    const fuzzOk = audit.entries.filter((e) => e.client !== 'good' && e.outcome === 'ok');
    expect(fuzzOk).toEqual([]);
    expect(audit.entries.filter((e) => e.client === 'good')).toHaveLength(goodCalls);
  });

  it('an oversized or too deeply nested line gets an error and the connection goes on', async () => {
    const conn = new RawConn(daemon.socket);
    await conn.ready();
    conn.send('x'.repeat(21 * 1024 * 1024));
    conn.send(JSON.stringify({ jsonrpc: '2.0', id: 'after', method: 'daemon.status' }));
    await conn.until(() => conn.responses.some((r) => r.id === 'after'), 'the call after an oversized line');
    expect(conn.responses[0]).toMatchObject({ id: null, error: { code: -32013, data: { code: 'TOO_LARGE' } } });
    expect((conn.responses[0].error as { message: string }).message).toMatch(/message too large/);
    // A request too large to parse still gets its answer by id when it starts as requests do.
    conn.send(`{"jsonrpc":"2.0","id":"big","method":"fs.write","params":{"content":"${'x'.repeat(21 * 1024 * 1024)}"}}`);
    await conn.until(() => conn.responses.some((r) => r.id === 'big'), 'the answer to the oversized request, by its id');
    expect(conn.responses.find((r) => r.id === 'big')).toMatchObject({ error: { code: -32013, data: { code: 'TOO_LARGE', limit: 20 * 1024 * 1024 } } });
    // 10 MiB of '[' is under the line limit: refused by its depth before JSON.parse spends seconds on it.
    conn.send('['.repeat(10 * 1024 * 1024));
    conn.send(JSON.stringify({ jsonrpc: '2.0', id: 'after-deep', method: 'daemon.status' }));
    await conn.until(() => conn.responses.some((r) => r.id === 'after-deep'), 'the call after a deeply nested line');
    expect(conn.responses[3]).toMatchObject({ id: null, error: { code: -32600, message: 'invalid request: nested deeper than 64 levels' } });
    conn.close();
  });
});

describe('per-client call limit', () => {
  it('calls beyond SCOUT_MAX_CLIENT_CALLS get BUSY; another client is unaffected; a disconnect frees them', async () => {
    const d = await startDaemon(fleet.env({ SCOUT_SOCKET: path.join(fleet.root, 'run-limit', 's.sock'), SCOUT_MAX_CLIENT_CALLS: '4', SCOUT_STATE_DIR: path.join(fleet.root, 'state2') }));
    try {
      const conn = new RawConn(d.socket);
      await conn.ready();
      // Six long-polls on a job that sleeps: four are admitted, two refused at once.
      const c = await d.client('owner');
      const job = await c.call('jobs.start', { host: 'web1', command: 'sleep 30' });
      for (let i = 0; i < 6; i++) conn.send(JSON.stringify({ jsonrpc: '2.0', id: i, method: 'jobs.wait', params: { jobId: job.jobId, timeoutMs: 30_000 } }));
      await conn.until(() => conn.responses.length >= 2, 'two BUSY answers');
      expect(conn.responses.map((r) => [r.id, (r.error as { data: { code: string } }).data.code])).toEqual([
        [4, 'BUSY'],
        [5, 'BUSY'],
      ]);
      // Another client has its own allowance.
      const other = await d.client('other');
      expect((await other.call('ssh.exec', { host: 'web1', command: 'echo fine' })).stdout).toBe('fine\n');
      other.close();
      conn.close();
      const again = new RawConn(d.socket);
      await again.ready();
      again.send(JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'jobs.list' }));
      await again.until(() => again.responses.length > 0, 'a call on a fresh connection');
      expect(again.responses[0]).toHaveProperty('result');
      again.close();
      await c.call('jobs.signal', { jobId: job.jobId, signal: 'KILL' });
      c.close();
    } finally {
      await d.kill9();
    }
  });
});
