/** OIDC discovery: the JWKS URL comes from the issuer's openid-configuration, which must name exactly that issuer. */
import { beforeEach, describe, expect, it } from 'vitest';
import { compileOrThrow } from '../helpers/gateway.ts';
import { useKeyScenario } from '../helpers/key-scenario.ts';

const t = useKeyScenario({ issuer: { jwks_uri: undefined, discovery: true } });
let configUrl: string;
beforeEach(() => {
  configUrl = `${t.s.iss}/.well-known/openid-configuration`;
});

const reasons = () => t.warnings.map((w) => (JSON.parse(w) as { reason?: string }).reason ?? '').join('\n');
const serveConfig = (body: object, maxAge = 3600) =>
  t.s.world.serve(configUrl, () => Response.json(body, { headers: { 'cache-control': `max-age=${maxAge}` } }));

describe('OIDC discovery', () => {
  it('compiles to the configuration URL below the issuer', () => {
    const config = compileOrThrow(JSON.stringify(t.s.policy));
    expect(config.issuers[t.s.id]!.keySource).toEqual({ kind: 'discovery', url: configUrl });
  });

  it('finds the JWKS through the document, and caches the document in the layers like the keys', async () => {
    serveConfig({ issuer: t.s.iss, jwks_uri: t.s.jwksUrl });
    expect((await t.s.call(t.s.token())).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('network');
    expect([t.s.fetches(configUrl), t.s.fetches()]).toEqual([1, 1]);
    // A cold isolate: keys from the Cache API, no fetch at all.
    expect((await t.s.call(t.s.token(), t.s.newIsolate())).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('cache');
    // The key set expires (300 s), the document (3600 s) does not: a cold isolate refetches only the keys.
    t.s.clock.advance(301);
    expect((await t.s.call(t.s.token(), t.s.newIsolate())).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('network');
    expect([t.s.fetches(configUrl), t.s.fetches()]).toEqual([1, 2]);
  });

  it('a cold burst of 20 concurrent requests costs one document fetch and one key-set fetch', async () => {
    serveConfig({ issuer: t.s.iss, jwks_uri: t.s.jwksUrl });
    const tokens = await Promise.all(Array.from({ length: 20 }, () => t.s.token()));
    const responses = await Promise.all(tokens.map((token) => t.s.call(token)));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect([t.s.fetches(configUrl), t.s.fetches()]).toEqual([1, 1]);
  });

  it.each([
    ['another issuer', (iss: string) => ({ issuer: 'https://evil.example', jwks_uri: `${iss}/jwks` }), 'discovery: issuer "https://evil.example" is not the configured issuer'],
    ['the issuer with a trailing slash', (iss: string) => ({ issuer: `${iss}/`, jwks_uri: `${iss}/jwks` }), 'is not the configured issuer'],
    ['a plain-http jwks_uri', (iss: string) => ({ issuer: iss, jwks_uri: `${iss.replace('https:', 'http:')}/jwks` }), 'discovery: jwks_uri is not https'],
    ['no jwks_uri', (iss: string) => ({ issuer: iss }), 'discovery: no jwks_uri'],
  ])('refuses a document naming %s: 503, and the JWKS is never fetched', async (_name, body, reason) => {
    serveConfig(body(t.s.iss));
    const response = await t.s.call(t.s.token());
    expect(response.status).toBe(503);
    expect(t.logs.last().findings[0]).toMatchObject({ code: 'keys_unavailable' });
    expect(t.s.fetches()).toBe(0);
    expect(reasons()).toContain(reason);
  });

  it('a hostile document after a good one keeps the last good jwks_uri', async () => {
    serveConfig({ issuer: t.s.iss, jwks_uri: t.s.jwksUrl }, 60);
    await t.s.call(t.s.token());
    serveConfig({ issuer: 'https://evil.example', jwks_uri: 'https://evil.example/jwks' });
    t.s.clock.advance(301);
    expect((await t.s.call(t.s.token())).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('network');
    expect(t.s.fetches()).toBe(2);
    expect(reasons()).toContain('is not the configured issuer');
  });

  it('refuses a policy that gives discovery and jwks_uri, or discovery for a plain-http issuer', () => {
    expect(() => compileOrThrow(JSON.stringify({ issuers: { a: { issuer: 'https://a.example', discovery: true, jwks_uri: 'https://a.example/j' } } }))).toThrow(
      'give exactly one of "jwks_uri", "keys" and "discovery"',
    );
    expect(() => compileOrThrow(JSON.stringify({ issuers: { a: { issuer: 'http://a.example', discovery: true } } }))).toThrow('must be https');
  });

  it('key_cache: min_seconds above max_seconds is refused; the defaults stay out of the compiled issuer', () => {
    const issuer = { issuer: 'https://a.example', jwks_uri: 'https://a.example/j' };
    expect(() => compileOrThrow(JSON.stringify({ issuers: { a: { ...issuer, key_cache: { min_seconds: 600, max_seconds: 300 } } } }))).toThrow(
      '/issuers/a/key_cache: min_seconds is larger than max_seconds',
    );
    expect(compileOrThrow(JSON.stringify({ issuers: { a: issuer } })).issuers.a!.keyCache).toBeUndefined();
    expect(compileOrThrow(JSON.stringify({ issuers: { a: { ...issuer, key_cache: { stale_if_error_seconds: 0 } } } })).issuers.a!.keyCache).toEqual({
      minSeconds: 60,
      maxSeconds: 86400,
      staleIfErrorSeconds: 0,
    });
  });
});
