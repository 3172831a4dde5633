import { describe, expect, it } from 'vitest';
import { judgeJwk, judgeJwks, keyAllowsAlgorithm } from '../../../src/keys/validate-jwk.ts';
import { MAX_LOG_VALUE_CHARS } from '../../../src/config/constants.ts';
import { makeKey } from '../../helpers/keys.ts';

const rsa = (await makeKey('RS256', 'r')).publicJwk;
const ec = (await makeKey('ES256', 'e')).publicJwk;
const ed = (await makeKey('EdDSA', 'd')).publicJwk;
// A 1024-bit modulus: 128 bytes of base64url.
const weakN = 'w' + 'A'.repeat(170);

describe('judgeJwk', () => {
  it.each([rsa, ec, ed])('accepts a public %s key', (jwk) => {
    expect(judgeJwk(jwk)).toEqual({ kind: 'accepted' });
  });

  it.each([
    ['private RSA material', { ...rsa, d: 'AQAB' }, 'key carries private or secret member "d"'],
    ['a symmetric key', { kty: 'oct', k: 'c2VjcmV0' }, 'key carries private or secret member "k"'],
    ['RSA-1024', { ...rsa, n: weakN }, 'RSA modulus under 2048 bits'],
    ['e = 3', { ...rsa, e: 'Aw' }, 'RSA exponent is not 65537'],
    ['e = 1', { ...rsa, e: 'AQ' }, 'RSA exponent is not 65537'],
    ['an issuer-supplied alg of 10,000 characters (shown bounded)', { ...rsa, alg: 'X'.repeat(10_000) }, `alg "${'X'.repeat(MAX_LOG_VALUE_CHARS)}…" does not fit a RSA key`],
    ['alg not fitting the key type', { ...rsa, alg: 'ES256' }, 'alg "ES256" does not fit a RSA key'],
    ['alg HS256 on an RSA key', { ...rsa, alg: 'HS256' }, 'alg "HS256" does not fit a RSA key'],
    ['P-256 labelled ES384', { ...ec, alg: 'ES384' }, 'alg "ES384" does not fit a EC key'],
    ['a kid that is not a string', { ...rsa, kid: 7 }, 'kid is not a string of 1..256 characters'],
    ['not an object', 'key', 'key is not an object'],
  ])('refuses %s', (_name, jwk, reason) => {
    expect(judgeJwk(jwk)).toEqual({ kind: 'refused', reason });
  });

  it.each([
    ['an encryption key', { ...rsa, use: 'enc' }],
    ['a key whose key_ops exclude verify', { ...rsa, key_ops: ['encrypt'] }],
    ['an X25519 key', { kty: 'OKP', crv: 'X25519', x: 'AA' }],
    ['a P-521 key', { ...ec, crv: 'P-521', alg: undefined }],
  ])('skips %s (not a signature key)', (_name, jwk) => {
    expect(judgeJwk(jwk).kind).toBe('skipped');
  });
});

describe('judgeJwks', () => {
  it('keeps the signature keys and skips the rest', () => {
    expect(judgeJwks({ keys: [rsa, { ...ec, use: 'enc', kid: 'enc' }] })).toEqual({ ok: true, keys: [rsa], skipped: ['keys[1]: use is "enc", not "sig"'] });
  });
  it.each([
    ['no keys array', { key: [] }, 'no "keys" array'],
    ['a duplicate kid', { keys: [rsa, { ...ec, kid: 'r' }] }, 'keys[1]: duplicate kid'],
    ['one dangerous key among good ones', { keys: [rsa, { ...ed, d: 'AA' }] }, 'keys[1]: key carries private or secret member "d"'],
    ['only encryption keys', { keys: [{ ...rsa, use: 'enc' }] }, 'no usable signature key'],
    ['too many keys', { keys: Array.from({ length: 101 }, (_, i) => ({ ...ed, kid: String(i) })) }, 'more than 100 keys'],
  ])('refuses a set with %s', (_name, body, reason) => {
    expect(judgeJwks(body)).toEqual({ ok: false, reason });
  });
});

describe('keyAllowsAlgorithm', () => {
  it.each([
    [rsa, 'RS256', true],
    [{ ...rsa, alg: undefined }, 'PS256', true],
    [rsa, 'PS256', false],
    [ec, 'ES256', true],
    [ec, 'ES384', false],
    [ed, 'EdDSA', true],
    [ed, 'RS256', false],
  ] as const)('%#: %s', (jwk, alg, expected) => {
    expect(keyAllowsAlgorithm(jwk, alg)).toBe(expected);
  });
});
