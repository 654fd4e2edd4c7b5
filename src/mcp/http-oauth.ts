// OAuth 2.1 resource-server mode for scout-mcp --http: accept bearer access tokens (JWTs) that a configured
// authorization server issued for this resource, and publish RFC 9728 protected-resource metadata so MCP clients
// can find that server. Scopes are the policy: `scout:hosts:<pattern>` (repeatable) grants the hosts a fleet
// pattern matches (`web1`, `web*`, `db[12]`, `*` for all); without one a token reaches no host. `scout:write`
// lifts read-only. The verifier never puts the token, or any claim from it, in an error message: messages reach
// logs and the WWW-Authenticate header.
import crypto from 'node:crypto';
import { isLoopbackHost } from '../protocol/values.js';
import { type JWTPayload, type JWTVerifyGetKey, createRemoteJWKSet, errors, jwtVerify } from 'jose';

export interface OAuthConfig {
  /** The authorization server's issuer identifier; a token's `iss` must equal it exactly. */
  issuer: string;
  /** What a token's `aud` must include: this resource's URL, e.g. https://scout.example/mcp. */
  audience: string;
  /** The key set; absent, it is discovered from the issuer's metadata. */
  jwksUrl?: string;
  /** The public base URL of the MCP endpoint, as clients reach it. */
  resourceUrl: string;
}

/** Who a token speaks for, and what it may reach. */
export interface Principal {
  /** `oauth:<sub>` (or client_id / azp), as the audit log and refusals name it. */
  name: string;
  /** Aliases or fleet patterns; empty: no host at all. */
  hosts: string[];
  readOnly: boolean;
  tools?: string[];
}

/** RFC 9728 protected-resource metadata. */
export interface ResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: string[];
  scopes_supported: string[];
}

/**
 * A token refused, in a sentence that is safe to show the client. `unavailable`: not the token's fault, the
 * authorization server's metadata or keys could not be had (a 503 is fairer than a 401; log it).
 */
export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  constructor(
    message: string,
    readonly code: 'invalid_token' | 'unavailable' = 'invalid_token',
  ) {
    super(message);
  }
}

/** Metadata and key-set requests give up after this: a request waits on them. */
const FETCH_TIMEOUT_MS = 5_000;
/** Clock skew forgiven on exp and nbf, in seconds: enough for unsynchronised hosts, short enough not to extend a token. */
const CLOCK_TOLERANCE_S = 30;
/** A failed discovery is answered from memory this long, so a flood of tokens cannot hammer a failing server. */
const DISCOVERY_RETRY_MS = 10_000;
/** Asymmetric algorithms only: a public key set must never verify an HMAC (the key would be public). */
const ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519'];
const HOSTS_SCOPE = 'scout:hosts:';
const WRITE_SCOPE = 'scout:write';
/** The daemon's grant takes at most 1000 patterns of 255 characters (protocol/methods/daemon.ts). */
const MAX_PATTERNS = 1000;
const MAX_PATTERN_CHARS = 255;
const MAX_NAME_CHARS = 100;

/** SCOUT_OAUTH_*; undefined when no issuer is set. A setting that cannot be honoured throws, naming the variable. */
export function oauthConfigFromEnv(env: NodeJS.ProcessEnv): OAuthConfig | undefined {
  const get = (name: string): string | undefined => env[name]?.trim() || undefined;
  const issuer = get('SCOUT_OAUTH_ISSUER');
  if (!issuer) {
    const stray = ['SCOUT_OAUTH_AUDIENCE', 'SCOUT_OAUTH_JWKS_URL', 'SCOUT_OAUTH_RESOURCE_URL'].find(get);
    if (stray) throw new Error(`${stray} is set but SCOUT_OAUTH_ISSUER is not: set the authorization server's issuer URL, or unset ${stray}`);
    return undefined;
  }
  if (serverUrl(issuer, 'SCOUT_OAUTH_ISSUER').search) throw new Error(`SCOUT_OAUTH_ISSUER must have no query (RFC 8414), got '${issuer}'`);
  const resourceUrl = get('SCOUT_OAUTH_RESOURCE_URL');
  if (!resourceUrl) throw new Error('SCOUT_OAUTH_ISSUER is set but SCOUT_OAUTH_RESOURCE_URL is not: set it to the public URL of this MCP endpoint, e.g. https://scout.example/mcp');
  serverUrl(resourceUrl, 'SCOUT_OAUTH_RESOURCE_URL');
  const jwksUrl = get('SCOUT_OAUTH_JWKS_URL');
  if (jwksUrl) serverUrl(jwksUrl, 'SCOUT_OAUTH_JWKS_URL');
  return { issuer, audience: get('SCOUT_OAUTH_AUDIENCE') ?? resourceUrl, resourceUrl, ...(jwksUrl ? { jwksUrl } : {}) };
}

/** An https URL without fragment; plain http only on loopback, where nothing crosses the network. */
function serverUrl(value: string, what: string): URL {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new Error(`${what} must be a URL such as https://auth.example.com, got '${value}'`);
  }
  const loopback = u.protocol === 'http:' && isLoopbackHost(u.hostname.replace(/^\[(.*)\]$/, '$1'));
  if (u.protocol !== 'https:' && !loopback) throw new Error(`${what} must be an https URL (plain http only on loopback: 127.x, localhost, [::1]), got '${value}'`);
  if (u.hash) throw new Error(`${what} must have no fragment, got '${value}'`);
  return u;
}

/**
 * Where the issuer's metadata may be, in order. RFC 8414 puts the well-known segment between host and path
 * (https://as.example/.well-known/oauth-authorization-server/tenant1); OpenID Connect providers are tried that
 * way and then with it appended to the path, as OIDC Discovery defines it and the MCP spec lists it.
 */
export function discoveryUrls(issuer: string): string[] {
  const u = new URL(issuer);
  const path = u.pathname.replace(/\/+$/, '');
  const inserted = (name: string): string => `${u.origin}/.well-known/${name}${path}`;
  const urls = [inserted('oauth-authorization-server'), inserted('openid-configuration')];
  if (path) urls.push(`${u.origin}${path}/.well-known/openid-configuration`);
  return urls;
}

export class OAuthVerifier {
  private jwks?: Promise<JWTVerifyGetKey>;
  private retryAt?: number;

  constructor(private readonly cfg: OAuthConfig) {}

  /** The principal of a valid token; otherwise an OAuthError. */
  async verify(token: string): Promise<Principal> {
    // The key set is fetched only once the token has parsed: garbage is refused without a network round trip.
    const getKey: JWTVerifyGetKey = async (header, jws) => (await this.keySet())(header, jws);
    const options = { issuer: this.cfg.issuer, audience: this.cfg.audience, clockTolerance: CLOCK_TOLERANCE_S, requiredClaims: ['exp'], algorithms: ALGORITHMS };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, options));
    } catch (err) {
      throw refusal(err);
    }
    return principalOf(payload);
  }

  metadata(): ResourceMetadata {
    return {
      resource: this.cfg.resourceUrl,
      authorization_servers: [this.cfg.issuer],
      bearer_methods_supported: ['header'],
      // `scout:hosts:<pattern>` is a family (any alias or fleet pattern); `scout:hosts:*` is its widest member,
      // listed so a client that asks for every listed scope gets a usable token and the server narrows it.
      scopes_supported: [`${HOSTS_SCOPE}*`, WRITE_SCOPE],
    };
  }

  /** The remote key set, located once (lazily) and shared; jose caches its keys and refetches for a new kid. */
  private keySet(): Promise<JWTVerifyGetKey> {
    if (this.jwks && this.retryAt !== undefined && Date.now() >= this.retryAt) this.jwks = undefined;
    if (!this.jwks) {
      this.retryAt = undefined;
      const p = this.locate().then((url) => createRemoteJWKSet(url, { timeoutDuration: FETCH_TIMEOUT_MS }));
      p.catch(() => {
        if (this.jwks === p) this.retryAt = Date.now() + DISCOVERY_RETRY_MS;
      });
      this.jwks = p;
    }
    return this.jwks;
  }

  private async locate(): Promise<URL> {
    if (this.cfg.jwksUrl) return new URL(this.cfg.jwksUrl);
    const misses: string[] = [];
    for (const url of discoveryUrls(this.cfg.issuer)) {
      const meta = await fetchJson(url);
      if (typeof meta === 'string' || typeof meta.jwks_uri !== 'string') {
        misses.push(`${url}: ${typeof meta === 'string' ? meta : 'no jwks_uri'}`);
        continue;
      }
      // RFC 8414 §3.3: metadata naming another issuer must not be used (it would trust that issuer's keys).
      if (meta.issuer !== this.cfg.issuer) throw new OAuthError(`the authorization server's metadata at ${url} is for another issuer than SCOUT_OAUTH_ISSUER`, 'unavailable');
      try {
        return serverUrl(meta.jwks_uri, `the jwks_uri of ${url}`);
      } catch (err) {
        throw new OAuthError((err as Error).message, 'unavailable');
      }
    }
    throw new OAuthError(`the authorization server's metadata could not be found (${misses.join('; ')})`, 'unavailable');
  }
}

/** The JSON object at `url`, or why there is none. */
async function fetchJson(url: string): Promise<Record<string, unknown> | string> {
  try {
    const res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!res.ok) {
      await res.body?.cancel();
      return `HTTP ${res.status}`;
    }
    const doc: unknown = await res.json();
    return typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : 'not a JSON object';
  } catch (err) {
    return (err as Error).message;
  }
}

/** jose's error codes, and the claims it checks, as sentences; none of them quotes the token. */
const TOKEN_FAULTS = new Map<string, string>([
  ['ERR_JWT_EXPIRED', 'the access token has expired'],
  ['ERR_JWS_SIGNATURE_VERIFICATION_FAILED', "the access token's signature does not verify"],
  ['ERR_JWKS_MULTIPLE_MATCHING_KEYS', "the access token's signature does not verify"],
  ['ERR_JWKS_NO_MATCHING_KEY', 'the access token is signed with a key the authorization server does not publish'],
  ['ERR_JOSE_ALG_NOT_ALLOWED', 'the access token is signed with an algorithm this server does not accept'],
  ['ERR_JOSE_NOT_SUPPORTED', 'the access token is signed with an algorithm this server does not accept'],
  ['ERR_JWS_INVALID', 'the access token is not a well-formed JWT'],
  ['ERR_JWT_INVALID', 'the access token is not a well-formed JWT'],
  ['claim iss', 'the access token is from another issuer'],
  ['claim aud', 'the access token is for another audience'],
  ['claim exp', 'the access token has no valid expiry time'],
  ['claim nbf', 'the access token is not valid yet'],
  ['claim iat', "the access token's issue time is not valid"],
]);
/** Not the token's fault: the key set could not be had. */
const SERVER_FAULTS = new Map<string, string>([
  ['ERR_JWKS_TIMEOUT', `the authorization server's key set did not answer within ${FETCH_TIMEOUT_MS / 1000} s`],
  ['ERR_JWKS_INVALID', "the authorization server's key set is not valid"],
]);

function refusal(err: unknown): OAuthError {
  if (err instanceof OAuthError) return err;
  if (err instanceof errors.JWTClaimValidationFailed) return new OAuthError(TOKEN_FAULTS.get(`claim ${err.claim}`) ?? "the access token's claims are not valid");
  const code = err instanceof errors.JOSEError ? err.code : '';
  const fault = TOKEN_FAULTS.get(code);
  if (fault) return new OAuthError(fault);
  // What remains is the key set's fetch: a network error, or a status other than 200.
  return new OAuthError(SERVER_FAULTS.get(code) ?? "the authorization server's key set could not be fetched", 'unavailable');
}

function principalOf(p: JWTPayload): Principal {
  const subject = [p.sub, p.client_id, p.azp].find((v): v is string => typeof v === 'string' && v !== '');
  if (!subject) throw new OAuthError('the access token names no subject (sub, client_id or azp)');
  const hosts = new Set<string>();
  let write = false;
  for (const scope of scopesOf(p)) {
    if (scope === WRITE_SCOPE) write = true;
    else if (scope.startsWith(HOSTS_SCOPE) && scope.length > HOSTS_SCOPE.length) hosts.add(scope.slice(HOSTS_SCOPE.length));
  }
  if (hosts.size > MAX_PATTERNS) throw new OAuthError(`the access token grants more than ${MAX_PATTERNS} host patterns`);
  if ([...hosts].some((h) => h.length > MAX_PATTERN_CHARS)) throw new OAuthError(`the access token grants a host pattern longer than ${MAX_PATTERN_CHARS} characters`);
  return { name: principalName(subject), hosts: [...hosts], readOnly: !write };
}

/** `scope` (space-separated, RFC 8693 / RFC 9068) and `scp` (an array, or a string, as some servers send it). */
function scopesOf(p: JWTPayload): string[] {
  const out: string[] = [];
  for (const claim of [p.scope, p.scp]) {
    if (typeof claim === 'string') out.push(...claim.split(' '));
    else if (Array.isArray(claim)) for (const s of claim) if (typeof s === 'string') out.push(s);
  }
  return out.filter(Boolean);
}

/**
 * `oauth:<subject>`, only [A-Za-z0-9._:@-], at most 100 characters. The name keys the rate limit and the audit
 * log, so when characters were dropped or cut, a digest of the whole subject is appended: `oauth:` alone for every
 * subject in another script, or two long ids sharing 100 characters, would be one principal.
 */
function principalName(subject: string): string {
  const full = `oauth:${subject}`;
  const kept = full.replace(/[^A-Za-z0-9._:@-]/g, '');
  if (kept === full && kept.length <= MAX_NAME_CHARS) return kept;
  const tag = `-${crypto.createHash('sha256').update(subject, 'utf8').digest('hex').slice(0, 12)}`;
  return kept.slice(0, MAX_NAME_CHARS - tag.length) + tag;
}

/** A `WWW-Authenticate` value for a refused request (RFC 6750 §3, RFC 9728 §5.1). */
export function wwwAuthenticate(resourceMetadataUrl: string, error?: 'invalid_token' | 'insufficient_scope', description?: string): string {
  const params = [`resource_metadata=${quoted(resourceMetadataUrl)}`];
  if (error) params.push(`error=${quoted(error)}`);
  if (description) params.push(`error_description=${quoted(description)}`);
  return `Bearer ${params.join(', ')}`;
}

/** An RFC 9110 quoted-string: `"` and `\` escaped; characters a header cannot carry (CR, LF, non-ASCII) dropped. */
function quoted(s: string): string {
  return `"${s.replace(/[^\x20-\x7e]/g, '').replace(/["\\]/g, '\\$&')}"`;
}
