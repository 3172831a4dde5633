/**
 * The attack catalog, part 3: the key set. Weak keys and hostile JWKS responses make the issuer's key set
 * unusable: the gateway fails closed with 503 + Retry-After (keys_unavailable: "cannot verify right now"),
 * never 200 and never 500. Unknown-kid floods cost at most one refresh per cooldown.
 * The key layer itself (caching, stale-if-error, rate limits) is issue 4's; this covers each category once
 * through the gateway.
 */
import { exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_JWKS_BYTES } from '../../src/config/constants.ts';
import { bearer, send } from '../helpers/gateway.ts';
import { jwksOf, makeKey, type TestKey } from '../helpers/keys.ts';
import { expectRefused, newGateway, setUpKit, signClaims, tearDownKit, validClaims, type Kit } from './attack-kit.ts';

let kit: Kit;
/** The key layer's own log lines (jwks_fetch_failed with its reason), kept out of the test output. */
const keyEvents: { event: string; reason?: string }[] = [];
let warnSpy: { mockRestore(): void } | undefined;
beforeAll(async () => {
  kit = await setUpKit();
  warnSpy = vi.spyOn(console, 'warn').mockImplementation((line: unknown) => {
    if (typeof line === 'string' && line.startsWith('{')) keyEvents.push(JSON.parse(line));
  });
});
afterAll(() => {
  warnSpy?.mockRestore();
  tearDownKit(kit);
});

let served = 0;
/** A fresh issuer URL serving `respond`, and a cold gateway trusting it. */
function issuerServing(respond: () => Response) {
  const url = `https://keys.example/hostile-${++served}/jwks`;
  kit.world.serve(url, respond);
  return { url, gateway: newGateway({}, url) };
}

async function expectKeysUnusable(reason: RegExp, respond: () => Response, key: TestKey = kit.rs256) {
  const { url, gateway } = issuerServing(respond);
  const eventsBefore = keyEvents.length;
  const response = await send(gateway, new Request('https://gw.example/billing/x', { headers: bearer(await signClaims(key, validClaims())) }));
  expect(response.status).toBe(503);
  expect(response.headers.get('retry-after')).not.toBeNull();
  expect(kit.world.originRequests).toHaveLength(0);
  expect(kit.logs.last().findings.map((f) => f.code)).toEqual(['keys_unavailable']);
  expect(kit.world.fetchCount(url)).toBe(1);
  // This request's own events only: one failed fetch, for this reason.
  const events = keyEvents.slice(eventsBefore).filter((e) => e.event === 'jwks_fetch_failed');
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ reason: expect.stringMatching(reason) });
  return url;
}

const json = (body: unknown, init: ResponseInit = {}) => () => Response.json(body, init);

describe('weak RSA keys in the JWKS', () => {
  it('a 1024-bit key (that really signed the token) makes the set unusable', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const weak: TestKey = { alg: 'RS256', kid: 'weak', privateKey: pair.privateKey, publicJwk: { ...(await exportJWK(pair.publicKey)), kid: 'weak', alg: 'RS256' } };
    await expectKeysUnusable(/modulus under 2048/, json(jwksOf(weak)), weak);
  });
  it.each([['e = 3', 'Aw'], ['e = 1', 'AQ']])('%s makes the set unusable', async (_name, e) => {
    await expectKeysUnusable(/exponent is not 65537/, json({ keys: [{ ...kit.rs256.publicJwk, e }] }));
  });
});

describe('hostile JWKS responses', () => {
  it('a body larger than the cap', async () => {
    await expectKeysUnusable(/larger than/, json({ keys: [kit.rs256.publicJwk], pad: 'x'.repeat(MAX_JWKS_BYTES) }));
  });
  it('an HTML error page with status 200', async () => {
    await expectKeysUnusable(/not JSON/, () => new Response('<html><body>Sign in</body></html>', { headers: { 'content-type': 'text/html' } }));
  });
  it('a redirect, which is not followed', async () => {
    kit.world.serve('https://evil.example/jwks', json(jwksOf(kit.attacker)));
    await expectKeysUnusable(/redirect \(302\) refused/, () => new Response(null, { status: 302, headers: { location: 'https://evil.example/jwks' } }));
    expect(kit.world.fetchCount('https://evil.example/jwks')).toBe(0);
  });
  it('a private key', async () => {
    const privateJwk = await exportJWK(kit.rs256.privateKey);
    await expectKeysUnusable(/private or secret member/, json({ keys: [{ ...privateJwk, kid: 'rs-1', alg: 'RS256' }] }));
  });
  it('a symmetric key (k)', async () => {
    await expectKeysUnusable(/secret member "k"/, json({ keys: [kit.rs256.publicJwk, { kty: 'oct', kid: 'h', k: 'c2VjcmV0' }] }));
  });
  it('a duplicate kid', async () => {
    await expectKeysUnusable(/duplicate kid/, json({ keys: [kit.rs256.publicJwk, { ...kit.attacker.publicJwk, kid: 'rs-1' }] }));
  });
  it('the only key marked use: enc', async () => {
    await expectKeysUnusable(/no usable signature key/, json({ keys: [{ ...kit.rs256.publicJwk, use: 'enc' }] }));
  });
  it('a key whose alg does not fit its type', async () => {
    await expectKeysUnusable(/does not fit/, json({ keys: [{ ...kit.rs256.publicJwk, alg: 'ES256' }] }));
  });
  it('a key marked use: enc beside a good one is skipped, not used: a token naming it finds no key', async () => {
    const { gateway } = issuerServing(json({ keys: [kit.es256.publicJwk, { ...kit.rs256.publicJwk, use: 'enc' }] }));
    await expectRefused(kit, gateway, await signClaims(kit.rs256, validClaims()), { codes: ['kid_unknown'], fetches: 1 });
  });
});

describe('unknown-kid floods', () => {
  it('50 tokens with random kids cause one fetch (the cold one), not fifty', async () => {
    const { url, gateway } = issuerServing(json(jwksOf(kit.rs256)));
    for (let i = 0; i < 50; i++) {
      await expectRefused(kit, gateway, await signClaims(kit.attacker, validClaims(), { kid: `flood-${crypto.randomUUID()}` }), { codes: ['kid_unknown'] });
    }
    expect(kit.world.fetchCount(url)).toBe(1);
  });
  it('against an issuer that is down, a flood causes one fetch per cooldown, not one per token', async () => {
    const { url, gateway } = issuerServing(() => new Response('down', { status: 503 }));
    for (let i = 0; i < 20; i++) {
      const response = await send(gateway, new Request('https://gw.example/billing/x', { headers: bearer(await signClaims(kit.rs256, validClaims(), { kid: `flood-${i}` })) }));
      expect(response.status).toBe(503);
    }
    expect(kit.world.fetchCount(url)).toBe(1);
  });
});
