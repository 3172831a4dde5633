/**
 * Wycheproof signature vectors through the gateway's own key import (importVerificationKey) and verify
 * primitive (verifySignatureBytes), for every algorithm the gateway allows. Each file's outcome is compared
 * with its labels; every place the gateway differs is pinned below with its reason, so a new difference
 * (or a vanished one) fails the test. `acceptable` vectors: the gateway's choice is to reject them.
 */
import type { JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import type { Algorithm } from '../../src/config/types.ts';
import { MIN_HMAC_SECRET_BYTES } from '../../src/config/constants.ts';
import { importVerificationKey } from '../../src/keys/import-key.ts';
import { resolveSecretKey } from '../../src/keys/secret-key.ts';
import { judgeJwk } from '../../src/keys/validate-jwk.ts';
import { base64UrlEncode } from '../../src/token/base64url.ts';
import { verifySignatureBytes } from '../../src/verify/signature.ts';
import { corpusFileNames, corpusJson, hexToBytes } from './corpora.ts';

interface Vector { tcId: number; comment: string; msg: string; sig: string; result: 'valid' | 'invalid' | 'acceptable' }
interface Group {
  sha?: string;
  sLen?: number;
  keyJwk?: JWK;
  publicKeyJwk?: JWK;
  publicKey?: { modulus?: string; publicExponent?: string; curve?: string; wx?: string; wy?: string };
  tests: Vector[];
}
interface VectorFile { numberOfTests: number; testGroups: Group[] }

const ALLOWED: Algorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];
const DIR = 'wycheproof/testvectors_v1/';

/** Hex integer to unsigned big-endian bytes of `width` (or minimal) length, as a JWK member. */
function hexToB64u(hex: string, width?: number): string {
  let bytes = hexToBytes(hex.length % 2 ? `0${hex}` : hex);
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  bytes = bytes.slice(start);
  if (width !== undefined && bytes.length < width) bytes = new Uint8Array([...new Uint8Array(width - bytes.length), ...bytes]);
  return base64UrlEncode(bytes);
}

/** The group's public key as a JWK: the file's own JWK where it has one, else built from its hex members. */
function groupJwk(group: Group): JWK {
  const jwk = group.publicKeyJwk ?? group.keyJwk;
  if (jwk) return jwk;
  const key = group.publicKey!;
  if (key.modulus) return { kty: 'RSA', n: hexToB64u(key.modulus), e: hexToB64u(key.publicExponent!) };
  const curve = { secp256r1: ['P-256', 32], secp384r1: ['P-384', 48], secp521r1: ['P-521', 66] }[key.curve!] as [string, number];
  return { kty: 'EC', crv: curve[0], x: hexToB64u(key.wx!, curve[1]), y: hexToB64u(key.wy!, curve[1]) };
}

interface Outcome { vectors: number; counts: Record<string, number>; differences: string[]; importRefused: number }

/** Every vector of `file` under `alg`; a key the gateway cannot import rejects every vector of its group. */
async function run(file: string, alg: Algorithm): Promise<Outcome> {
  const data = await corpusJson<VectorFile>(DIR + file);
  const outcome: Outcome = { vectors: 0, counts: {}, differences: [], importRefused: 0 };
  for (const group of data.testGroups) {
    let key: CryptoKey | null = null;
    try {
      key = await importVerificationKey(groupJwk(group), alg);
    } catch {
      outcome.importRefused++;
    }
    for (const vector of group.tests) {
      outcome.vectors++;
      outcome.counts[vector.result] = (outcome.counts[vector.result] ?? 0) + 1;
      const accepted = key !== null && (await verifySignatureBytes(alg, key, hexToBytes(vector.sig), hexToBytes(vector.msg)));
      if (accepted !== (vector.result === 'valid')) outcome.differences.push(`${vector.tcId}:${vector.result}->${accepted ? 'accepted' : 'rejected'}`);
    }
  }
  expect(outcome.vectors).toBe(data.numberOfTests);
  return outcome;
}

const PKCS1 = [
  ['rsa_signature_2048_sha256_test.json', 'RS256'],
  ['rsa_signature_2048_sha384_test.json', 'RS384'],
  ['rsa_signature_2048_sha512_test.json', 'RS512'],
  ['rsa_signature_3072_sha256_test.json', 'RS256'],
  ['rsa_signature_3072_sha384_test.json', 'RS384'],
  ['rsa_signature_3072_sha512_test.json', 'RS512'],
  ['rsa_signature_4096_sha256_test.json', 'RS256'],
  ['rsa_signature_4096_sha384_test.json', 'RS384'],
  ['rsa_signature_4096_sha512_test.json', 'RS512'],
] as const;
const PSS = [
  ['rsa_pss_2048_sha256_mgf1_32_test.json', 'PS256'],
  ['rsa_pss_2048_sha384_mgf1_48_test.json', 'PS384'],
  ['rsa_pss_3072_sha256_mgf1_32_test.json', 'PS256'],
  ['rsa_pss_4096_sha256_mgf1_32_test.json', 'PS256'],
  ['rsa_pss_4096_sha384_mgf1_48_test.json', 'PS384'],
  ['rsa_pss_4096_sha512_mgf1_64_test.json', 'PS512'],
] as const;
const P1363 = [
  ['ecdsa_secp256r1_sha256_p1363_test.json', 'ES256'],
  ['ecdsa_secp384r1_sha384_p1363_test.json', 'ES384'],
] as const;
const EDDSA = [['ed25519_test.json', 'EdDSA']] as const;

describe('Wycheproof vectors through importVerificationKey + verifySignatureBytes', () => {
  it.each([...PKCS1, ...PSS, ...P1363, ...EDDSA])('%s under %s: every vector matches its label (acceptable -> rejected)', async (file, alg) => {
    const outcome = await run(file, alg);
    expect(outcome.importRefused).toBe(0);
    expect(outcome.differences).toEqual([]);
  });

  it('the e = 3 RSA groups verify as labelled, and the JWKS gate refuses those keys before they are ever imported', async () => {
    let groups = 0;
    for (const [file] of PKCS1) {
      const data = await corpusJson<VectorFile>(DIR + file);
      for (const group of data.testGroups.filter((g) => g.keyJwk!.e !== 'AQAB')) {
        groups++;
        expect(judgeJwk(group.keyJwk)).toEqual({ kind: 'refused', reason: 'RSA exponent is not 65537' });
      }
    }
    expect(groups).toBeGreaterThan(0);
  });

  it('rsa_pss_2048_sha256_mgf1_0 under PS256 (salt 32, RFC 7518 3.5): the salt-0 "valid" vectors are rejected; tcId 69 is a real salt-32 signature', async () => {
    const outcome = await run('rsa_pss_2048_sha256_mgf1_0_test.json', 'PS256');
    const data = await corpusJson<VectorFile>(DIR + 'rsa_pss_2048_sha256_mgf1_0_test.json');
    const valid = data.testGroups.flatMap((g) => g.tests).filter((t) => t.result === 'valid').map((t) => `${t.tcId}:valid->rejected`);
    expect(valid).toHaveLength(61);
    expect(outcome.differences.sort()).toEqual([...valid, '69:invalid->accepted'].sort());
  });

  it.each(['ecdsa_secp256r1_sha256_test.json', 'ecdsa_secp384r1_sha384_test.json'])('%s (DER signatures): every vector is rejected, valid ones included', async (file) => {
    const alg = file.includes('256') ? 'ES256' : 'ES384';
    const outcome = await run(file, alg);
    expect(outcome.importRefused).toBe(0);
    const data = await corpusJson<VectorFile>(DIR + file);
    const valid = data.testGroups.flatMap((g) => g.tests).filter((t) => t.result === 'valid').map((t) => `${t.tcId}:valid->rejected`);
    expect(valid.length).toBeGreaterThan(150);
    // Only the valid vectors differ from their label: nothing labelled invalid (or acceptable) is accepted.
    expect(outcome.differences).toEqual(valid);
  });

  it('ecdsa_secp521r1_sha512_p1363 (ES512 is not allowed): the P-521 keys are refused for every allowed algorithm', async () => {
    const data = await corpusJson<VectorFile>(DIR + 'ecdsa_secp521r1_sha512_p1363_test.json');
    for (const group of data.testGroups) {
      for (const alg of ALLOWED) await expect(importVerificationKey(groupJwk(group), alg)).rejects.toThrow(TypeError);
    }
  });

  it.each([
    ['hmac_sha256_test.json', 'HS256', 'SHA-256'],
    ['hmac_sha384_test.json', 'HS384', 'SHA-384'],
    ['hmac_sha512_test.json', 'HS512', 'SHA-512'],
  ] as const)('%s under %s (HMAC issuers, key from a Worker secret): as labelled, except truncated tags and short keys', async (file, alg, hash) => {
    const data = await corpusJson<{ numberOfTests: number; testGroups: { keySize: number; tagSize: number; tests: (Vector & { key: string; tag: string })[] }[] }>(DIR + file);
    const fullTag = MIN_HMAC_SECRET_BYTES[alg] * 8;
    const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    const counts = { vectors: 0, throughWorkerSecret: 0, differences: [] as string[], unexplained: [] as string[] };
    for (const group of data.testGroups) {
      for (const vector of group.tests) {
        counts.vectors++;
        const keyBytes = hexToBytes(vector.key);
        const tag = hexToBytes(vector.tag);
        const msg = hexToBytes(vector.msg);
        // The verify primitive on the key bytes, imported with the parameters the secret-key layer uses.
        const raw = await crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash }, false, ['verify']);
        let accepted = await verifySignatureBytes(alg, raw, tag, msg);
        // A Worker secret is a string: keys whose bytes are UTF-8 also go through the gateway's own key layer.
        let secret: string | null = null;
        try {
          secret = strictUtf8.decode(keyBytes);
        } catch {}
        if (secret !== null && secret.length > 0) {
          counts.throughWorkerSecret++;
          const key = await resolveSecretKey('WYCHEPROOF_SECRET', alg, { WYCHEPROOF_SECRET: secret });
          const viaGateway = key.ok && (await verifySignatureBytes(alg, key.key, tag, msg));
          if (!key.ok) expect(keyBytes.length).toBeLessThan(MIN_HMAC_SECRET_BYTES[alg]);
          else expect(viaGateway).toBe(accepted);
          accepted = viaGateway;
        }
        if (accepted === (vector.result === 'valid')) continue;
        const reason = group.tagSize < fullTag ? 'truncated tag' : keyBytes.length < MIN_HMAC_SECRET_BYTES[alg] && secret !== null ? 'short key' : null;
        (reason ? counts.differences : counts.unexplained).push(`${vector.tcId}:${vector.result}->${accepted ? 'accepted' : 'rejected'} (${reason})`);
      }
    }
    expect(counts.vectors).toBe(data.numberOfTests);
    expect(counts.unexplained).toEqual([]);
    // Every difference is a valid-labelled vector the gateway rejects: nothing labelled invalid is accepted.
    expect(counts.differences.every((d) => d.includes(':valid->rejected'))).toBe(true);
    // Pinned (the same in the three files): 108 of 174 keys are UTF-8 and also went through resolveSecretKey;
    // the 33 differences are the valid vectors with 128-bit tags (27 + 3 + 3), never valid in JWS.
    expect(counts.throughWorkerSecret).toBe(108);
    expect(counts.differences).toHaveLength(33);
    expect(counts.differences.every((d) => d.endsWith('(truncated tag)'))).toBe(true);
  });

  it('a symmetric key is never imported as a JWK, for any asymmetric algorithm', async () => {
    const jwk: JWK = { kty: 'oct', k: hexToB64u('00'.repeat(32)) };
    for (const alg of ALLOWED) await expect(importVerificationKey(jwk, alg)).rejects.toThrow(TypeError);
    expect(judgeJwk(jwk)).toMatchObject({ kind: 'refused' });
  });

  it('every Wycheproof file is covered by one of the tests of this suite or of the JWS-level suite', () => {
    const covered = new Set<string>([
      ...[...PKCS1, ...PSS, ...P1363, ...EDDSA].map(([file]) => file),
      'rsa_pss_2048_sha256_mgf1_0_test.json',
      'ecdsa_secp256r1_sha256_test.json',
      'ecdsa_secp384r1_sha384_test.json',
      'ecdsa_secp521r1_sha512_p1363_test.json',
      'hmac_sha256_test.json',
      'hmac_sha384_test.json',
      'hmac_sha512_test.json',
      // test/security/wycheproof-jose.test.ts:
      'json_web_signature_test.json',
      'json_web_key_test.json',
      'json_web_crypto_test.json',
      'json_web_encryption_test.json',
    ]);
    expect(corpusFileNames(DIR).map((path) => path.slice(DIR.length)).sort()).toEqual([...covered].sort());
  });
});
