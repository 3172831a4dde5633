/**
 * The gateway imports JWKs with WebCrypto directly (src/keys/import-key.ts) and computes its signing keys'
 * thumbprints itself (src/keys/thumbprint.ts), where it used jose's importJWK and calculateJwkThumbprint:
 * these hold both to jose's answers, key by key, odd keys included.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { importJwk, importVerificationKey, type AsymmetricAlgorithm } from '../../../src/keys/import-key.ts';
import { jwkThumbprint } from '../../../src/keys/thumbprint.ts';

type Outcome = { ok: true; type: string; extractable: boolean; usages: string[]; algorithm: unknown } | { ok: false };

const outcomeOf = (imported: Promise<unknown>): Promise<Outcome> =>
  imported.then(
    (key) => {
      const { type, extractable, usages, algorithm } = key as CryptoKey;
      return { ok: true, type, extractable, usages: [...usages].sort(), algorithm: JSON.parse(JSON.stringify(algorithm)) };
    },
    () => ({ ok: false }),
  );

const pairs: Record<string, { alg: AsymmetricAlgorithm; publicJwk: JWK; privateJwk: JWK }> = {};

beforeAll(async () => {
  const kinds: [string, AsymmetricAlgorithm, Parameters<typeof generateKeyPair>[1]][] = [
    ['RSA', 'RS256', { modulusLength: 2048, extractable: true }],
    ['EC P-256', 'ES256', { extractable: true }],
    ['EC P-384', 'ES384', { extractable: true }],
    ['OKP Ed25519', 'EdDSA', { crv: 'Ed25519', extractable: true }],
  ];
  for (const [name, alg, options] of kinds) {
    const { publicKey, privateKey } = await generateKeyPair(alg, options);
    pairs[name] = { alg, publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) };
  }
});

/** Variants of a public JWK a key set may bring: a member changed, added or dropped. */
function variants(jwk: JWK, alg: AsymmetricAlgorithm): [string, JWK][] {
  const { x: _x, n: _n, ...withoutMaterial } = jwk;
  return [
    ['as exported', jwk],
    ['with its alg and use', { ...jwk, alg, use: 'sig' }],
    // alg and use were judged before (validate-jwk.ts); WebCrypto would refuse these, jose leaves them out.
    ['with the alg of another hash', { ...jwk, alg: alg.endsWith('256') ? `${alg.slice(0, 2)}384` : `${alg.slice(0, 2)}256` }],
    ['with use "enc"', { ...jwk, use: 'enc' }],
    ['with key_ops ["verify"]', { ...jwk, key_ops: ['verify'] }],
    ['with key_ops listing verify twice', { ...jwk, key_ops: ['verify', 'verify'] }],
    ['with a key_ops entry that is not a string', { ...jwk, key_ops: ['verify', 1 as unknown as string] }],
    ['with key_ops ["sign"] on a public key', { ...jwk, key_ops: ['sign'] }],
    ['with key_ops ["verify", "encrypt"]', { ...jwk, key_ops: ['verify', 'encrypt'] }],
    ['with ext true', { ...jwk, ext: true }],
    ['without its material', withoutMaterial],
    ['with a member of another curve', { ...jwk, crv: jwk.kty === 'OKP' ? 'Ed448' : jwk.kty === 'EC' ? (jwk.crv === 'P-256' ? 'P-384' : 'P-256') : 'P-256' }],
  ];
}

describe('importJwk gives the key jose importJWK gives, or fails where it fails', () => {
  for (const name of ['RSA', 'EC P-256', 'EC P-384', 'OKP Ed25519']) {
    it(`${name} public keys`, async () => {
      const { alg, publicJwk } = pairs[name]!;
      const algs: AsymmetricAlgorithm[] = name === 'RSA' ? ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] : [alg];
      let imported = 0;
      for (const each of algs) {
        for (const [variant, jwk] of variants(publicJwk, each)) {
          // The gateway's path before: importJWK({ ...jwk, ext: false }, alg) (src/keys/import-key.ts at 15f81ba).
          const ours = await outcomeOf(importJwk(jwk, each));
          expect(ours, `${each} ${variant}`).toEqual(await outcomeOf(importJWK({ ...jwk, ext: false }, each)));
          if (ours.ok) imported++;
        }
      }
      expect(imported).toBeGreaterThanOrEqual(algs.length * 3);
    });
  }

  it('private signing keys, as the assertion signer imports them (key_ops ["sign"])', async () => {
    for (const name of ['EC P-256', 'OKP Ed25519']) {
      const { alg, privateJwk } = pairs[name]!;
      const ours = await outcomeOf(importJwk({ ...privateJwk, key_ops: ['sign'] }, alg));
      expect(ours).toMatchObject({ ok: true, type: 'private', extractable: false, usages: ['sign'] });
      expect(ours).toEqual(await outcomeOf(importJWK({ ...privateJwk, ext: false, key_ops: ['sign'] }, alg)));
    }
  });

  it('a key imported here verifies what its private key signed', async () => {
    const { privateJwk, publicJwk } = pairs['EC P-256']!;
    const data = new TextEncoder().encode('signed');
    const signer = await importJwk({ ...privateJwk, key_ops: ['sign'] }, 'ES256');
    const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, signer, data);
    const verifier = await importVerificationKey(publicJwk, 'ES256');
    expect(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, verifier, signature, data)).toBe(true);
  });

  it('importVerificationKey refuses a key that does not fit the algorithm before WebCrypto sees it', async () => {
    await expect(importVerificationKey(pairs['EC P-384']!.publicJwk, 'ES256')).rejects.toThrow(TypeError);
    await expect(importVerificationKey(pairs.RSA!.publicJwk, 'HS256')).rejects.toThrow(TypeError);
  });
});

describe('jwkThumbprint', () => {
  it('is the RFC 8037 (appendix A.3) thumbprint of its Ed25519 example key', async () => {
    const jwk: JWK = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };
    expect(await jwkThumbprint(jwk)).toBe('kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
  });

  it("is jose's calculateJwkThumbprint for EC and OKP keys, members in any order and extra members ignored", async () => {
    for (const name of ['EC P-256', 'EC P-384', 'OKP Ed25519']) {
      const { publicJwk, alg } = pairs[name]!;
      const reordered = Object.fromEntries(Object.entries({ ...publicJwk, alg, use: 'sig', kid: 'k' }).reverse()) as JWK;
      expect(await jwkThumbprint(reordered)).toBe(await calculateJwkThumbprint(publicJwk));
    }
  });

  it('throws, as jose does, for a key without a required member or of another type', async () => {
    const { x: _x, ...withoutX } = pairs['OKP Ed25519']!.publicJwk;
    const { y: _y, ...withoutY } = pairs['EC P-256']!.publicJwk;
    for (const jwk of [withoutX, withoutY, { ...withoutY, y: '' }, { ...withoutX, x: 7 as unknown as string }, { kty: 'XYZ' }]) {
      await expect(jwkThumbprint(jwk)).rejects.toThrow(TypeError);
      await expect(calculateJwkThumbprint(jwk)).rejects.toThrow();
    }
  });
});
