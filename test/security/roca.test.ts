/** ROCA-weak RSA moduli (CVE-2017-15361) are refused where keys enter the gateway; ordinary keys are not. */
import { describe, expect, it } from 'vitest';
import type { JWK } from 'jose';
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
