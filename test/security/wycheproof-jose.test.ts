/**
 * Wycheproof's JWS/JWK/JWE-level files through the gateway's token path (test/security/jws-path.ts):
 * - a vector's `jws` is the bearer token; the group's public key (or key set) is what the issuer publishes,
 *   judged by the same JWKS gate as a fetched set, or, for a single `oct` key, the Worker secret of an HMAC
 *   issuer (src/keys/secret-key.ts); the algorithms pinned are the ones an operator would pin for those keys
 *   (their own `alg`, within the gateway's allow-list: ES512 is not in it);
 * - the JWT claim rules are left out (these payloads are "foo", not claim sets: test/security/attacks.test.ts
 *   and test/unit/verify/claims.test.ts cover them);
 * - `jwe` vectors are offered as bearer tokens too, and must be refused by the shape gate.
 * Expected result: the label, replaced by jws_expectation_overrides.json where it lists the vector, and
 * "rejected" wherever no configuration of the gateway can hold the keys (reasons below). Every vector must match.
 */
import type { JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { corpusJson } from './corpora.ts';
import { configurationFor, judgeJwsThroughGateway, type Stage } from './jws-path.ts';

interface Vector { tcId: number; comment: string; jws?: unknown; jwe?: unknown; result: 'valid' | 'invalid' | 'acceptable' }
interface Group { public?: JWK | { keys: JWK[] }; private?: JWK | { keys: JWK[] }; tests: Vector[] }
interface VectorFile { numberOfTests: number; testGroups: Group[] }
const OVERRIDE = 'jws_expectation_overrides.json';
const NOT_UTF8 = 'an HMAC key whose bytes are not UTF-8 cannot be a Worker secret (the only HMAC key source)';
const ONE_SECRET = 'an HMAC issuer has exactly one secret, not a key set';
const NO_ALG = 'no algorithm the gateway has fits these keys (ES512, encryption keys)';
const EMPTY_PAYLOAD = 'empty payload segment: contract rule 1 wants three non-empty segments (a JWT always has claims)';
const JWE = 'JWE is refused by a JWS verifier';

type Overrides = Record<string, Record<string, { wycheproof: string; ours: string; why: string }>>;

const DIR = 'wycheproof/testvectors_v1/';
const keysOf = (set: Group['public']): JWK[] => (set === undefined ? [] : 'keys' in set ? set.keys : [set as JWK]);
const token = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

interface Row { tcId: number; label: string; stage: Stage; expected: boolean; reason: string | null }

async function runFile(file: string): Promise<Row[]> {
  const data = await corpusJson<VectorFile>(DIR + file);
  const overrides = (await corpusJson<Overrides>('wycheproof/jws_expectation_overrides.json'))[file] ?? {};
  const rows: Row[] = [];
  for (const group of data.testGroups) {
    // What the issuer publishes: its public keys; a group with only a private key publishes that (and is refused).
    const published = keysOf(group.public ?? group.private);
    const configuration = configurationFor(published);
    for (const vector of group.tests) {
      const offered = token(vector.jws ?? vector.jwe);
      const stage = await judgeJwsThroughGateway(offered, published, configuration);
      const override = overrides[String(vector.tcId)];
      let expected = override ? override.ours.startsWith('valid') : vector.result === 'valid';
      let reason = override ? OVERRIDE : null;
      if (vector.jwe !== undefined) [expected, reason] = [false, JWE];
      else if (offered.split('.')[1] === '' && vector.result === 'valid') [expected, reason] = [false, EMPTY_PAYLOAD];
      else if (configuration.unconfigurable !== null) [expected, reason] = [false, configuration.unconfigurable];
      rows.push({ tcId: vector.tcId, label: vector.result, stage, expected, reason });
    }
  }
  expect(rows).toHaveLength(data.numberOfTests);
  return rows;
}

const mismatches = (rows: Row[]) => rows.filter((r) => (r.stage === 'accepted') !== r.expected).map((r) => `${r.tcId} (${r.label}, stopped at ${r.stage})`);
/** The vectors where the gateway's answer differs from Wycheproof's label, counted by reason. */
const differencesFromLabels = (rows: Row[]) => {
  const counts: Record<string, number> = {};
  for (const row of rows) {
    if ((row.stage === 'accepted') === (row.label === 'valid')) continue;
    const key = row.reason ?? 'UNEXPLAINED';
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
};

describe('Wycheproof JWS/JWK/JWE files through the gateway token path', () => {
  it('json_web_signature_test.json: every vector as the label or the override says', async () => {
    const rows = await runFile('json_web_signature_test.json');
    expect(mismatches(rows)).toEqual([]);
    expect(differencesFromLabels(rows)).toEqual({ [NOT_UTF8]: 3, [NO_ALG]: 2, [EMPTY_PAYLOAD]: 6, [OVERRIDE]: 6 });
    // 346/350: PS384 token, key alg PS256; 367/370: byte-identical to valid 357; 372/373: '?' inserted.
    const overridden = rows.filter((r) => r.reason === OVERRIDE && (r.stage === 'accepted') !== (r.label === 'valid')).map((r) => r.tcId);
    expect(overridden).toEqual([346, 350, 367, 370, 372, 373]);
  });

  it('json_web_signature_test.json: the encodings jose accepts are stopped by the shape gate', async () => {
    const stageOf = new Map((await runFile('json_web_signature_test.json')).map((r) => [r.tcId, r.stage]));
    // spaces in MAC/header/payload, '?' and '#' inserted, non-zero unused bits: refused as text, before anything else.
    for (const tcId of [360, 361, 362, 363, 364, 365, 366, 368, 369, 371, 372, 373, 374, 375]) expect([tcId, stageOf.get(tcId)]).toEqual([tcId, 'shape']);
    // the well-formed HS256 tokens of the same group pass the gate and verify, the group's key being the Worker secret.
    for (const tcId of [357, 358, 359, 367, 370, 376, 377]) expect([tcId, stageOf.get(tcId)]).toEqual([tcId, 'accepted']);
  });

  it.each([
    ['json_web_key_test.json', { [ONE_SECRET]: 1 }],
    ['json_web_crypto_test.json', { [NOT_UTF8]: 1, [ONE_SECRET]: 1, [JWE]: 2 }],
  ])('%s: every vector as the label or the override says', async (file, differences) => {
    const rows = await runFile(file);
    expect(mismatches(rows)).toEqual([]);
    expect(differencesFromLabels(rows)).toEqual(differences);
  });

  it('json_web_encryption_test.json: every JWE, compact or JSON, is refused by the shape gate', async () => {
    const rows = await runFile('json_web_encryption_test.json');
    expect(rows.filter((r) => r.stage !== 'shape')).toEqual([]);
  });
});
