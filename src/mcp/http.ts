// scout-mcp --http: MCP over streamable HTTP for a team. One scout-mcp in front of one scoutd: every agent that
// holds a key shares the daemon's warm pool, known_hosts, policy and audit log. Each key reaches scoutd through
// its own daemon connection narrowed by a grant (daemon/grant.ts), so the daemon itself refuses a host the key
// may not reach, a write from a read-only key, and any local file of this machine; the audit log names the key.
//
// Per request, in order: /health (no auth), RFC 9728 metadata, Host and Origin checks (403), auth (401),
// the rate limit (429 + Retry-After), a bounded body (413), then the session's SDK transport.
import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import type { Logger } from 'pino';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Grant } from '../protocol/methods/daemon.js';
import { ScoutCodes } from '../protocol/errors.js';
import { commaList, isLoopbackHost } from '../protocol/values.js';
import { packageVersion } from '../protocol/version.js';
import { KeyStore, envKeys, keysPath } from './http-keys.js';
import { OAuthError, OAuthVerifier, oauthConfigFromEnv, wwwAuthenticate } from './http-oauth.js';
import { RateLimiter } from './rate-limit.js';
import { DaemonLink, createServer } from './server.js';
import { ToolTasks } from './tasks.js';
import { type ToolSet, toolSet } from './tools.js';

/** A request body larger than this is refused (413): fs.write's 12 MiB as base64 in JSON, and some room. */
export const MAX_BODY_BYTES = 20 * 1024 * 1024;
/** Sessions held at once; past it the least recently used is closed. Each is an SDK server and transport. */
const MAX_SESSIONS = 1000;
/** A session nobody has used for this long is closed (clients that vanished without DELETE). */
const SESSION_IDLE_MS = 60 * 60 * 1000;

/** Refused credentials per client address: past this, 429 instead of 401. */
const FAILED_AUTH_RATE = { perMinute: 30, burst: 20 };

export interface HttpOptions {
  host: string;
  port: number;
  /** Require a key or token. Off only on loopback, and only when no key exists and OAuth is not set. */
  auth: boolean;
  perMinute: number;
  burst: number;
  /** Peers whose X-Forwarded-For is believed (reverse proxies); from anyone else it is ignored. */
  trustedProxies: string[];
  /** Host header values accepted (DNS-rebinding guard); empty: any (then keys are what protects). */
  allowedHosts: string[];
  /** Origin header values accepted; a request with any other Origin gets 403. Non-browser clients send none. */
  allowedOrigins: string[];
  tools: ToolSet;
}

/** Who a request is from, once authenticated. */
interface Principal {
  /** In the audit log and refusals: `key:ci-bot`, `oauth:alice`, `anonymous`. */
  name: string;
  hosts: string[];
  readOnly: boolean;
  tools?: string[];
  rate?: { perMinute: number; burst: number };
}

/** Options from argv (`--host`, `--port`) and the environment (the Python Scout MCP's names where it has them). */
export function httpOptions(argv: string[], env: NodeJS.ProcessEnv): HttpOptions {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    if (i >= 0 && (i + 1 >= argv.length || argv[i + 1].startsWith('--'))) throw new Error(`${name} needs a value`);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
  };
  const host = arg('--host') ?? env.SCOUT_HTTP_HOST ?? '127.0.0.1';
  const portText = arg('--port') ?? env.SCOUT_HTTP_PORT ?? '8000';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new Error(`the port must be a number from 0 to 65535, got '${portText}'`);
  const int = (name: string, dflt: number): number => {
    const v = env[name];
    if (v === undefined || v === '') return dflt;
    if (!/^\d+$/.test(v)) throw new Error(`${name} must be a whole number, got '${v}'`);
    return Number(v);
  };
  const list = (name: string): string[] => commaList(env[name]);
  const authEnv = (env.SCOUT_AUTH_ENABLED ?? 'true').trim().toLowerCase();
  if (!['true', 'false', '1', '0', 'yes', 'no'].includes(authEnv)) throw new Error(`SCOUT_AUTH_ENABLED must be true or false, got '${env.SCOUT_AUTH_ENABLED}'`);
  const burst = int('SCOUT_RATE_LIMIT_BURST', 10);
  if (burst < 1) throw new Error('SCOUT_RATE_LIMIT_BURST must be at least 1');
  // On loopback a browser page could reach us through DNS rebinding: only our own names are accepted there.
  const own = isLoopbackHost(host) ? [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`] : [];
  return {
    host,
    port,
    auth: !['false', '0', 'no'].includes(authEnv),
    perMinute: int('SCOUT_RATE_LIMIT_PER_MINUTE', 60),
    burst,
    trustedProxies: list('SCOUT_HTTP_TRUSTED_PROXIES'),
    allowedHosts: [...own, ...list('SCOUT_HTTP_ALLOWED_HOSTS')],
    allowedOrigins: list('SCOUT_HTTP_ALLOWED_ORIGINS'),
    tools: toolSet(env),
  };
}

export interface RunningHttp {
  url: string;
  close(): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  tasks: ToolTasks;
  /** The grant it was opened with (grantOf): a request under other rights is not this session's. */
  grant: string;
  lastUsed: number;
}

/** Serve MCP over HTTP until closed. Refuses to start where it could not keep its promises (see the checks). */
export async function startHttp(opts: HttpOptions, env: NodeJS.ProcessEnv, log: Logger): Promise<RunningHttp> {
  const keyFile = keysPath(env);
  const keys = new KeyStore(keyFile, envKeys(env), (n, err) =>
    err ? log.error({ file: keyFile, err: err.message }, 'the key file cannot be read: its keys are refused until it is mended') : log.info({ file: keyFile, keys: n }, 'keys loaded'),
  );
  if (env.SCOUT_API_KEYS) log.warn('SCOUT_API_KEYS holds secrets in the environment, where other tools can read them: prefer `scoutctl keys add`');
  const oauthCfg = oauthConfigFromEnv(env);
  const oauth = oauthCfg ? new OAuthVerifier(oauthCfg) : undefined;
  const loopback = isLoopbackHost(opts.host);
  if (!loopback && !opts.auth) throw new Error(`refusing to serve ${opts.host} with SCOUT_AUTH_ENABLED=false: bind 127.0.0.1 or enable auth`);
  if (!loopback && keys.size === 0 && !oauth) throw new Error(`refusing to serve ${opts.host} without authentication: add a key (scoutctl keys add NAME) or bind 127.0.0.1`);
  // Decided per request: a key added to a loopback server started without one turns auth on from the next;
  // beyond loopback auth stays on even if every key is removed (then nobody gets in).
  const authOn = (): boolean => opts.auth && (keys.size > 0 || oauth !== undefined || !loopback);
  if (!authOn()) log.warn(`${opts.auth ? 'no API key exists' : 'SCOUT_AUTH_ENABLED=false'}: every local user of this machine can use this server (add a key: scoutctl keys add NAME)`);

  const limiter = new RateLimiter({ perMinute: opts.perMinute, burst: opts.burst });
  const failures = new RateLimiter(FAILED_AUTH_RATE);
  const links = new Map<string, DaemonLink>();
  const sessions = new Map<string, Session>();
  const linkFor = (p: Principal): DaemonLink => {
    const { grant, id } = grantOf(p);
    let link = links.get(id);
    if (!link) {
      link = new DaemonLink({ env, clientName: `scout-mcp ${p.name}`, grant });
      links.set(id, link);
    }
    return link;
  };

  // RFC 9728 §3.1: the well-known segment goes between the resource's origin and its path.
  const metaUrl = oauthCfg ? metadataUrl(oauthCfg.resourceUrl) : undefined;
  const authenticate = async (req: http.IncomingMessage): Promise<Principal | { status: 401 | 503; error: string; challenge?: string }> => {
    if (!authOn()) return { name: 'anonymous', hosts: ['*'], readOnly: false };
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const apiKey = header(req, 'x-api-key') ?? bearer;
    if (!apiKey) return { status: 401, error: 'Missing API key', challenge: metaUrl && wwwAuthenticate(metaUrl) };
    const holder = keys.find(apiKey);
    if (holder) return { name: `key:${holder.name}`, hosts: holder.hosts, readOnly: holder.readOnly, tools: holder.tools, rate: holder.rate };
    if (oauth && bearer && bearer.split('.').length === 3) {
      try {
        return await oauth.verify(bearer);
      } catch (err) {
        // The authorization server not answering is not the token's fault: 503, and the reason in our log.
        if (err instanceof OAuthError && err.code === 'unavailable') {
          log.error({ err: err.message }, 'cannot check access tokens: the authorization server is unavailable');
          return { status: 503, error: 'the authorization server cannot be reached to check the token; try again later' };
        }
        const why = err instanceof OAuthError ? err.message : 'the access token could not be checked';
        log.warn({ err: why }, 'refused an access token');
        return { status: 401, error: why, challenge: metaUrl && wwwAuthenticate(metaUrl, 'invalid_token', why) };
      }
    }
    log.warn({ from: req.socket.remoteAddress }, 'refused a request with an unknown API key');
    return { status: 401, error: 'Invalid API key', challenge: metaUrl && wwwAuthenticate(metaUrl, 'invalid_token') };
  };

  const clientAddress = (req: http.IncomingMessage): string => {
    const peer = req.socket.remoteAddress ?? '';
    if (!opts.trustedProxies.includes(peer)) return peer;
    // The rightmost address a trusted proxy did not add is the client (the left part is the client's own say).
    const hops = (header(req, 'x-forwarded-for') ?? '').split(',').map((s) => s.trim());
    for (let i = hops.length - 1; i >= 0; i--) if (hops[i] && !opts.trustedProxies.includes(hops[i])) return hops[i];
    return peer;
  };

  const openSession = async (p: Principal): Promise<StreamableHTTPServerTransport> => {
    const link = linkFor(p);
    const tasks = new ToolTasks(link);
    const allowed = p.tools ? new Set(p.tools) : undefined;
    const server = createServer(link, opts.tools, tasks, allowed && ((name) => allowed.has(name)));
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, tasks, grant: grantOf(p).id, lastUsed: Date.now() });
        if (sessions.size > MAX_SESSIONS) void closeSession(sessions.keys().next().value!);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
      tasks.close();
    };
    await server.connect(transport);
    return transport;
  };
  const closeSession = async (id: string): Promise<void> => {
    const s = sessions.get(id);
    sessions.delete(id);
    await s?.transport.close();
  };
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, s] of sessions) if (now - s.lastUsed > SESSION_IDLE_MS) void closeSession(id);
  }, 60_000).unref();

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://scout');
    if (url.pathname === '/health' && req.method === 'GET') return json(res, 200, { status: 'ok', version: packageVersion() });
    if (url.pathname.startsWith('/.well-known/oauth-protected-resource')) {
      if (!oauth) return json(res, 404, { error: 'OAuth is not configured on this server' });
      return json(res, 200, oauth.metadata());
    }
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    if (opts.allowedHosts.length > 0 && !opts.allowedHosts.includes(hostHeader)) return json(res, 403, { error: `Host '${hostHeader.slice(0, 100)}' is not allowed` });
    const origin = header(req, 'origin');
    if (origin !== undefined && !opts.allowedOrigins.includes(origin)) return json(res, 403, { error: `Origin '${origin.slice(0, 100)}' is not allowed` });
    if (url.pathname !== '/mcp') return json(res, 404, { error: 'not found: MCP is served at /mcp' });

    const who = await authenticate(req);
    if ('status' in who) {
      // Failed attempts are limited per address too, so guessing costs the guesser, not our log and CPU.
      const again = failures.take(clientAddress(req));
      if (!again.ok && who.status === 401) return tooMany(res, again.retryAfterSeconds);
      if (who.challenge) res.setHeader('WWW-Authenticate', who.challenge);
      return json(res, who.status, { error: who.error });
    }
    const taken = limiter.take(who.name !== 'anonymous' ? who.name : `address:${clientAddress(req)}`, who.rate);
    if (!taken.ok) return tooMany(res, taken.retryAfterSeconds);

    let body: unknown;
    if (req.method === 'POST') {
      const read = await readBody(req);
      if (read === 'too-large') {
        res.setHeader('Connection', 'close');
        return json(res, 413, rpcError(-32600, `request body over ${MAX_BODY_BYTES} bytes`));
      }
      if (read === 'bad-json') return json(res, 400, rpcError(-32700, 'the body is not valid JSON'));
      body = read.value;
    }
    const sid = header(req, 'mcp-session-id');
    if (sid) {
      const s = sessions.get(sid);
      // Another key's session is as unknown as a closed one: a session id is not a credential. So is a session
      // opened before this key's rights were edited in the key file: the client opens a new one under the new.
      if (!s || s.grant !== grantOf(who).id) return json(res, 404, rpcError(-32001, 'Session not found'));
      s.lastUsed = Date.now();
      return s.transport.handleRequest(req, res, body);
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) return json(res, 400, rpcError(-32000, 'Bad Request: no valid session ID (send initialize first)'));
    const transport = await openSession(who);
    return transport.handleRequest(req, res, body);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err: (err as Error)?.message }, 'an HTTP request failed');
      if (!res.headersSent) json(res, 500, rpcError(-32603, 'internal error'));
      else res.end();
    });
  });
  // Many sessions each hold an open SSE GET: no per-server socket cap beyond the OS's.
  server.maxConnections = 10_000;
  server.headersTimeout = 30_000;
  server.requestTimeout = 0; // SSE streams and long tool calls stay open; the SDK ends them.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address() as net.AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${shown}:${addr.port}/mcp`;
  if (opts.port === 0) opts.allowedHosts.push(`127.0.0.1:${addr.port}`, `localhost:${addr.port}`, `[::1]:${addr.port}`);
  log.info({ url, auth: authOn() ? (oauth ? 'keys+oauth' : 'keys') : 'off', keys: keys.size }, 'scout-mcp serving MCP over HTTP');
  return {
    url,
    close: async () => {
      clearInterval(sweep);
      await Promise.all([...sessions.keys()].map(closeSession));
      for (const l of links.values()) l.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** 429 with Retry-After and a JSON-RPC error body (the Python Scout MCP's message). */
function tooMany(res: http.ServerResponse, retryAfterSeconds: number): void {
  res.setHeader('Retry-After', String(retryAfterSeconds));
  const message = `Rate limit exceeded. Retry after ${retryAfterSeconds} seconds.`;
  json(res, 429, { jsonrpc: '2.0', id: null, error: { code: ScoutCodes.RATE_LIMITED, message, data: { code: 'RATE_LIMITED', retryAfterSeconds } } });
}

function metadataUrl(resource: string): string {
  const u = new URL(resource);
  return `${u.origin}/.well-known/oauth-protected-resource${u.pathname === '/' ? '' : u.pathname}`;
}

/** What a principal may do at the daemon, and its rights (that and its tools) as one comparable string. */
function grantOf(p: Principal): { grant: Grant; id: string } {
  const grant: Grant = { name: p.name, hosts: p.hosts, readOnly: p.readOnly };
  return { grant, id: JSON.stringify([grant, p.tools ?? null]) };
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const rpcError = (code: number, message: string) => ({ jsonrpc: '2.0', id: null, error: { code, message } });

/** The body, bounded: past MAX_BODY_BYTES the rest is not read (the connection closes after the 413). */
async function readBody(req: http.IncomingMessage): Promise<{ value: unknown } | 'too-large' | 'bad-json'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) return 'too-large';
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > MAX_BODY_BYTES) return 'too-large';
    chunks.push(chunk);
  }
  try {
    return { value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return 'bad-json';
  }
}
