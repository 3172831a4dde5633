/**
 * The verified-token cache through the real verify path (and the Gateway): a hit skips the signature, never
 * the claim checks, and dies with its key; a replayed bad signature is refused without a second verify. Signature verifications are counted with a spy on WebCrypto's
 * verify, the only place a signature is checked; the clock is the `now` argument, never a timer.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Gateway } from '../../src/gateway.ts';
import { KeyStore } from '../../src/keys/key-store.ts';
import { detachedKeys } from '../../src/keys/detached-keys.ts';
import { authenticate } from '../../src/verify/authenticate.ts';
import { rememberVerified, TokenCache } from '../../src/verify/token-cache.ts';
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

/**
 * authenticate() alone on the billing route, with k1 inline (no key set to fetch), its own key store and the
 * given token cache: the verify path one isolate runs, without the Gateway around it.
 */
function verifyPath(tokenCache = new TokenCache()) {
  const config = compileOrThrow(JSON.stringify({ issuers: { idp: { issuer: ISS, keys: [k1.publicJwk] } }, routes: { billing: policy.routes.billing } }));
  const keys = detachedKeys(new KeyStore({ allowLoopbackHttp: false }));
  const run = (text: string) => authenticate({ headers: new Headers(bearer(text)), route: config.routes[0]!, config, keys, now: nowSeconds(), tokenCache });
  return { run, tokenCache };
}

const get = (gateway: ReturnType<typeof gatewayFor>, path: string, token: string) =>
  send(gateway, new Request(`https://gw.example${path}`, { headers: bearer(token) }));

describe('through the Gateway', () => {
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

  it('logs the same token_fp on miss and hit, hashing the token once: the log writer hashes, the cache keeps it', async () => {
    const gateway = gatewayFor(policy);
    // Keys fetched and stored first (their storage hashes too), so only the fingerprint is left to count.
    await get(gateway, '/billing/0', await sign(k1, claims(nowSeconds(), { sub: 'warm-up' })));
    const token = await sign(k1, claims(nowSeconds()));
    const digests = vi.spyOn(crypto.subtle, 'digest');
    try {
      await get(gateway, '/billing/1', token);
      const first = logs.last();
      expect(first).toMatchObject({ token_cache: 'miss', token_fp: expect.stringMatching(/^[0-9a-f]{16}$/) });
      expect(digests).toHaveBeenCalledTimes(1);
      await get(gateway, '/billing/2', token);
      expect(logs.last()).toMatchObject({ token_cache: 'hit', token_fp: first.token_fp });
      // No assertion on this policy, so no other hash: the hit hashed nothing.
      expect(digests).toHaveBeenCalledTimes(1);
    } finally {
      digests.mockRestore();
    }
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

/**
 * Each test gets its own issuer: key sets and the refresh cooldown live in the Cache API and KV too,
 * shared by every gateway in this file, as they are by every isolate of a data centre.
 */
async function isolatedIssuer() {
  const iss = `https://idp-${crypto.randomUUID().slice(0, 8)}.example/`;
  const jwks = `${iss}.well-known/jwks.json`;
  world.serveJwks(jwks, jwksOf(k1), 300);
  let seconds = nowSeconds();
  const gateway = new Gateway(
    compileOrThrow(JSON.stringify({ issuers: { idp: { issuer: iss, jwks_uri: jwks } }, routes: { billing: policy.routes.billing } })),
    { allowLoopbackHttp: false, now: () => seconds * 1000 },
  );
  const at = async (t: number, token: string) => {
    seconds = t;
    const response = await send(gateway, new Request('https://gw.example/billing/1', { headers: bearer(token) }));
    return { status: response.status, record: logs.last() };
  };
  return { iss, jwks, t0: seconds, at };
}

describe('with a chosen clock, through the Gateway', () => {
  it('re-checks time claims on a hit: the token expires while cached and is refused', async () => {
    const { iss, t0, at } = await isolatedIssuer();
    const token = await sign(k1, claims(t0, { iss, exp: t0 + 100 }));
    expect((await at(t0, token)).status).toBe(200);
    const late = await at(t0 + 100 + 60, token); // past exp + the 60 s default skew, inside the JWKS max-age
    expect(late.status).toBe(401);
    expect(late.record).toMatchObject({ token_cache: 'hit', findings: [{ code: 'token_expired' }] });
    expect(verifies).toHaveBeenCalledTimes(1);
  });

  it('drops a hit when its key rotates out of the JWKS: the token is refused as kid_unknown', async () => {
    const { iss, jwks, t0, at } = await isolatedIssuer();
    const token = await sign(k1, claims(t0, { iss, exp: t0 + 3600 }));
    expect((await at(t0, token)).status).toBe(200);
    expect((await at(t0 + 1, token)).record.token_cache).toBe('hit');
    world.serveJwks(jwks, jwksOf(k2), 300);
    // Past the key set's max-age the store loads it again, and k1 is gone.
    const after = await at(t0 + 301, token);
    expect(after.status).toBe(401);
    expect(after.record).toMatchObject({ token_cache: 'miss', findings: [{ code: 'kid_unknown' }] });
    expect(world.fetchCount(jwks)).toBe(2);
  });

  it('keeps a hit across a refresh that keeps its key, and drops it when the kid comes back with other key material', async () => {
    const { iss, jwks, t0, at } = await isolatedIssuer();
    const token = await sign(k1, claims(t0, { iss, exp: t0 + 3600 }));
    expect((await at(t0, token)).status).toBe(200);
    expect((await at(t0 + 1, token)).record.token_cache).toBe('hit');
    expect(verifies).toHaveBeenCalledTimes(1);
    // Refreshed, k1 unchanged: the same imported key (keyed by its material), so the verified result stands.
    world.serveJwks(jwks, jwksOf(k1, k2), 300);
    expect(await at(t0 + 301, token)).toMatchObject({ status: 200, record: { token_cache: 'hit' } });
    expect(world.fetchCount(jwks)).toBe(2);
    expect(verifies).toHaveBeenCalledTimes(1);
    // Refreshed again, kid "k1" now names k2's key: a new key object, so the token is verified again, and fails.
    world.serveJwks(jwks, { keys: [{ ...k2.publicJwk, kid: 'k1' }] }, 300);
    const swapped = await at(t0 + 602, token);
    expect(swapped).toMatchObject({ status: 401, record: { token_cache: 'miss', findings: [{ code: 'signature_invalid' }] } });
    expect(world.fetchCount(jwks)).toBe(3);
    expect(verifies).toHaveBeenCalledTimes(2);
  });
});

describe('refused signatures (the negative cache)', () => {
  /** A token with k1's kid signed by k2: refused as signature_invalid while kid k1 names k1's key. */
  const badSignature = (now: number, extra: object = {}) => sign(k2, claims(now, extra), { header: { kid: 'k1' } });

  it('refuses a replayed bad token (the same bytes) without a second signature verification, and says so in the log', async () => {
    const gateway = gatewayFor(policy);
    const token = await badSignature(nowSeconds());
    expect((await get(gateway, '/billing/1', token)).status).toBe(401);
    const first = logs.last();
    expect(first).toMatchObject({ outcome: 'denied', token_cache: 'miss', findings: [{ code: 'signature_invalid' }], kid: 'k1', alg: 'RS256', iss: ISS });
    expect(verifies).toHaveBeenCalledTimes(1);
    for (const path of ['/billing/2', '/billing/admin/3', '/reports/4']) {
      const response = await get(gateway, path, token);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect(logs.last()).toMatchObject({ outcome: 'denied', token_cache: 'hit', findings: [{ code: 'signature_invalid' }], kid: 'k1', alg: 'RS256', iss: ISS, key_layer: 'memory', token_fp: first.token_fp });
    }
    expect(verifies).toHaveBeenCalledTimes(1);
    // Other bytes (another bad token) are verified: the verdict belongs to the exact text only.
    expect((await get(gateway, '/billing/1', await badSignature(nowSeconds(), { sub: 'u2' }))).status).toBe(401);
    expect(verifies).toHaveBeenCalledTimes(2);
  });

  it('answers a replay as the full path would on a route of another issuer (issuer_mismatch, no key, no verify)', async () => {
    const gateway = gatewayFor(policy);
    const token = await badSignature(nowSeconds());
    await get(gateway, '/billing/1', token);
    expect((await get(gateway, '/partners/1', token)).status).toBe(401);
    expect(logs.last()).toMatchObject({ token_cache: 'miss', findings: [{ code: 'issuer_mismatch' }] });
    expect(verifies).toHaveBeenCalledTimes(1);
  });

  it('never keeps a refusal that has no key to be final under: kid_unknown is retried, and accepted after the refresh that brings the kid', async () => {
    const { iss, jwks, t0, at } = await isolatedIssuer();
    const token = await sign(k2, claims(t0, { iss, exp: t0 + 3600 }));
    expect(await at(t0, token)).toMatchObject({ status: 401, record: { findings: [{ code: 'kid_unknown' }] } });
    world.serveJwks(jwks, jwksOf(k1, k2), 300);
    expect(await at(t0 + 301, token)).toMatchObject({ status: 200, record: { token_cache: 'miss', outcome: 'allowed' } });
  });

  it('drops a refusal when its kid comes to name other key material: the same bytes are verified again, and accepted', async () => {
    const { iss, jwks, t0, at } = await isolatedIssuer();
    const token = await badSignature(t0, { iss, exp: t0 + 3600 });
    expect((await at(t0, token)).status).toBe(401);
    expect(await at(t0 + 1, token)).toMatchObject({ status: 401, record: { token_cache: 'hit', findings: [{ code: 'signature_invalid' }] } });
    expect(verifies).toHaveBeenCalledTimes(1);
    // The issuer rotates: kid k1 now names k2's key, the key that really signed the token.
    world.serveJwks(jwks, { keys: [{ ...k2.publicJwk, kid: 'k1' }] }, 300);
    expect(await at(t0 + 301, token)).toMatchObject({ status: 200, record: { token_cache: 'miss', outcome: 'allowed' } });
    expect(verifies).toHaveBeenCalledTimes(2);
  });

  it('is bounded, apart from the verified tokens: a flood of bad tokens keeps its own cap and pushes no good token out', async () => {
    const { run, tokenCache } = verifyPath(new TokenCache({ maxEntries: 2, maxTokenBytes: 64 * 1024 }, { maxEntries: 3, maxTokenBytes: 64 * 1024 }));
    const good = await sign(k1, claims(nowSeconds()));
    expect((await run(good)).ok).toBe(true);
    const bad = await Promise.all(Array.from({ length: 5 }, (_, i) => badSignature(nowSeconds(), { sub: `flood-${i}` })));
    for (const token of bad) expect((await run(token)).ok).toBe(false);
    expect(tokenCache.rejectedSize).toBe(3);
    expect(tokenCache.size).toBe(1);
    expect((await run(good)).evidence.tokenCache).toBe('hit');
    // The oldest refusals were evicted: the first bad token is verified again, the last is not.
    const before = verifies.mock.calls.length;
    expect((await run(bad[0]!)).evidence.tokenCache).toBe('miss');
    expect((await run(bad[4]!)).evidence.tokenCache).toBe('hit');
    expect(verifies.mock.calls.length - before).toBe(1);
  });
});

describe('a full cache', () => {
  it('keeps a token only on its second acceptance, so tokens seen once push none out; with room it keeps at once', async () => {
    const { run, tokenCache } = verifyPath(new TokenCache({ maxEntries: 2, maxTokenBytes: 64 * 1024 }));
    const [hot1, hot2, ...once] = await Promise.all(Array.from({ length: 6 }, (_, i) => sign(k1, claims(nowSeconds(), { sub: `user-${i}` }))));
    for (const token of [hot1!, hot2!]) expect((await run(token)).evidence.tokenCache).toBe('miss');
    expect(tokenCache.size).toBe(2);
    // Full: a stream of tokens each seen once is verified in full and leaves the kept ones alone.
    for (const token of once) expect(await run(token)).toMatchObject({ ok: true, evidence: { tokenCache: 'miss' } });
    expect([tokenCache.get(hot1!), tokenCache.get(hot2!)].every(Boolean)).toBe(true);
    for (const token of [hot1!, hot2!]) expect((await run(token)).evidence.tokenCache).toBe('hit');
    // Accepted a second time, a token is kept (the oldest goes), and answered from the cache from then on.
    const before = verifies.mock.calls.length;
    expect((await run(once[0]!)).evidence.tokenCache).toBe('miss');
    expect(tokenCache.get(once[0]!)).toBeDefined();
    expect(tokenCache.get(hot1!)).toBeUndefined();
    expect((await run(once[0]!)).evidence.tokenCache).toBe('hit');
    expect(verifies.mock.calls.length - before).toBe(1);
  });
});

describe('two issuers that accept one iss', () => {
  it('a hit is judged by the issuer a full verification would choose on this route, not the one it was cached under', async () => {
    const shared = {
      issuers: { a: { issuer: ISS, keys: [k1.publicJwk] }, b: { issuer: ISS, keys: [k2.publicJwk] } },
      routes: {
        first: { path: '/a/*', issuers: ['a'], audiences: ['api'], app: 'billing', origin: 'https://origin.example' },
        second: { path: '/b/*', issuers: ['b', 'a'], audiences: ['api'], app: 'billing', origin: 'https://origin.example' },
      },
    };
    const token = await sign(k1, claims(nowSeconds()));
    // Cold, the second route picks issuer b (first listed), which has no key k1.
    expect((await get(gatewayFor(shared), '/b/1', token)).status).toBe(401);
    const cold = logs.last();
    const gateway = gatewayFor(shared);
    expect((await get(gateway, '/a/1', token)).status).toBe(200);
    expect((await get(gateway, '/b/1', token)).status).toBe(401);
    expect(logs.last()).toMatchObject({ token_cache: 'miss', findings: cold.findings });
  });
});

describe('the cached result', () => {
  it('shares frozen claims: nothing downstream can change what the next hit sees', async () => {
    const token = await sign(k1, claims(nowSeconds(), { roles: ['reader'] }));
    const first = await verifyPath().run(token);
    if (!first.ok) throw new Error(`expected the token to be accepted: ${JSON.stringify(first.findings)}`);
    expect(() => {
      (first.claims as { sub: string }).sub = 'admin';
    }).toThrow(TypeError);
    expect(() => (first.claims.roles as string[]).push('admin')).toThrow(TypeError);
  });
});

describe('the well-formed text check (claim_invalid for a lone surrogate)', () => {
  it('runs on a hit too: an entry whose claims hold a lone surrogate is refused from the cache', async () => {
    const token = await sign(k1, claims(nowSeconds()));
    const { run, tokenCache } = verifyPath();
    expect((await run(token)).ok).toBe(true);
    // What a cache filled before the check existed would hold: the same entry, its subject a lone surrogate.
    const entry = tokenCache.get(token)!;
    rememberVerified(tokenCache, token, { ...entry, claims: { ...entry.claims, sub: '\uD834' } });
    const hit = await run(token);
    expect(hit.evidence.tokenCache).toBe('hit');
    expect(hit.ok ? [] : hit.findings).toEqual([{ code: 'claim_invalid', claim: 'sub', detail: 'not well-formed Unicode (a lone surrogate)' }]);
  });

  it('a validly signed token holding one is never cached: refused again, in full, every time', async () => {
    const gateway = gatewayFor(policy);
    const token = await sign(k1, claims(nowSeconds(), { sub: '\uDC00' }));
    for (let i = 0; i < 2; i++) {
      expect((await get(gateway, '/billing/1', token)).status).toBe(401);
      expect(logs.last()).toMatchObject({ token_cache: 'miss', finding: 'claim_invalid' });
    }
  });
});

describe('the token text', () => {
  it('travels beside the evidence, never in it, on a miss, a hit and a refusal (evidence is what logs and traces show)', async () => {
    const token = await sign(k1, claims(nowSeconds()));
    const expired = await sign(k1, claims(nowSeconds() - 1000));
    const { run } = verifyPath();
    const results = [await run(token), await run(token), await run(expired), await run('not.a.token')];
    expect(results.map((r) => [r.ok, r.evidence.tokenCache])).toEqual([[true, 'miss'], [true, 'hit'], [false, 'miss'], [false, 'miss']]);
    for (const [i, result] of results.entries()) {
      expect(result.token).toBe([token, token, expired, 'not.a.token'][i]);
      expect(JSON.stringify(result.evidence)).not.toContain(result.token);
      for (const segment of result.token!.split('.').filter((part) => part.length > 8)) expect(JSON.stringify(result.evidence)).not.toContain(segment);
    }
  });
});
