// Soak: thousands of mixed calls (ssh.exec, fs.read, fs.list, hosts.list) from 20 concurrent clients across
// 3 hosts while one sshd is restarted twice. Every request gets exactly one response (a result or a coded
// error), none outlives its bound, the daemon never restarts, and its RSS stays flat.
// SCOUT_SOAK_CALLS scales the count (default 2000), SCOUT_SOAK_WARMUP the calls before the memory baseline.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusResult } from '../src/protocol/methods/index.js';
import { PROTOCOL_VERSION } from '../src/protocol/version.js';
import type { DaemonProc } from './fixtures/daemon.js';
import { useFleet } from './fixtures/suite.js';

const CALLS = Number(process.env.SCOUT_SOAK_CALLS ?? 2000);
const CLIENTS = 20;
/** Calls before the memory baseline is taken (not counted in CALLS). */
const WARMUP_CALLS = Number(process.env.SCOUT_SOAK_WARMUP ?? 600);
const HOSTS = ['web1', 'web2', 'web3'];
/** The host whose sshd is restarted twice during the run. */
const RESTARTED = 'web2';
const CONNECT_TIMEOUT_S = 3;
const COMMAND_TIMEOUT_MS = 5_000;
/**
 * No call may take longer than this: a connect (retries included) within the connect timeout, a retry on a
 * fresh connection (a second connect), then the command's own timeout and the TERM/KILL grace; plus slack
 * for a loaded 2-core machine.
 */
const CALL_BOUND_MS = 2 * CONNECT_TIMEOUT_S * 1000 + COMMAND_TIMEOUT_MS + 2_000 + 5_000;
/** The bound on RSS growth over the run. */
const RSS_GROWTH_BOUND = 30 * 1024 * 1024;
/** Errors a call to the host being restarted may end with; anything else (or any error elsewhere) fails. */
const RESTART_CODES = ['CONNECT_FAILED', 'CONNECT_TIMEOUT', 'CONNECTION_LOST', 'CHANNEL_FAILED'];

const fleet = useFleet(HOSTS, {
  daemonEnv: { SCOUT_CONNECT_TIMEOUT: String(CONNECT_TIMEOUT_S), SCOUT_COMMAND_TIMEOUT: String(COMMAND_TIMEOUT_MS / 1000) },
});
let daemon: DaemonProc;
let dir: string;

beforeAll(async () => {
  // One directory the remote user owns; every "host" is this machine, so it exists on all three.
  dir = `/tmp/scout-soak-${process.pid}-${Date.now()}`;
  const r = await fleet.runAsUser(`mkdir -p ${dir}/sub && printf 'hello soak\\n' > ${dir}/file.txt && touch ${dir}/a ${dir}/b`);
  expect(r.code, r.stderr).toBe(0);
  daemon = await fleet.startDaemon();
});

afterAll(async () => {
  if (dir) await fleet.runAsUser(`rm -rf ${dir}`);
});

/** A bare NDJSON JSON-RPC client that counts every response per id (the library would drop a duplicate). */
class RawClient {
  private nextId = 1;
  private buf = '';
  private readonly waiting = new Map<number, (msg: RpcResponse) => void>();
  readonly responses = new Map<number, number>();
  readonly strays: unknown[] = [];
  private constructor(private readonly sock: net.Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        if (line) this.onMessage(JSON.parse(line) as RpcResponse);
      }
    });
  }

  static async connect(socket: string, name: string): Promise<RawClient> {
    const sock = net.connect(socket);
    await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
    const c = new RawClient(sock);
    const hello = await c.call('daemon.hello', { client: name, protocol: PROTOCOL_VERSION });
    if (hello.error) throw new Error(`hello failed: ${hello.error.message}`);
    return c;
  }

  call(method: string, params: Record<string, unknown>): Promise<RpcResponse> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.sock.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    });
  }

  private onMessage(msg: RpcResponse): void {
    if (typeof msg.id !== 'number') {
      this.void(msg);
      return;
    }
    this.responses.set(msg.id, (this.responses.get(msg.id) ?? 0) + 1);
    const w = this.waiting.get(msg.id);
    if (!w) {
      this.void(msg);
      return;
    }
    this.waiting.delete(msg.id);
    w(msg);
  }

  private void(msg: unknown): void {
    this.strays.push(msg);
  }

  get lastId(): number {
    return this.nextId - 1;
  }

  close(): void {
    this.sock.end();
  }
}

interface RpcResponse {
  id?: number;
  result?: unknown;
  error?: { code: number; message: string; data?: { code?: string } };
}

interface Outcome {
  host: string;
  method: string;
  ms: number;
  code?: string;
}

describe('soak', () => {
  it(`${CALLS} mixed calls from ${CLIENTS} clients across ${HOSTS.length} hosts while ${RESTARTED}'s sshd restarts twice`, async () => {
    const control = await RawClient.connect(daemon.socket, 'soak-control');
    const status = async () => (await control.call('daemon.status', {})).result as StatusResult;
    // Warm up with the same load first: connections open, code paths compiled, V8's young generation grown
    // to its working size (it alone grows RSS by ~25 MB in the first thousand calls, then stays).
    const warmers = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => RawClient.connect(daemon.socket, `soak-warm-${i}`)));
    await Promise.all(
      warmers.map(async (c, ci) => {
        for (let k = 0; k < WARMUP_CALLS / CLIENTS; k++) {
          const i = ci * 7 + k;
          const [[method, params]] = callFor(i, HOSTS[i % HOSTS.length]);
          const res = await c.call(method, params);
          expect(res.error, `${method} ${JSON.stringify(params)}`).toBeUndefined();
        }
        c.close();
      }),
    );
    const before = await status();

    const outcomes: Outcome[] = [];
    const thresholds: Array<{ n: number; resolve: () => void }> = [];
    const reached = (n: number) => new Promise<void>((resolve) => thresholds.push({ n, resolve }));
    const record = (o: Outcome) => {
      outcomes.push(o);
      for (const t of thresholds.filter((x) => outcomes.length >= x.n)) {
        thresholds.splice(thresholds.indexOf(t), 1);
        t.resolve();
      }
    };

    const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => RawClient.connect(daemon.socket, `soak-${i}`)));
    const perClient = Math.ceil(CALLS / CLIENTS);
    const started = Date.now();
    const work = clients.map(async (c, ci) => {
      for (let k = 0; k < perClient; k++) {
        const i = ci * perClient + k;
        if (i >= CALLS) return;
        const host = HOSTS[i % HOSTS.length];
        const [[method, params]] = callFor(i, host);
        const t0 = Date.now();
        const res = await c.call(method, params);
        record({ host, method, ms: Date.now() - t0, code: res.error ? (res.error.data?.code ?? `rpc ${res.error.code}`) : undefined });
      }
    });
    const restarts = (async () => {
      const server = fleet.server(RESTARTED);
      for (const at of [Math.floor(CALLS / 3), Math.floor((2 * CALLS) / 3)]) {
        await reached(at);
        await server.stop();
        await server.start();
      }
    })();
    await Promise.all([...work, restarts]);
    const elapsedMs = Date.now() - started;
    const after = await status();

    // Every request got exactly one response, and nothing arrived that nobody asked for.
    for (const c of [...clients]) {
      expect(c.strays).toEqual([]);
      for (let id = 1; id <= c.lastId; id++) expect(c.responses.get(id), `request ${id}`).toBe(1);
      c.close();
    }
    expect(outcomes).toHaveLength(CALLS);
    // None outlived its bound.
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    expect(slowest).toBeLessThan(CALL_BOUND_MS);
    // Errors only where the sshd was restarted, and each a coded Scout error of the expected kinds.
    const failed = outcomes.filter((o) => o.code);
    expect(failed.filter((o) => o.host !== RESTARTED)).toEqual([]);
    for (const f of failed) expect(RESTART_CODES, JSON.stringify(f)).toContain(f.code);
    // The daemon never restarted.
    expect(after.pid).toBe(daemon.pid);
    expect(after.startedAt).toBe(before.startedAt);
    expect(daemon.proc.exitCode).toBeNull();
    // Memory stays flat.
    const growth = after.rssBytes - before.rssBytes;
    expect(growth).toBeLessThan(RSS_GROWTH_BOUND);
    // The restarts were noticed: web2 reconnected, the others kept their one connection.
    const poolList = (await control.call('pool.list', {})).result as { hosts: Array<{ host: string; created: number; reconnects?: number }>; connections: Array<{ host: string; channels: unknown }> };
    const hosts = poolList.hosts;
    expect(hosts.find((h) => h.host === RESTARTED)!.reconnects).toBeGreaterThanOrEqual(2);
    for (const h of HOSTS.filter((x) => x !== RESTARTED)) expect(hosts.find((x) => x.host === h)!.created).toBe(1);
    // No channel leaked: what is still open is at most each connection's one reusable SFTP session.
    expect(after.pool.channelsOpen).toBeLessThanOrEqual(after.pool.connections + (after.warmShell?.live ?? 0));
    control.close();
    console.log(
      JSON.stringify({
        soak: {
          calls: CALLS,
          clients: CLIENTS,
          elapsedMs,
          callsPerSec: Math.round(CALLS / (elapsedMs / 1000)),
          slowestMs: slowest,
          failed: failed.length,
          failedByCode: countBy(failed.map((f) => f.code!)),
          rssBeforeMiB: mib(before.rssBytes),
          rssAfterMiB: mib(after.rssBytes),
          pool: after.pool,
          channels: poolList.connections.map((c) => [c.host, c.channels]),
        },
      }),
    );
  });
});

/** Call i: exec, fs.read, fs.list in turn (on every host: the host follows i % 3); every 10th is a hosts.list. */
function callFor(i: number, host: string): Array<[string, Record<string, unknown>]> {
  if (i % 10 === 9) return [['hosts.list', {}]];
  switch (Math.floor(i / HOSTS.length) % 3) {
    case 0:
      return [['ssh.exec', { host, command: `echo soak-${i}`, timeoutMs: COMMAND_TIMEOUT_MS }]];
    case 1:
      return [['fs.read', { host, path: `${dir}/file.txt` }]];
    default:
      return [['fs.list', { host, path: dir }]];
  }
}

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

function mib(n: number): number {
  return Math.round((n / 1024 / 1024) * 10) / 10;
}
