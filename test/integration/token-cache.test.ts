/**
 * The verified-token cache through the real verify path (and the Gateway): a hit skips the signature, never
 * the claim checks, and dies with its key. Signature verifications are counted with a spy on WebCrypto's
 * verify, the only place a signature is checked; the clock is the `now` argument, never a timer.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CompiledConfig } from '../../src/config/types.ts';
import { KeyStore } from '../../src/keys/key-store.ts';
import { authenticate } from '../../src/verify/authenticate.ts';
import { TokenCache } from '../../src/verify/token-cache.ts';
import { bearer, compileOrThrow, gatewayFor, send } from '../helpers/gateway.ts';
import { jwksOf, makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';
import { RecordCapture } from '../helpers/records.ts';

const JWKS = 'https://idp.example/.well-known/jwks.json';
const ISS = 'https://idp.example/';
let k1: TestKey;
let k2: TestKey;
let world: OutsideWorld;
let logs: RecordCapture;
let verifies: ReturnType<typeof vi.spyOn>;

const policy = {
  issuers: {
    idp: { issuer: ISS, jwks_uri: JWKS },
    other: { issuer: 'https://other.example/', jwks_uri: 'https://other.example/jwks' },
  },
  routes: {
    billing: { path: '/billing/*', issuers: ['idp'], audiences: ['api'], app: 'billing', origin: 'https://origin.example' },
    admin: { path: '/billing/admin/*', issuers: ['idp'], audiences: ['api'], app: 'billing', scopes: ['admin'], origin: 'https://origin.example' },
    reports: { path: '/reports/*', issuers: ['idp'], audiences: ['api'], app: 'reports', origin: 'https://origin.example' },
    partners: { path: '/partners/*', issuers: ['other'], audiences: ['api'], origin: 'https://origin.example' },
  },
};
const claims = (now: number, extra: object = {}) => ({ iss: ISS, aud: 'api', sub: 'u1', app_id: 'billing', iat: now, exp: now + 300, ...extra });

beforeAll(async () => {
  k1 = await makeKey('RS256', 'k1');
  k2 = await makeKey('RS256', 'k2');
  logs = new RecordCapture();
});
afterAll(() => logs.restore());
beforeEach(() => {
  world = new OutsideWorld().serveJwks(JWKS, jwksOf(k1), 300).origin('origin.example').install();
  verifies = vi.spyOn(crypto.subtle, 'verify');
});
afterEach(() => {
  verifies.mockRestore();
  world.restore();
});

describe('through the Gateway', () => {
  const get = (gateway: ReturnType<typeof gatewayFor>, path: string, token: string) =>
    send(gateway, new Request(`https://gw.example${path}`, { headers: bearer(token) }));

  it('verifies a token once; the repeat is a hit that verifies no signature and says so in the log', async () => {
    const gateway = gatewayFor(policy);
    const token = await sign(k1, claims(nowSeconds()));
    expect((await get(gateway, '/billing/1', token)).status).toBe(200);
    expect(logs.last()).toMatchObject({ outcome: 'allowed', token_cache: 'miss', sub: 'u1', kid: 'k1', alg: 'RS256' });
    expect(verifies).toHaveBeenCalledTimes(1);
    expect((await get(gateway, '/billing/2', token)).status).toBe(200);
    expect(logs.last()).toMatchObject({ outcome: 'allowed', token_cache: 'hit', sub: 'u1', kid: 'k1', iss: ISS, key_layer: 'memory' });
    expect(verifies).toHaveBeenCalledTimes(1);
    expect(world.lastOriginRequest().headers['x-verified-sub']).toBe('u1');
  });

  it('runs the route checks on a hit: other app, missing scope and other issuer are refused without a verify', async () => {
    const gateway = gatewayFor(policy);
    const token = await sign(k1, claims(nowSeconds()));
    expect((await get(gateway, '/billing/1', token)).status).toBe(200);
    expect(verifies).toHaveBeenCalledTimes(1);

    expect((await get(gateway, '/reports/1', token)).status).toBe(401);
    expect(logs.last()).toMatchObject({ token_cache: 'hit', outcome: 'denied', findings: [{ code: 'app_mismatch' }] });
    expect((await get(gateway, '/billing/admin/1', token)).status).toBe(403);
    expect(logs.last()).toMatchObject({ token_cache: 'hit', findings: [{ code: 'scope_insufficient' }] });
    expect(verifies).toHaveBeenCalledTimes(1);

    // A route of another issuer: the cache does not answer, the full path refuses the issuer before any key.
    expect((await get(gateway, '/partners/1', token)).status).toBe(401);
    expect(logs.last()).toMatchObject({ token_cache: 'miss', findings: [{ code: 'issuer_mismatch' }] });
    expect(verifies).toHaveBeenCalledTimes(1);
  });

  it('caches only accepted tokens: a token refused for its claims is verified again every time', async () => {
    const gateway = gatewayFor(policy);
    const token = await sign(k1, claims(nowSeconds(), { app_id: 'reports' }));
    expect((await get(gateway, '/billing/1', token)).status).toBe(401);
    expect((await get(gateway, '/billing/1', token)).status).toBe(401);
    expect(logs.last()).toMatchObject({ token_cache: 'miss', findings: [{ code: 'app_mismatch' }] });
    expect(verifies).toHaveBeenCalledTimes(2);
  });

  it('never answers from the cache for a different spelling of the token (a bad signature on the same claims)', async () => {
    const gateway = gatewayFor(policy);
    const token = await sign(k1, claims(nowSeconds()));
    expect((await get(gateway, '/billing/1', token)).status).toBe(200);
    const [head, body] = token.split('.');
    const forged = `${head}.${body}.${(await sign(k2, claims(nowSeconds()), { header: { kid: 'k1' } })).split('.')[2]}`;
    expect((await get(gateway, '/billing/1', forged)).status).toBe(401);
    expect(logs.last()).toMatchObject({ token_cache: 'miss', findings: [{ code: 'signature_invalid' }] });
  });
});

describe('the verify path with a chosen clock', () => {
  let config: CompiledConfig;
  beforeAll(() => {
    config = compileOrThrow(JSON.stringify(policy));
  });
  /** A new isolate's worth of state: an empty key store and token cache, and the clock to start from. */
  const fresh = () => ({ keys: new KeyStore({ allowLoopbackHttp: false }), cache: new TokenCache(), t0: nowSeconds() });
  const run = (keys: KeyStore, cache: TokenCache, token: string, now: number, routeId = 'billing') =>
    authenticate({ headers: new Headers(bearer(token)), route: config.routes.find((r) => r.id === routeId)!, config, keys, now, tokenCache: cache });

  it('re-checks time claims on a hit: the token expires while cached and is refused, then evicted', async () => {
    const { keys, cache, t0 } = fresh();
    const token = await sign(k1, claims(t0, { exp: t0 + 100 }));
    expect((await run(keys, cache, token, t0)).ok).toBe(true);
    expect(cache.size).toBe(1);
    const late = await run(keys, cache, token, t0 + 100 + 60); // past exp + the 60 s default skew, still inside the JWKS max-age
    expect(late).toMatchObject({ ok: false, evidence: { tokenCache: 'hit' }, findings: [{ code: 'token_expired' }] });
    expect(verifies).toHaveBeenCalledTimes(1);
    expect(cache.size).toBe(0);
  });

  it('drops a hit when its key rotates out of the JWKS: the token is refused as kid_unknown', async () => {
    const { keys, cache, t0 } = fresh();
    const token = await sign(k1, claims(t0, { exp: t0 + 3600 }));
    expect((await run(keys, cache, token, t0)).ok).toBe(true);
    world.serveJwks(JWKS, jwksOf(k2), 300);
    // Past the key set's max-age the store fetches again and k1 is gone.
    const after = await run(keys, cache, token, t0 + 301);
    expect(after).toMatchObject({ ok: false, findings: [{ code: 'kid_unknown' }] });
    expect(after.evidence.tokenCache).toBe('miss');
    expect(cache.size).toBe(0);
    expect(world.fetchCount(JWKS)).toBe(2);
  });

  it('verifies again once the key set is refreshed, even when the kid survives (the key is a new object)', async () => {
    const { keys, cache, t0 } = fresh();
    const token = await sign(k1, claims(t0, { exp: t0 + 3600 }));
    expect((await run(keys, cache, token, t0)).ok).toBe(true);
    expect((await run(keys, cache, token, t0 + 1)).evidence.tokenCache).toBe('hit');
    expect(verifies).toHaveBeenCalledTimes(1);
    world.serveJwks(JWKS, jwksOf(k1, k2), 300);
    const refreshed = await run(keys, cache, token, t0 + 301);
    // The hit path's key lookup made the refresh, so the full path's own lookup is answered from memory.
    expect(refreshed).toMatchObject({ ok: true, evidence: { tokenCache: 'miss' } });
    expect(world.fetchCount(JWKS)).toBe(2);
    expect(verifies).toHaveBeenCalledTimes(2);
    expect((await run(keys, cache, token, t0 + 302)).evidence.tokenCache).toBe('hit');
    expect(verifies).toHaveBeenCalledTimes(2);
  });

  it('shares frozen claims: nothing downstream can change what the next hit sees', async () => {
    const { keys, cache } = fresh();
    const token = await sign(k1, claims(nowSeconds(), { roles: ['reader'] }));
    const first = await run(keys, cache, token, nowSeconds());
    if (!first.ok) throw new Error('expected the token to be accepted');
    expect(() => {
      (first.claims as { sub: string }).sub = 'admin';
    }).toThrow(TypeError);
    expect(() => (first.claims.roles as string[]).push('admin')).toThrow(TypeError);
  });
});
