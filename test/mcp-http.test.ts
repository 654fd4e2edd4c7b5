// scout-mcp --http end to end: the real scout-mcp process in front of a real scoutd, driven by the SDK's
// streamable HTTP client and by plain fetch where a status code is the point. Keys made with `scoutctl keys`;
// an OAuth issuer of our own (a JWKS and ES256 tokens from jose) for the resource-server mode.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScoutClient } from '../src/client/client.js';
import { PROTOCOL_VERSION } from '../src/protocol/version.js';
import { SCOUT_MCP, scoutctl, type DaemonProc } from './fixtures/daemon.js';
import { expectCode } from './fixtures/expect.js';
import { remoteTree } from './fixtures/mcp.js';
import { useFleet } from './fixtures/suite.js';

const fleet = useFleet(['web1', 'web2']);
const RESOURCE = 'https://scout.test/mcp';
let daemon: DaemonProc;
let remote: string;
let keysFile: string;
const secrets: Record<string, string> = {};
let issuer: { url: string; server: http.Server; token: (claims: Record<string, unknown>, exp?: number) => Promise<string> };
let main: HttpShim;

interface HttpShim {
  url: string;
  proc: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

/** scout-mcp --http on a free port; resolves once it says where it serves. */
async function startHttp(env: NodeJS.ProcessEnv, args: string[] = []): Promise<HttpShim> {
  const proc = spawn(process.execPath, [SCOUT_MCP, '--http', '--port', '0', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /"url":"([^"]+)"/.exec(err);
      if (m) resolve(m[1]);
    });
    proc.once('exit', (code) => reject(new Error(`scout-mcp --http exited ${code}: ${err}`)));
  });
  return {
    url,
    proc,
    stderr: () => err,
    stop: async () => {
      if (proc.exitCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await gone;
    },
  };
}

async function addKey(name: string, ...opts: string[]): Promise<void> {
  const r = await scoutctl(['keys', 'add', name, ...opts], fleet.env({ SCOUT_HTTP_KEYS: keysFile }));
  expect(r.code, r.stderr).toBe(0);
  secrets[name] = r.stdout.trim();
  expect(secrets[name]).toMatch(/^scout_[A-Za-z0-9_-]{43}$/);
}

async function mcp(url: string, headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'http-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

const text = (r: Awaited<ReturnType<Client['callTool']>>): string => (r.content as Array<{ text: string }>).map((c) => c.text).join('');

/** A raw MCP POST: the status and body are what this test is about. */
function post(url: string, headers: Record<string, string>, body: unknown = { jsonrpc: '2.0', id: 1, method: 'ping' }): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(body) });
}

async function startIssuer(): Promise<typeof issuer> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const server = http.createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const body = req.url === '/.well-known/oauth-authorization-server' ? { issuer: base, jwks_uri: `${base}/jwks` } : req.url === '/jwks' ? { keys: [jwk] } : undefined;
    res.writeHead(body ? 200 : 404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const token = (claims: Record<string, unknown>, exp = Math.floor(Date.now() / 1000) + 600) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(url).setIssuedAt().setExpirationTime(exp).sign(privateKey);
  return { url, server, token };
}

beforeAll(async () => {
  keysFile = path.join(fleet.root, 'http-keys.json');
  remote = await remoteTree(fleet, 'scout-http');
  daemon = await fleet.startDaemon({ SCOUT_STATE_DIR: path.join(fleet.root, 'state') });
  await addKey('team', '--rate', '100000', '--burst', '100000');
  await addKey('web1only', '--hosts', 'web1');
  await addKey('reader', '--read-only', '--tools', 'scout,scout_read');
  await addKey('slow', '--rate', '60', '--burst', '10');
  await addKey('other', '--rate', '60', '--burst', '10');
  issuer = await startIssuer();
  main = await startHttp({ ...daemon.env, SCOUT_HTTP_KEYS: keysFile, SCOUT_OAUTH_ISSUER: issuer.url, SCOUT_OAUTH_RESOURCE_URL: RESOURCE });
}, 30_000);

afterAll(async () => {
  await main?.stop();
  issuer?.server.close();
  if (remote) await fleet.runAsUser(`rm -rf '${remote}'`);
});

describe('scout-mcp --http with API keys', () => {
  it('a key lists the tools and reads a file; no key or a wrong one gets 401; no secret reaches a log', async () => {
    const c = await mcp(main.url, { 'X-API-Key': secrets.team });
    const tools = (await c.listTools()).tools.map((t) => t.name);
    expect(tools).toContain('scout');
    expect(tools).toContain('scout_read');
    const r = await c.callTool({ name: 'scout', arguments: { target: `web1:${remote}/tree/hello.txt` } });
    expect(text(r)).toBe('hello from web\nsecond line\n');
    await c.close();
    // Bearer works as well as X-API-Key.
    const b = await mcp(main.url, { Authorization: `Bearer ${secrets.team}` });
    expect((await b.listTools()).tools.length).toBeGreaterThan(0);
    await b.close();

    const none = await post(main.url, {});
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: 'Missing API key' });
    const wrong = await post(main.url, { 'X-API-Key': `${secrets.team}x` });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: 'Invalid API key' });
    expect(wrong.headers.get('www-authenticate')).toContain('resource_metadata=');

    const audit = fs.readFileSync(path.join(fleet.root, 'state', 'audit.log'), 'utf8');
    const stored = fs.readFileSync(keysFile, 'utf8');
    for (const s of Object.values(secrets)) {
      for (const [where, body] of Object.entries({ 'scout-mcp log': main.stderr(), 'scoutd log': daemon.logs(), audit, 'key file': stored }))
        expect(body.includes(s), `${where} holds a secret`).toBe(false);
    }
    expect(fs.statSync(keysFile).mode & 0o777).toBe(0o600);
  });

  it('a key removed with scoutctl keys remove is refused from the next request, without a restart', async () => {
    await addKey('short-lived');
    expect((await post(main.url, { 'X-API-Key': secrets['short-lived'] })).status).not.toBe(401);
    const r = await scoutctl(['keys', 'remove', 'short-lived'], fleet.env({ SCOUT_HTTP_KEYS: keysFile }));
    expect(r.code, r.stderr).toBe(0);
    expect((await post(main.url, { 'X-API-Key': secrets['short-lived'] })).status).toBe(401);
    expect((await scoutctl(['keys', 'list'], fleet.env({ SCOUT_HTTP_KEYS: keysFile }))).stdout).not.toContain('short-lived');
  });

  it('a key allowed only web1 is refused web2 with POLICY_DENIED, and the audit line names the key', async () => {
    const c = await mcp(main.url, { 'X-API-Key': secrets.web1only });
    const ok = await c.callTool({ name: 'scout', arguments: { target: `web1:${remote}/tree/hello.txt` } });
    expect(text(ok)).toBe('hello from web\nsecond line\n');
    const denied = await c.callTool({ name: 'scout_read', arguments: { target: `web2:${remote}/tree/hello.txt` } });
    expect(denied.isError).toBe(true);
    expect(text(denied)).toContain('POLICY_DENIED');
    expect(text(denied)).toContain("may not reach host 'web2'");
    // Its host list is its own: web2 is not offered.
    const hosts = await c.callTool({ name: 'scout', arguments: { target: 'hosts' } });
    expect(text(hosts)).toContain('web1');
    expect(text(hosts)).not.toContain('web2');
    await c.close();
    const watcher = await daemon.client('watcher');
    const entries = (await watcher.call('audit.query', { host: 'web2' })).entries;
    expect(entries.some((e) => e.client === 'scout-mcp key:web1only' && e.outcome === 'POLICY_DENIED')).toBe(true);
    watcher.close();
  });

  it('a read-only key sees only its tools, cannot run a command, and no key reaches this machine’s files', async () => {
    const c = await mcp(main.url, { 'X-API-Key': secrets.reader });
    expect((await c.listTools()).tools.map((t) => t.name).sort()).toEqual(['scout', 'scout_read']);
    const exec = await c.callTool({ name: 'scout', arguments: { target: 'web1:/tmp', query: 'touch /tmp/scout-http-should-not-exist' } });
    expect(text(exec)).toContain('read-only');
    expect((await fleet.runAsUser('test -e /tmp/scout-http-should-not-exist; echo $?')).stdout.trim()).toBe('1');
    await c.close();
    const team = await mcp(main.url, { 'X-API-Key': secrets.team });
    // beam downloads to the machine scout-mcp runs on: never for an HTTP caller.
    const local = path.join(fleet.root, 'beamed.txt');
    const beam = await team.callTool({ name: 'scout', arguments: { target: `web1:${remote}/tree/hello.txt`, beam: local } });
    expect(text(beam)).toContain('POLICY_DENIED');
    expect(fs.existsSync(local)).toBe(false);
    await team.close();
  });

  it('100 requests at once on a 60/min key with burst 10: 10 pass, 90 get 429 with Retry-After; another key is unaffected', async () => {
    const answers = await Promise.all(Array.from({ length: 100 }, () => post(main.url, { 'X-API-Key': secrets.slow })));
    const limited = answers.filter((a) => a.status === 429);
    expect(answers.length - limited.length).toBe(10);
    expect(limited.length).toBe(90);
    for (const a of limited) expect(Number(a.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await limited[0].json()) as { jsonrpc: string; error: { message: string; data: { code: string } } };
    expect(body.jsonrpc).toBe('2.0');
    expect(body.error.data.code).toBe('RATE_LIMITED');
    expect(body.error.message).toMatch(/^Rate limit exceeded\. Retry after \d+ seconds\.$/);
    expect((await post(main.url, { 'X-API-Key': secrets.other })).status).not.toBe(429);
  });

  it('a foreign Origin or Host gets 403; /health answers without a key', async () => {
    expect((await post(main.url, { 'X-API-Key': secrets.team, Origin: 'http://evil.example' })).status).toBe(403);
    const port = new URL(main.url).port;
    const rebinding = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { Host: `evil.example:${port}`, 'X-API-Key': secrets.team, 'Content-Type': 'application/json' } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    expect(rebinding).toBe(403);
    const health = await fetch(new URL('/health', main.url));
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
  });

  it('50 concurrent sessions doing 20 reads each all succeed, over one pooled connection per host', async () => {
    const clients = await Promise.all(Array.from({ length: 50 }, () => mcp(main.url, { 'X-API-Key': secrets.team })));
    const texts = await Promise.all(
      clients.map(async (c, i) => {
        const out: string[] = [];
        for (let n = 0; n < 20; n++) out.push(text(await c.callTool({ name: 'scout_read', arguments: { target: `web${1 + ((i + n) % 2)}:${remote}/tree/a.conf` } })));
        return out;
      }),
    );
    expect(texts.flat().filter((t) => t.startsWith('alpha\nbeta\ngamma\n')).length).toBe(1000);
    await Promise.all(clients.map((c) => c.close()));
    const watcher = await daemon.client('watcher');
    const conns = (await watcher.call('pool.list')).connections;
    expect(conns.filter((c) => c.host === 'web1').length).toBe(1);
    expect(conns.filter((c) => c.host === 'web2').length).toBe(1);
    watcher.close();
  });
});

describe('a grant at the daemon (what each key connection says in its hello)', () => {
  it('narrows the connection: hosts it may not reach, writes when read-only, owner methods, lists and patterns', async () => {
    const owner = await daemon.client('owner');
    const job = await owner.call('jobs.start', { host: 'web2', command: 'sleep 30' });
    const narrowed = new ScoutClient({ socket: daemon.socket, clientName: 'narrowed', grant: { name: 'key:t', hosts: ['web1'], readOnly: true } });
    await narrowed.connect();
    try {
      expect((await narrowed.call('fs.read', { host: 'web1', path: `${remote}/tree/a.conf` })).content).toBe('alpha\nbeta\ngamma\n');
      await expectCode(narrowed.call('fs.read', { host: 'web2', path: `${remote}/tree/a.conf` }), 'POLICY_DENIED');
      await expectCode(narrowed.call('ssh.exec', { host: 'web1', command: 'true' }), 'POLICY_DENIED');
      await expectCode(narrowed.call('transfer.get', { host: 'web1', remotePath: `${remote}/tree/a.conf`, localPath: path.join(fleet.root, 'got') }), 'POLICY_DENIED');
      await expectCode(narrowed.call('daemon.shutdown'), 'POLICY_DENIED');
      await expectCode(narrowed.call('jobs.output', { jobId: job.jobId }), 'POLICY_DENIED');
      expect((await narrowed.call('jobs.list')).jobs.map((j) => j.jobId)).not.toContain(job.jobId);
      expect((await narrowed.call('hosts.list')).map((h) => h.name)).toEqual(['web1']);
      const all = await narrowed.call('fleet.read', { pattern: '*', path: `${remote}/tree/a.conf` });
      expect(all.results.map((r) => r.host)).toEqual(['web1']);
      // A second hello cannot lift it.
      await expectCode(narrowed.call('daemon.hello', { client: 'x', protocol: PROTOCOL_VERSION, grant: { name: 'key:t', hosts: ['*'], readOnly: false } }), 'POLICY_DENIED');
      await expectCode(narrowed.call('ssh.exec', { host: 'web1', command: 'true' }), 'POLICY_DENIED');
      expect(fs.existsSync(path.join(fleet.root, 'got'))).toBe(false);
    } finally {
      narrowed.close();
      await owner.call('jobs.signal', { jobId: job.jobId, signal: 'KILL' });
      owner.close();
    }
  });
});

describe('scout-mcp --http as an OAuth resource server', () => {
  it('a token scoped to web1 reads web1 and not web2; an expired or wrong-audience token gets 401; the metadata is served', async () => {
    const meta = await fetch(new URL('/.well-known/oauth-protected-resource', main.url));
    expect(await meta.json()).toMatchObject({ resource: RESOURCE, authorization_servers: [issuer.url] });

    const good = await issuer.token({ sub: 'alice', aud: RESOURCE, scope: 'scout:hosts:web1' });
    const c = await mcp(main.url, { Authorization: `Bearer ${good}` });
    expect(text(await c.callTool({ name: 'scout', arguments: { target: `web1:${remote}/tree/hello.txt` } }))).toBe('hello from web\nsecond line\n');
    expect(text(await c.callTool({ name: 'scout', arguments: { target: `web2:${remote}/tree/hello.txt` } }))).toContain('POLICY_DENIED');
    await c.close();

    const expired = await issuer.token({ sub: 'alice', aud: RESOURCE, scope: 'scout:hosts:web1' }, Math.floor(Date.now() / 1000) - 120);
    const wrongAud = await issuer.token({ sub: 'alice', aud: 'https://elsewhere.test/mcp', scope: 'scout:hosts:web1' });
    for (const t of [expired, wrongAud]) {
      const r = await post(main.url, { Authorization: `Bearer ${t}` });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toContain('invalid_token');
      expect(main.stderr().includes(t)).toBe(false);
    }
  });
});

describe('scout-mcp --http without keys', () => {
  it('refuses to bind beyond loopback without a key', async () => {
    const none = path.join(fleet.root, 'no-keys.json');
    await expect(startHttp({ ...daemon.env, SCOUT_HTTP_KEYS: none }, ['--host', '0.0.0.0'])).rejects.toThrow(/refusing to serve 0\.0\.0\.0 without authentication/);
  });

  it('limits by address, and believes X-Forwarded-For only from a configured proxy', async () => {
    const none = path.join(fleet.root, 'no-keys.json');
    const burst = { SCOUT_RATE_LIMIT_PER_MINUTE: '1', SCOUT_RATE_LIMIT_BURST: '3' };
    const spoofed = async (shim: HttpShim) => (await Promise.all([1, 2, 3, 4, 5].map((i) => post(shim.url, { 'X-Forwarded-For': `10.0.0.${i}` })))).filter((r) => r.status === 429).length;
    const direct = await startHttp({ ...daemon.env, SCOUT_HTTP_KEYS: none, ...burst });
    const proxied = await startHttp({ ...daemon.env, SCOUT_HTTP_KEYS: none, ...burst, SCOUT_HTTP_TRUSTED_PROXIES: '127.0.0.1' });
    try {
      // From a peer that is no proxy, five "different" clients are one address: 3 pass, 2 are limited.
      expect(await spoofed(direct)).toBe(2);
      // Through a configured proxy each forwarded address has its own bucket.
      expect(await spoofed(proxied)).toBe(0);
    } finally {
      await direct.stop();
      await proxied.stop();
    }
  });
});
