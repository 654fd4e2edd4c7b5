import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, type JWTPayload, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthError, OAuthVerifier, discoveryUrls, oauthConfigFromEnv, wwwAuthenticate } from './http-oauth.js';

const AUDIENCE = 'https://scout.example/mcp';

/** A real authorization server on loopback: metadata at the well-known paths it is told to serve, and a JWKS. */
async function authServer(serve: { oauth: boolean; openid: boolean; issuerOverride?: string }) {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const requests: string[] = [];
  let origin = '';
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push(path);
    const send = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const meta = { issuer: serve.issuerOverride ?? origin, jwks_uri: `${origin}/jwks`, token_endpoint: `${origin}/token` };
    if (path === '/.well-known/oauth-authorization-server' && serve.oauth) return send(meta);
    if (path === '/.well-known/openid-configuration' && serve.openid) return send(meta);
    if (path === '/jwks') return send({ keys: [jwk] });
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = origin;
  /** A token from this server: alice, for AUDIENCE, valid five minutes, unless the claims say otherwise. */
  const sign = (claims: JWTPayload, opts: { key?: CryptoKey; kid?: string } = {}): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: issuer, aud: AUDIENCE, sub: 'alice', iat: now, exp: now + 300, ...claims }).setProtectedHeader({ alg: 'ES256', kid: opts.kid ?? 'k1' }).sign(opts.key ?? privateKey);
  };
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { issuer, origin, requests, sign, close };
}

type AuthServer = Awaited<ReturnType<typeof authServer>>;

/** What verify threw, as an OAuthError. */
async function refusal(v: OAuthVerifier, token: string): Promise<OAuthError> {
  const err = await v.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OAuthError);
  return err as OAuthError;
}

describe('OAuthVerifier', () => {
  let as: AuthServer;
  let verifier: OAuthVerifier;
  beforeAll(async () => {
    as = await authServer({ oauth: true, openid: false });
    verifier = new OAuthVerifier({ issuer: as.issuer, audience: AUDIENCE, resourceUrl: AUDIENCE });
  });
  afterAll(() => as.close());

  it('turns a token scoped to one host into a read-only principal for that host', async () => {
    const p = await verifier.verify(await as.sign({ scope: 'openid scout:hosts:web1' }));
    expect(p).toEqual({ name: 'oauth:alice', hosts: ['web1'], readOnly: true });
  });

  it('lifts read-only with scout:write, and takes patterns from scope and scp', async () => {
    const p = await verifier.verify(await as.sign({ scope: 'scout:write scout:hosts:web1', scp: ['scout:hosts:db*', 'scout:hosts:web1'] }));
    expect(p).toEqual({ name: 'oauth:alice', hosts: ['web1', 'db*'], readOnly: false });
  });

  it('gives a token without a hosts scope no host at all', async () => {
    expect((await verifier.verify(await as.sign({ scope: 'scout:write' }))).hosts).toEqual([]);
  });

  it('names a client without a subject by its client_id, and keeps odd subjects apart', async () => {
    expect((await verifier.verify(await as.sign({ sub: undefined, client_id: 'ci-bot' }))).name).toBe('oauth:ci-bot');
    const a = (await verifier.verify(await as.sign({ sub: 'Zoë Ünal' }))).name;
    const b = (await verifier.verify(await as.sign({ sub: 'Zoë Unal' }))).name;
    const long = (await verifier.verify(await as.sign({ sub: 'x'.repeat(500) }))).name;
    for (const n of [a, b, long]) expect(n).toMatch(/^oauth:[A-Za-z0-9._:@-]{1,94}$/);
    expect(a).not.toBe(b);
    expect(long).toHaveLength(100);
    expect((await refusal(verifier, await as.sign({ sub: undefined }))).message).toBe('the access token names no subject (sub, client_id or azp)');
  });

  it('refuses an expired token, but forgives a little clock skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await refusal(verifier, await as.sign({ exp: now - 120 }))).message).toBe('the access token has expired');
    await expect(verifier.verify(await as.sign({ exp: now - 10 }))).resolves.toBeTruthy();
  });

  it('refuses a token without an expiry', async () => {
    expect((await refusal(verifier, await as.sign({ exp: undefined }))).message).toBe('the access token has no valid expiry time');
  });

  it('refuses a token for another audience or from another issuer', async () => {
    expect((await refusal(verifier, await as.sign({ aud: 'https://other.example/mcp' }))).message).toBe('the access token is for another audience');
    expect((await refusal(verifier, await as.sign({ iss: 'https://evil.example' }))).message).toBe('the access token is from another issuer');
  });

  it('refuses a token signed by another key', async () => {
    const other = await generateKeyPair('ES256');
    const sameKid = await refusal(verifier, await as.sign({}, { key: other.privateKey }));
    expect(sameKid.message).toBe("the access token's signature does not verify");
    const otherKid = await refusal(verifier, await as.sign({}, { key: other.privateKey, kid: 'k2' }));
    expect(otherKid.message).toBe('the access token is signed with a key the authorization server does not publish');
  });

  it('refuses garbage', async () => {
    for (const token of ['not-a-token', 'a.b.c', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.']) {
      const err = await refusal(verifier, token);
      expect(err.code).toBe('invalid_token');
      expect(err.message).toMatch(/^the access token (is not a well-formed JWT|is signed with an algorithm this server does not accept)$/);
    }
  });

  it('never puts the token in its messages', async () => {
    const other = await generateKeyPair('ES256');
    const now = Math.floor(Date.now() / 1000);
    const tokens = [
      await as.sign({ exp: now - 120 }),
      await as.sign({ aud: 'x' }),
      await as.sign({ iss: 'y' }),
      await as.sign({}, { key: other.privateKey }),
      await as.sign({ sub: undefined }),
      'secret-garbage.secret-garbage.secret-garbage',
    ];
    for (const token of tokens) {
      const { message } = await refusal(verifier, token);
      for (const part of [token, ...token.split('.').filter((s) => s.length > 8)]) expect(message).not.toContain(part);
    }
  });

  it('discovers the key set once', async () => {
    const fresh = await authServer({ oauth: true, openid: true });
    try {
      const v = new OAuthVerifier({ issuer: fresh.issuer, audience: AUDIENCE, resourceUrl: AUDIENCE });
      await v.verify(await fresh.sign({}));
      await v.verify(await fresh.sign({}));
      expect(fresh.requests).toEqual(['/.well-known/oauth-authorization-server', '/jwks']);
    } finally {
      await fresh.close();
    }
  });

  it('falls back to openid-configuration', async () => {
    const oidc = await authServer({ oauth: false, openid: true });
    try {
      const v = new OAuthVerifier({ issuer: oidc.issuer, audience: AUDIENCE, resourceUrl: AUDIENCE });
      expect((await v.verify(await oidc.sign({ scope: 'scout:hosts:*' }))).hosts).toEqual(['*']);
      expect(oidc.requests).toEqual(['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/jwks']);
    } finally {
      await oidc.close();
    }
  });

  it('uses a configured key set without discovery', async () => {
    const direct = await authServer({ oauth: false, openid: false });
    try {
      const v = new OAuthVerifier({ issuer: direct.issuer, audience: AUDIENCE, resourceUrl: AUDIENCE, jwksUrl: `${direct.origin}/jwks` });
      await v.verify(await direct.sign({}));
      expect(direct.requests).toEqual(['/jwks']);
    } finally {
      await direct.close();
    }
  });

  it('refuses metadata that names another issuer, and says when the server cannot be reached', async () => {
    const liar = await authServer({ oauth: true, openid: false, issuerOverride: 'https://evil.example' });
    try {
      const v = new OAuthVerifier({ issuer: liar.issuer, audience: AUDIENCE, resourceUrl: AUDIENCE });
      const err = await refusal(v, await liar.sign({}));
      expect(err.code).toBe('unavailable');
      expect(err.message).toMatch(/is for another issuer than SCOUT_OAUTH_ISSUER/);
    } finally {
      await liar.close();
    }
    const gone = await authServer({ oauth: true, openid: true });
    await gone.close();
    const v = new OAuthVerifier({ issuer: gone.issuer, audience: AUDIENCE, resourceUrl: AUDIENCE });
    const err = await refusal(v, await gone.sign({}));
    expect(err.code).toBe('unavailable');
    expect(err.message).toMatch(/^the authorization server's metadata could not be found/);
  });

  it('publishes RFC 9728 metadata', () => {
    expect(verifier.metadata()).toEqual({
      resource: AUDIENCE,
      authorization_servers: [as.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['scout:hosts:*', 'scout:write'],
    });
  });
});

describe('discoveryUrls', () => {
  it('inserts the well-known segment before an issuer path (RFC 8414), then tries OIDC appending', () => {
    expect(discoveryUrls('https://as.example/')).toEqual(['https://as.example/.well-known/oauth-authorization-server', 'https://as.example/.well-known/openid-configuration']);
    expect(discoveryUrls('https://as.example/tenant/1/')).toEqual([
      'https://as.example/.well-known/oauth-authorization-server/tenant/1',
      'https://as.example/.well-known/openid-configuration/tenant/1',
      'https://as.example/tenant/1/.well-known/openid-configuration',
    ]);
  });
});

describe('wwwAuthenticate', () => {
  it('builds a Bearer challenge with quoted, escaped parameters', () => {
    const meta = 'https://scout.example/.well-known/oauth-protected-resource/mcp';
    expect(wwwAuthenticate(meta)).toBe(`Bearer resource_metadata="${meta}"`);
    expect(wwwAuthenticate(meta, 'invalid_token', 'say "hi" \\ bye\r\nX-Evil: 1')).toBe(
      `Bearer resource_metadata="${meta}", error="invalid_token", error_description="say \\"hi\\" \\\\ byeX-Evil: 1"`,
    );
  });
});

describe('oauthConfigFromEnv', () => {
  const base = { SCOUT_OAUTH_ISSUER: 'https://auth.example.com', SCOUT_OAUTH_RESOURCE_URL: AUDIENCE };

  it('is off without an issuer, and defaults the audience to the resource URL', () => {
    expect(oauthConfigFromEnv({})).toBeUndefined();
    expect(oauthConfigFromEnv(base)).toEqual({ issuer: 'https://auth.example.com', audience: AUDIENCE, resourceUrl: AUDIENCE });
    expect(oauthConfigFromEnv({ ...base, SCOUT_OAUTH_AUDIENCE: 'scout', SCOUT_OAUTH_JWKS_URL: 'https://auth.example.com/keys' })).toEqual({
      issuer: 'https://auth.example.com',
      audience: 'scout',
      resourceUrl: AUDIENCE,
      jwksUrl: 'https://auth.example.com/keys',
    });
    expect(oauthConfigFromEnv({ SCOUT_OAUTH_ISSUER: 'http://localhost:9000', SCOUT_OAUTH_RESOURCE_URL: 'http://127.0.0.1:8000/mcp' })?.issuer).toBe('http://localhost:9000');
  });

  it('refuses settings it cannot honour, naming the variable', () => {
    expect(() => oauthConfigFromEnv({ SCOUT_OAUTH_ISSUER: 'https://auth.example.com' })).toThrow(/SCOUT_OAUTH_RESOURCE_URL is not/);
    expect(() => oauthConfigFromEnv({ ...base, SCOUT_OAUTH_RESOURCE_URL: 'scout.example/mcp' })).toThrow(/SCOUT_OAUTH_RESOURCE_URL must be a URL/);
    expect(() => oauthConfigFromEnv({ ...base, SCOUT_OAUTH_ISSUER: 'http://auth.example.com' })).toThrow(/SCOUT_OAUTH_ISSUER must be an https URL/);
    expect(() => oauthConfigFromEnv({ ...base, SCOUT_OAUTH_ISSUER: 'https://auth.example.com?tenant=1' })).toThrow(/SCOUT_OAUTH_ISSUER must have no query/);
    expect(() => oauthConfigFromEnv({ ...base, SCOUT_OAUTH_JWKS_URL: 'http://10.0.0.1/keys' })).toThrow(/SCOUT_OAUTH_JWKS_URL must be an https URL/);
    expect(() => oauthConfigFromEnv({ SCOUT_OAUTH_RESOURCE_URL: AUDIENCE })).toThrow(/SCOUT_OAUTH_RESOURCE_URL is set but SCOUT_OAUTH_ISSUER is not/);
  });
});
