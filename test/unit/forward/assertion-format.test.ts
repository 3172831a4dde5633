/**
 * The assertion is written by hand for speed (src/forward/assertion.ts); these tests hold it to jose's
 * output. Ed25519 and HMAC signatures are deterministic, so the whole compact JWS must be byte-identical to
 * what jose's SignJWT makes from the same claims; ECDSA's are not, so that one is verified with jose.
 */
import { describe, expect, it } from 'vitest';
import { compactVerify, decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { mintAssertion, type AssertionInput } from '../../../src/forward/assertion.ts';
import type { AssertionSigner } from '../../../src/forward/signing-keys.ts';
import { ASSERTION_TYP, headerBinding, requestBinding } from '../../../src/origin/binding.ts';

const input: AssertionInput = {
  settings: { issuer: 'https://gw.example', mode: 'signed', header: 'x-verified-assertion', jwksPath: '/.well-known/gateway-jwks.json', ttlSeconds: 60, reuseSeconds: 30 },
  audience: 'orders',
  subject: 'user-7',
  requestId: '8c2f1d7e6a5b4c3d-AMS',
  request: { method: 'GET', host: 'orders.internal', path: '/v2/42', query: '?status=open&sort=-date' },
  tokenExp: 1795461481,
  identityHeaders: [['x-verified-sub', 'user-7'], ['x-verified-route', 'orders'], ['x-verified-groups', 'a,b%2Cc']],
  identity: { idp: 'https://idp.example/', app: 'shop', scope: 'orders:read', token_exp: 1795461481, route: 'orders', claims: { 'x-verified-groups': ['a', 'b,c'], note: 'é ✓' } },
  now: 1795461181,
};

async function joseAssertion(signer: AssertionSigner): Promise<string> {
  return new SignJWT({ ...input.identity, req: await requestBinding(input.request), hdr: await headerBinding(input.identityHeaders) })
    .setProtectedHeader({ alg: signer.alg, typ: ASSERTION_TYP, ...(signer.kid === undefined ? {} : { kid: signer.kid }) })
    .setIssuer(input.settings.issuer)
    .setAudience(input.audience)
    .setSubject(input.subject)
    .setIssuedAt(input.now)
    .setExpirationTime(Math.min(input.now + input.settings.ttlSeconds, input.tokenExp))
    .setJti(input.requestId)
    .sign(signer.key);
}

describe('the header binding inside it', () => {
  it('is SHA-256 over the sorted "name:value\\n" lines and the sorted names, computed here independently', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const payload = decodeJwt(await mintAssertion(input, { alg: 'EdDSA', kid: 'gw-1', key: privateKey }));
    const canonical = 'x-verified-groups:a,b%2Cc\nx-verified-route:orders\nx-verified-sub:user-7\n';
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical)));
    const sha256 = btoa(String.fromCharCode(...digest)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    expect(payload.hdr).toEqual({ names: ['x-verified-groups', 'x-verified-route', 'x-verified-sub'], sha256 });
  });
});

const base64url = (bytes: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

describe('the request binding inside it', () => {
  it('is method, Host, path and SHA-256 of the query without "?", computed here independently', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const payload = decodeJwt(await mintAssertion(input, { alg: 'EdDSA', kid: 'gw-1', key: privateKey }));
    const query = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('status=open&sort=-date')));
    expect(payload.req).toEqual({ method: 'GET', host: 'orders.internal', path: '/v2/42', query });
  });

  it('binds no query, and a bare "?", as "" (no hash), and tells every other query apart', async () => {
    const bound = async (query: string) => (await requestBinding({ ...input.request, query })).query;
    expect([await bound(''), await bound('?')]).toEqual(['', '']);
    const digests = await Promise.all(['?a=1', 'a=1', '?a=2', '?a=1&b=2', '?b=2&a=1', '?a=%31'].map(bound));
    expect(digests[0]).toBe(digests[1]);
    expect(new Set(digests).size).toBe(5);
    expect(digests.every((d) => /^[A-Za-z0-9_-]{43}$/.test(d))).toBe(true);
  });
});

describe('its lifetime', () => {
  const mint = async (now: number, tokenExp: number) => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    return decodeJwt(await mintAssertion({ ...input, now, tokenExp }, { alg: 'EdDSA', kid: 'gw-1', key: privateKey }));
  };

  it('is ttl_seconds while the token lives longer', async () => {
    expect((await mint(1_000, 2_000)).exp).toBe(1_060);
  });

  it('ends at the token\'s exp when that comes sooner', async () => {
    expect((await mint(1_000, 1_030)).exp).toBe(1_030);
    expect((await mint(1_000, 1_030.9)).exp).toBe(1_030);
  });

  it('is over at birth for a token accepted inside the clock skew after its exp (minted 45 s after it)', async () => {
    const payload = await mint(1_045, 1_000);
    expect([payload.iat, payload.exp]).toEqual([1_045, 1_000]);
  });
});

describe('the hand-written assertion is the JWS jose would write', () => {
  it('EdDSA: byte-identical', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const signer: AssertionSigner = { alg: 'EdDSA', kid: 'gw-1', key: privateKey };
    expect(await mintAssertion(input, signer)).toBe(await joseAssertion(signer));
  });

  it('HS256 (no kid): byte-identical', async () => {
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode('s'.repeat(32)), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const signer: AssertionSigner = { alg: 'HS256', kid: undefined, key };
    expect(await mintAssertion(input, signer)).toBe(await joseAssertion(signer));
  });

  it('ES256: same header and payload, a 64-byte r||s signature jose verifies', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const signer: AssertionSigner = { alg: 'ES256', kid: 'gw-ec', key: privateKey };
    const ours = await mintAssertion(input, signer);
    const theirs = await joseAssertion(signer);
    expect(ours.split('.').slice(0, 2)).toEqual(theirs.split('.').slice(0, 2));
    const verified = await compactVerify(ours, publicKey);
    expect(verified.protectedHeader).toEqual({ alg: 'ES256', typ: ASSERTION_TYP, kid: 'gw-ec' });
  });
});
