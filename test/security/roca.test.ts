/** ROCA-weak RSA moduli (CVE-2017-15361) are refused where keys enter the gateway; ordinary keys are not. */
import { describe, expect, it } from 'vitest';
import type { JWK } from 'jose';
import { inGeneratedSubgroup, orderOf65537, ROCA_PRIMES } from '../../src/keys/roca.ts';
import { judgeJwk } from '../../src/keys/validate-jwk.ts';
import { makeKey } from '../helpers/keys.ts';
import { corpusJson } from './corpora.ts';

interface VectorFile { testGroups: { public?: { keys: JWK[] }; tests: { tcId: number; comment: string }[] }[] }

describe('the ROCA fingerprint', () => {
  it("refuses Wycheproof's ROCA key (json_web_key_test tcId 7) for that reason", async () => {
    const file = await corpusJson<VectorFile>('wycheproof/testvectors_v1/json_web_key_test.json');
    const group = file.testGroups.find((g) => g.tests.some((t) => t.tcId === 7))!;
    expect(group.tests.find((t) => t.tcId === 7)!.comment).toBe('rejectsKeyWithRocaVulnerability');
    const rsaKeys = group.public!.keys.filter((k) => k.kty === 'RSA');
    expect(rsaKeys.length).toBeGreaterThan(0);
    for (const key of rsaKeys) expect(judgeJwk(key)).toEqual({ kind: 'refused', reason: 'RSA modulus has the ROCA fingerprint (CVE-2017-15361)' });
  });

  it('accepts freshly generated RSA keys (no false positive in 8 keys)', async () => {
    for (let i = 0; i < 8; i++) expect(judgeJwk((await makeKey('RS256', `fresh-${i}`)).publicJwk)).toEqual({ kind: 'accepted' });
  });
});

describe('subgroup membership by order', () => {
  it('tests the 38 primes of the published fingerprint (Nemec et al., CCS 2017), no more, no fewer', () => {
    expect(ROCA_PRIMES).toEqual([
      3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
    ]);
  });

  it('agrees with the listed subgroup of 65537 for every residue mod every prime below 170', () => {
    for (let prime = 3; prime < 170; prime += 2) {
      if (!isPrime(prime)) continue;
      const listed = new Set<number>();
      for (let value = 1; !listed.has(value); value = (value * (65537 % prime)) % prime) listed.add(value);
      expect(orderOf65537(prime)).toBe(listed.size);
      for (let residue = 0; residue < prime; residue++) expect(inGeneratedSubgroup(residue, prime), `${residue} mod ${prime}`).toBe(listed.has(residue));
    }
  });
});

function isPrime(n: number): boolean {
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return n > 1;
}
