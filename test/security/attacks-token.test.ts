/**
 * The attack catalog of ../shared/notes/security.md, part 1: what the token says about how to verify it.
 * Each attack goes through a Gateway built from a policy (the Worker's compiler and class), with tokens the
 * tests forge from their own keys. Shape and algorithm failures run on a cold gateway and must cost zero
 * key fetches; no attack may make the gateway fetch a URL that is not configuration.
 */
import { exportSPKI, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TOKEN_BYTES } from '../../src/config/constants.ts';
import { bearer, send } from '../helpers/gateway.ts';
import { makeKey } from '../helpers/keys.ts';
import { b64u, expectRefused, unexpectedFetches, JWKS, newGateway, setUpKit, signClaims, signRaw, tearDownKit, validClaims, type Kit } from './attack-kit.ts';

let kit: Kit;
beforeAll(async () => {
  kit = await setUpKit();
});
afterAll(() => {
  expect(unexpectedFetches(kit)).toEqual([]);
  tearDownKit(kit);
});

const header = (h: object) => b64u(JSON.stringify(h));
const claims = () => b64u(JSON.stringify(validClaims()));

describe('the baseline the attacks are measured against', () => {
  it('a genuine RS256 and ES256 token is forwarded (one key fetch on a cold gateway)', async () => {
    const gateway = newGateway();
    for (const key of [kit.rs256, kit.es256]) {
      const response = await send(gateway, new Request('https://gw.example/billing/x', { headers: bearer(await signClaims(key, validClaims())) }));
      expect(response.status).toBe(200);
    }
    expect(kit.world.fetchCount(JWKS)).toBe(1);
  });
});

describe('alg none', () => {
  it.each(['none', 'None', 'NONE', 'nOnE'])('alg %s with an empty signature is malformed, zero fetches', async (alg) => {
    await expectRefused(kit, newGateway(), `${header({ alg, typ: 'at+jwt' })}.${claims()}.`, { codes: ['token_malformed'], fetches: 0 });
  });
  it.each(['none', 'None', 'NONE'])('alg %s with a signature is not allowed, zero fetches', async (alg) => {
    await expectRefused(kit, newGateway(), `${header({ alg, typ: 'at+jwt', kid: 'rs-1' })}.${claims()}.c2lnbmF0dXJl`, { codes: ['alg_not_allowed'], fetches: 0 });
  });
});

describe('HMAC with the public key as the secret', () => {
  it.each(['PEM', 'DER', 'JWK text'])('HS256 keyed with the issuer public key as %s is not allowed, zero fetches', async (form) => {
    const publicKey = await crypto.subtle.importKey('jwk', kit.rs256.publicJwk as JsonWebKey, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify']);
    const pem = await exportSPKI(publicKey);
    const der = Uint8Array.from(atob(pem.replace(/-----[^-]+-----|\s/g, '')), (c) => c.charCodeAt(0));
    const secret = form === 'PEM' ? new TextEncoder().encode(pem) : form === 'DER' ? der : new TextEncoder().encode(JSON.stringify(kit.rs256.publicJwk));
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      const token = await new SignJWT(validClaims()).setProtectedHeader({ alg, typ: 'at+jwt', kid: 'rs-1' }).sign(secret);
      await expectRefused(kit, newGateway(), token, { codes: ['alg_not_allowed'], fetches: 0 });
    }
  });
});

describe('wrong-family signatures', () => {
  it('PS256 on an issuer pinned to RS256/ES256 is not allowed, zero fetches', async () => {
    const ps = await makeKey('PS256', 'rs-1');
    await expectRefused(kit, newGateway(), await new SignJWT(validClaims()).setProtectedHeader({ alg: 'PS256', typ: 'at+jwt', kid: 'rs-1' }).sign(ps.privateKey), {
      codes: ['alg_not_allowed'],
      fetches: 0,
    });
  });
  it('PS256 naming the RS256 key, on an issuer that allows both, finds no key that fits', async () => {
    const ps = await makeKey('PS256', 'rs-1');
    const token = await new SignJWT(validClaims()).setProtectedHeader({ alg: 'PS256', typ: 'at+jwt', kid: 'rs-1' }).sign(ps.privateKey);
    await expectRefused(kit, newGateway({ algorithms: ['RS256', 'PS256', 'ES256'] }), token, { codes: ['kid_unknown'], atMostFetches: 1 });
  });
  it('a P-256 signature labelled ES384 finds no key that fits', async () => {
    const es256 = await signClaims(kit.es256, validClaims());
    const [, payload, signature] = es256.split('.');
    const token = `${header({ alg: 'ES384', typ: 'at+jwt', kid: 'es-1' })}.${payload}.${signature}`;
    await expectRefused(kit, newGateway({ algorithms: ['RS256', 'ES256', 'ES384'] }), token, { codes: ['kid_unknown'], atMostFetches: 1 });
  });
});

describe('keys named by the token', () => {
  it.each([
    ['jwk', (k: Kit) => k.attacker.publicJwk],
    ['x5c', () => ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA']],
    ['jku', () => 'https://evil.example/jwks'],
    ['x5u', () => 'https://evil.example/cert.pem'],
  ])('a %s header is refused before any key lookup, and nothing is fetched from it', async (name, value) => {
    const token = await signClaims(kit.attacker, validClaims(), { [name]: value(kit) });
    await expectRefused(kit, newGateway(), token, { codes: ['token_malformed'], fetches: 0 });
    expect(unexpectedFetches(kit)).toEqual([]);
  });
});

describe('kid injection', () => {
  it.each(['../../../etc/passwd', "'OR'1'='1'--", '$(curl${IFS}evil.example)', '`id`', 'https://evil.example/jwks', '%2e%2e%2f', 'RS-1', 'rs-1\\'])(
    'kid %j is only an exact-match string: no key, no request anywhere else',
    async (kid) => {
      const token = await signClaims(kit.rs256, validClaims(), { kid });
      // A printable kid passes the gate, so the issuer's configured JWKS is consulted, and nothing else.
      await expectRefused(kit, newGateway(), token, { codes: ['kid_unknown'], atMostFetches: 1 });
    },
  );
  it.each([
    ['huge', 'k'.repeat(5000)],
    ['a number', 42],
    ['an object', { path: '/etc/passwd' }],
    ['null', null],
    ['carrying a CR LF (log injection)', 'rs-1\r\nx-verified-sub: admin'],
    ['carrying a NUL', 'rs-1\u0000'],
    ['empty', ''],
    ['with spaces (SQL)', "' OR '1'='1' --"],
    ['with spaces (shell)', '$(curl evil.example)'],
    ['with a trailing space', 'rs-1 '],
  ])('kid %s is malformed, zero fetches', async (_name, kid) => {
    const token = await signClaims(kit.rs256, validClaims(), { kid });
    await expectRefused(kit, newGateway(), token, { codes: ['token_malformed'], fetches: 0 });
  });
});

describe('ECDSA signature values', () => {
  const N = 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551';
  const hex = (h: string) => Uint8Array.from(h.match(/../g)!, (b) => parseInt(b, 16));
  const zero = '00'.repeat(32);
  const one = `${'00'.repeat(31)}01`;
  it.each([
    ['r = s = 0 (CVE-2022-21449)', zero + zero],
    ['r = s = n', N + N],
    ['r = 0, s = 1', zero + one],
    ['r = 1, s = 0', one + zero],
    ['r = s = all ones', 'ff'.repeat(64)],
  ])('%s is an invalid signature', async (_name, signatureHex) => {
    const [h, p] = (await signClaims(kit.es256, validClaims())).split('.');
    await expectRefused(kit, newGateway(), `${h}.${p}.${b64u(hex(signatureHex))}`, { codes: ['signature_invalid'] });
  });

  it('a DER-encoded signature of the right key over the right bytes is invalid (JWS wants r || s)', async () => {
    const [h, p, s] = (await signClaims(kit.es256, validClaims())).split('.');
    const raw = Uint8Array.from(atob(s!.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const integer = (bytes: Uint8Array) => {
      let i = 0;
      while (i < bytes.length - 1 && bytes[i] === 0) i++;
      const trimmed = bytes.slice(i);
      return trimmed[0]! & 0x80 ? [0x02, trimmed.length + 1, 0, ...trimmed] : [0x02, trimmed.length, ...trimmed];
    };
    const body = [...integer(raw.slice(0, 32)), ...integer(raw.slice(32))];
    const der = new Uint8Array([0x30, body.length, ...body]);
    await expectRefused(kit, newGateway(), `${h}.${p}.${b64u(der)}`, { codes: ['signature_invalid'] });
  });

  it.each([63, 65, 96, 1])('a %d-byte signature (wrong length) is invalid', async (length) => {
    const [h, p, s] = (await signClaims(kit.es256, validClaims())).split('.');
    const raw = Uint8Array.from(atob(s!.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const resized = new Uint8Array(length);
    resized.set(raw.slice(0, length));
    await expectRefused(kit, newGateway(), `${h}.${p}.${b64u(resized)}`, { codes: ['signature_invalid'] });
  });

  it('the high-S twin of a valid signature verifies, so identity never rests on the signature bytes (rule 8)', async () => {
    // Documented behaviour, not an attack that succeeds: both signatures carry the same verified claims.
    const n = BigInt(`0x${N}`);
    const token = await signClaims(kit.es256, validClaims());
    const [h, p, s] = token.split('.');
    const raw = Uint8Array.from(atob(s!.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const sValue = BigInt(`0x${[...raw.slice(32)].map((b) => b.toString(16).padStart(2, '0')).join('')}`);
    const twin = new Uint8Array(64);
    twin.set(raw.slice(0, 32));
    twin.set(hex((n - sValue).toString(16).padStart(64, '0')), 32);
    const response = await send(newGateway(), new Request('https://gw.example/billing/x', { headers: bearer(`${h}.${p}.${b64u(twin)}`) }));
    expect(response.status).toBe(200);
    expect(kit.world.lastOriginRequest().headers['x-verified-sub']).toBe('alice');
  });
});

describe('header parameters the gateway does not understand', () => {
  it.each([
    ['crit', { crit: ['exp'], exp: 1 }],
    ['crit (empty)', { crit: [] }],
    ['b64: false', { b64: false, crit: ['b64'] }],
    ['enc in a JWS header', { enc: 'A128GCM' }],
    ['zip', { zip: 'DEF' }],
    ['nested cty: JWT', { cty: 'JWT' }],
    ['an unknown private header', { 'x-admin': true }],
  ])('%s is malformed, zero fetches', async (_name, extra) => {
    await expectRefused(kit, newGateway(), await signClaims(kit.rs256, validClaims(), extra), { codes: ['token_malformed'], fetches: 0 });
  });

  it('a JWE (5 segments) and the JSON serialization are malformed, zero fetches', async () => {
    const jwe = `${header({ alg: 'RSA-OAEP', enc: 'A128GCM' })}.${b64u('key')}.${b64u('iv')}.${b64u('ciphertext')}.${b64u('tag')}`;
    await expectRefused(kit, newGateway(), jwe, { codes: ['token_malformed'], fetches: 0 });
    const [h, p, s] = (await signClaims(kit.rs256, validClaims())).split('.');
    // JSON has quotes, braces and spaces: the extractor already calls it a malformed request (400).
    await expectRefused(kit, newGateway(), JSON.stringify({ payload: p, protected: h, signature: s }), { status: 400, codes: ['request_invalid'], fetches: 0 });
    await expectRefused(kit, newGateway(), JSON.stringify({ payload: p, signatures: [{ protected: h, signature: s }] }), { status: 400, codes: ['request_invalid'], fetches: 0 });
    // Without the separators the extractor looks for, the shape gate refuses it.
    await expectRefused(kit, newGateway(), JSON.stringify({ payload: p }), { codes: ['token_malformed'], fetches: 0 });
  });
});

describe('duplicate members', () => {
  it.each([
    ['header alg', '{"alg":"RS256","typ":"at+jwt","kid":"rs-1","alg":"none"}', null],
    ['header kid, escaped', '{"alg":"RS256","typ":"at+jwt","kid":"rs-1","\\u006bid":"other"}', null],
    ['payload sub', null, '{"iss":"%ISS%","aud":"%AUD%","sub":"alice","app_id":"billing","iat":%IAT%,"exp":%EXP%,"sub":"admin"}'],
    ['payload nested', null, '{"iss":"%ISS%","aud":"%AUD%","sub":"alice","app_id":"billing","iat":%IAT%,"exp":%EXP%,"roles":{"a":1,"a":2}}'],
  ])('duplicate %s in a validly signed token is malformed, zero fetches', async (_name, headerText, payloadText) => {
    const c = validClaims();
    const payload = (payloadText ?? JSON.stringify(c)).replace('%ISS%', c.iss).replace('%AUD%', c.aud).replace('%IAT%', String(c.iat)).replace('%EXP%', String(c.exp));
    const token = await signRaw(kit.rs256, headerText ?? '{"alg":"RS256","typ":"at+jwt","kid":"rs-1"}', payload);
    await expectRefused(kit, newGateway(), token, { codes: ['token_malformed'], fetches: 0 });
  });
});

describe('size, nesting and segments', () => {
  it('an oversized token is malformed, zero fetches', async () => {
    const token = await signClaims(kit.rs256, validClaims({ pad: 'x'.repeat(MAX_TOKEN_BYTES) }));
    await expectRefused(kit, newGateway(), token, { codes: ['token_malformed'], fetches: 0 });
  });
  it('an oversized header is malformed, zero fetches', async () => {
    await expectRefused(kit, newGateway(), await signClaims(kit.rs256, validClaims(), { typ: `at+jwt${' '.repeat(2000)}` }), { codes: ['token_malformed'], fetches: 0 });
  });
  it('a deeply nested payload is malformed, zero fetches', async () => {
    const c = validClaims();
    const payload = JSON.stringify(c).replace(/}$/, `,"deep":${'['.repeat(500)}${']'.repeat(500)}}`);
    await expectRefused(kit, newGateway(), await signRaw(kit.rs256, '{"alg":"RS256","typ":"at+jwt","kid":"rs-1"}', payload), { codes: ['token_malformed'], fetches: 0 });
  });
  it.each([1, 2, 4, 6, 100])('%d segments are malformed, zero fetches', async (count) => {
    const token = await signClaims(kit.rs256, validClaims());
    const parts = token.split('.');
    const segments = Array.from({ length: count }, (_, i) => parts[i % 3]!);
    await expectRefused(kit, newGateway(), segments.join('.'), { codes: ['token_malformed'], fetches: 0 });
  });
});

describe('non-canonical base64url', () => {
  const mutate = async (how: (parts: string[]) => string[]) => how((await signClaims(kit.rs256, validClaims())).split('.')).join('.');
  it.each([
    ['padding on the payload', (p: string[]) => [p[0]!, `${p[1]}==`, p[2]!]],
    ['standard alphabet (+ /)', (p: string[]) => [p[0]!, p[1]!, p[2]!.replace(/-/g, '+').replace(/_/g, '/') + (p[2]!.includes('-') || p[2]!.includes('_') ? '' : '+')]],
    ['non-zero trailing bits in the signature', (p: string[]) => [p[0]!, p[1]!, p[2]!.replace(/.$/, 'B')]],
    ['a length of 1 mod 4', (p: string[]) => [p[0]!, `${p[1]}A`, p[2]!]],
    ['percent-encoding', (p: string[]) => [p[0]!, p[1]!.replace(/^./, '%41'), p[2]!]],
  ])('%s is malformed, zero fetches', async (_name, how) => {
    await expectRefused(kit, newGateway(), await mutate(how), { codes: ['token_malformed'], fetches: 0 });
  });
  it('whitespace inside the token is a malformed request (400), zero fetches', async () => {
    await expectRefused(kit, newGateway(), await mutate((p) => [p[0]!, ` ${p[1]}`, p[2]!]), { status: 400, codes: ['request_invalid'], fetches: 0 });
  });
});
