/**
 * Known answers from the RFCs: RFC 7515 Appendix A, RFC 7520 (JOSE Cookbook), RFC 7797 (b64=false) and
 * RFC 8037 (Ed25519). Positive examples verify through the gateway at a pinned clock; examples the gateway
 * must refuse (b64=false, JWE, nested JWT, algorithms outside its allow-list, alg none) are refused, and the
 * test says at which stage.
 * - JWT examples (claims inside) go through authenticate(), the Worker's own chain, with an inline issuer.
 * - JWS examples whose payload is prose go through the token path without the claim rules (jws-path.ts).
 */
import type { JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { KeyStore } from '../../src/keys/key-store.ts';
import { detachedKeys } from '../../src/keys/detached-keys.ts';
import { authenticate } from '../../src/verify/authenticate.ts';
import { compileOrThrow } from '../helpers/gateway.ts';
import { corpusJson } from './corpora.ts';
import { configurationFor, judgeJwsThroughGateway } from './jws-path.ts';

interface AppendixCase { id: string; alg: string; compact: string; jwk_public: JWK }
interface CookbookJws { input: { key: JWK; alg: string }; output: { compact?: string; json?: unknown; json_flat?: unknown } }

/** What an issuer publishes: the key without its private members. */
const publicPart = ({ d, p, q, dp, dq, qi, oth, k, ...rest }: JWK): JWK => (k === undefined ? rest : { ...rest, k });

/** The RFC examples expire on 2011-03-22T18:43:00Z (exp 1300819380): the clock is pinned a minute before. */
const EXP = 1300819380;
const BEFORE_EXP = EXP - 60;

async function authenticateAt(token: string, issuer: string, jwk: JWK, alg: string, now: number) {
  const config = compileOrThrow(
    JSON.stringify({
      issuers: { rfc: { issuer, keys: [publicPart(jwk)], algorithms: [alg], max_lifetime_seconds: 86400 } },
      routes: { r: { path: '/*', issuers: ['rfc'], audiences: ['https://api.example'], origin: 'https://origin.example' } },
    }),
  );
  return authenticate({
    headers: new Headers({ authorization: `Bearer ${token}` }),
    route: config.routes[0]!,
    config,
    keys: detachedKeys(new KeyStore({ allowLoopbackHttp: false })),
    now,
  });
}

const codes = (result: Awaited<ReturnType<typeof authenticateAt>>) => (result.ok ? [] : result.findings.map((f) => `${f.code}${f.claim ? `:${f.claim}` : ''}`));

describe('RFC 7515 Appendix A', () => {
  const appendix = () => corpusJson<{ cases: AppendixCase[] }>('rfc7515-appendix-a/rfc7515_appendix_a.json').then((d) => new Map(d.cases.map((c) => [c.id, c])));

  it.each(['RFC7515-A.2', 'RFC7515-A.3'])('%s verifies at the pinned clock; as an access token it lacks only aud and sub; after exp it is also expired', async (id) => {
    const example = (await appendix()).get(id)!;
    const before = await authenticateAt(example.compact, 'joe', example.jwk_public, example.alg, BEFORE_EXP);
    // The signature verified: only a verified token gets as far as the claim checks, whose findings these are; and nothing about time is wrong.
    expect(before.evidence.keyLayer).toBe('inline');
    expect(codes(before)).toEqual(['claim_missing:aud', 'claim_missing:sub']);
    const after = await authenticateAt(example.compact, 'joe', example.jwk_public, example.alg, EXP + 61);
    expect(codes(after)).toEqual(['token_expired:exp', 'claim_missing:aud', 'claim_missing:sub']);
  });

  it('A.1 (HS256) and 4.4 (HS256) keys are not UTF-8, so no HMAC issuer (Worker secret) can hold them', async () => {
    const a1 = (await appendix()).get('RFC7515-A.1')!;
    expect(configurationFor([{ ...a1.jwk_public, alg: 'HS256' }]).unconfigurable).toMatch(/not UTF-8/);
    const c44 = await corpusJson<CookbookJws>('rfc7520-cookbook/jws/4_4.hmac-sha2_integrity_protection.json');
    expect(configurationFor([c44.input.key]).unconfigurable).toMatch(/not UTF-8/);
  });

  it('A.1 (HS256), A.4 (ES512) and A.5 (alg none) are refused by an RSA/EC/EdDSA issuer at the algorithm stage (attacks-token.test.ts holds the order in the gateway itself)', async () => {
    const cases = await appendix();
    for (const id of ['RFC7515-A.1', 'RFC7515-A.4', 'RFC7515-A.5']) {
      const example = cases.get(id)!;
      expect([id, await judgeJwsThroughGateway(example.compact, [], { algorithms: ['RS256', 'ES256', 'EdDSA'], secret: null })]).toEqual([id, example.alg === 'none' ? 'shape' : 'alg']);
    }
  });

  it('A.5 (alg none) has an empty signature segment: the shape gate refuses it', async () => {
    const none = (await appendix()).get('RFC7515-A.5')!;
    expect(none.compact.endsWith('.')).toBe(true);
    const result = await authenticateAt(none.compact, 'joe', (await appendix()).get('RFC7515-A.2')!.jwk_public, 'RS256', BEFORE_EXP);
    expect(codes(result)).toEqual(['token_malformed']);
  });
});

describe('RFC 7520 (JOSE Cookbook) and RFC 8037', () => {
  const cookbook = (file: string) => corpusJson<CookbookJws>(`rfc7520-cookbook/${file}`);

  it.each([
    ['jws/4_1.rsa_v15_signature.json', 'RS256'],
    ['jws/4_2.rsa-pss_signature.json', 'PS384'],
    ['curve25519/jws.json', 'EdDSA'],
  ])('%s (%s) verifies through the token path with the published key', async (file, alg) => {
    const example = await cookbook(file);
    const key = publicPart(example.input.key);
    expect(configurationFor([key]).algorithms).toContain(alg);
    expect(await judgeJwsThroughGateway(example.output.compact!, [key], { algorithms: [alg as never], secret: null })).toBe('accepted');
    // One flipped character of the signature and it does not.
    const tampered = example.output.compact!.replace(/.$/, (c) => (c === 'A' ? 'Q' : 'A'));
    expect(await judgeJwsThroughGateway(tampered, [key], { algorithms: [alg as never], secret: null })).toBe('signature');
  });

  it.each([
    ['jws/4_3.ecdsa_signature.json', 'alg', 'ES512 is not in the allow-list'],
    ['jws/4_4.hmac-sha2_integrity_protection.json', 'alg', 'HS256 on an RSA/EC/EdDSA issuer'],
    ['jws/4_5.signature_with_detached_content.json', 'shape', 'detached content: empty payload segment'],
  ])('%s is refused at the %s stage (%s)', async (file, stage) => {
    const example = await cookbook(file);
    const key = publicPart(example.input.key);
    expect(await judgeJwsThroughGateway(example.output.compact!, [key], { algorithms: ['RS256', 'PS384', 'ES256', 'ES384', 'EdDSA'], secret: null })).toBe(stage);
  });

  it.each(['jws/4_1.rsa_v15_signature.json', 'jws/4_6.protecting_specific_header_fields.json', 'jws/4_7.protecting_content_only.json', 'jws/4_8.multiple_signatures.json'])(
    '%s in JSON serialization (general and flattened) is refused by the shape gate',
    async (file) => {
      const example = await cookbook(file);
      const forms = [example.output.json, example.output.json_flat].filter((f) => f !== undefined);
      expect(forms.length).toBeGreaterThan(0);
      for (const form of forms) expect(await judgeJwsThroughGateway(JSON.stringify(form), [publicPart(example.input.key)], { algorithms: ['RS256'], secret: null })).toBe('shape');
    },
  );

  it.each(['rfc7797/hmac-sha2_b64_false.json', 'rfc7797/4.2.hmac-sha2_b64_false.json'])('%s (b64=false) is refused by the shape gate in every serialization', async (file) => {
    const example = await corpusJson<CookbookJws & { signing: { protected_b64u: string; sig: string }; input: { payload: string } }>(`rfc7520-cookbook/${file}`);
    const forms = [example.output.compact, JSON.stringify(example.output.json), JSON.stringify(example.output.json_flat)].filter((f): f is string => typeof f === 'string');
    // The compact form with the payload base64url-encoded after all: the b64/crit header alone must refuse it.
    forms.push(`${example.signing.protected_b64u}.${btoa(example.input.payload).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')}.${example.signing.sig}`);
    for (const form of forms) expect(await judgeJwsThroughGateway(form, [], { algorithms: ['RS256', 'HS256'], secret: 'k'.repeat(32) })).toBe('shape');
  });

  it('section 6 (nesting): the inner signed JWT verifies at the pinned clock; the JWE around it (cty JWT) is refused', async () => {
    const nesting = await corpusJson<{ sign: CookbookJws & { input: { payload: string } }; encrypt: CookbookJws }>('rfc7520-cookbook/6.nesting_signatures_and_encryption.json');
    const inner = nesting.sign.output.compact!;
    const signed = await authenticateAt(inner, 'hobbiton.example', nesting.sign.input.key, 'PS256', BEFORE_EXP);
    expect(signed.evidence.keyLayer).toBe('inline');
    expect(codes(signed)).toEqual(['claim_missing:aud', 'claim_missing:sub']);
    const outer = await authenticateAt(nesting.encrypt.output.compact!, 'hobbiton.example', nesting.sign.input.key, 'PS256', BEFORE_EXP);
    expect(outer).toMatchObject({ ok: false, findings: [{ code: 'token_malformed', detail: 'JWE (5 segments) is not accepted' }] });
  });
});
