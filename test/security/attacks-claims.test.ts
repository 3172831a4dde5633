/**
 * The attack catalog, part 2: validly signed tokens whose claims lie (NumericDate abuse, aud, iss, typ,
 * cross-app replay). The signature verifies, so every refusal here comes from the checks after it; iss
 * variants are refused before the key lookup because iss chooses the issuer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_NUMERIC_DATE } from '../../src/config/constants.ts';
import { bearer, send } from '../helpers/gateway.ts';
import { nowSeconds } from '../helpers/keys.ts';
import { AUD, expectRefused, unexpectedFetches, ISS, JWKS, newGateway, setUpKit, signClaims, signRaw, tearDownKit, validClaims, type Kit } from './attack-kit.ts';

let kit: Kit;
let gateway: ReturnType<typeof newGateway>;
beforeAll(async () => {
  kit = await setUpKit();
  gateway = newGateway();
});
afterAll(() => {
  expect(unexpectedFetches(kit)).toEqual([]);
  tearDownKit(kit);
});

const refuse = async (claims: object, codes: string[], header: object = {}) => expectRefused(kit, gateway, await signClaims(kit.rs256, claims, header), { codes });

describe('NumericDate abuse', () => {
  const now = () => nowSeconds();
  it.each([
    ['exp as a string', { exp: String(nowSeconds() + 300) }, ['claim_invalid']],
    ['exp as a date string', { exp: '2099-01-01T00:00:00Z' }, ['claim_invalid']],
    ['exp negative', { exp: -1 }, ['claim_invalid']],
    ['exp 1e30', { exp: 1e30 }, ['claim_invalid']],
    ['exp one past 9999-12-31', { exp: MAX_NUMERIC_DATE + 1 }, ['claim_invalid']],
    ['exp true', { exp: true }, ['claim_invalid']],
    ['exp an array', { exp: [nowSeconds() + 300] }, ['claim_invalid']],
    ['exp null', { exp: null }, ['claim_invalid']],
    ['nbf as a string', { nbf: '0' }, ['claim_invalid']],
    ['iat negative', { iat: -5 }, ['claim_invalid']],
    ['a fractional exp already past', { exp: nowSeconds() - 60.5 }, ['token_expired']],
  ])('%s is refused', async (_name, overrides, codes) => {
    await refuse(validClaims(overrides), codes);
  });

  it('exp missing is refused', async () => {
    const { exp: _exp, ...claims } = validClaims();
    await refuse(claims, ['claim_missing']);
  });

  it('exp written as 1e400 (JSON.parse makes it Infinity) is refused', async () => {
    const c = validClaims();
    const payload = JSON.stringify({ ...c, exp: 0 }).replace('"exp":0', '"exp":1e400');
    expect(payload).toContain('1e400');
    await expectRefused(kit, gateway, await signRaw(kit.rs256, JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: 'rs-1' }), payload), { codes: ['claim_invalid'] });
  });

  it('iat in the future (beyond the skew) is refused', async () => {
    await refuse(validClaims({ iat: now() + 3600, exp: now() + 3900 }), ['issued_in_future']);
  });

  it('nbf in the future is refused', async () => {
    await refuse(validClaims({ nbf: now() + 3600 }), ['token_not_yet_valid']);
  });

  it('a lifetime beyond the cap is refused, even when exp is still ahead', async () => {
    await refuse(validClaims({ iat: now(), exp: now() + 365 * 86400 }), ['lifetime_too_long']);
  });

  it('an expired token is refused', async () => {
    await refuse(validClaims({ iat: now() - 7200, exp: now() - 3600 }), ['token_expired']);
  });
});

describe('aud variants', () => {
  it.each([
    ['another service', 'https://other-api.example', 'audience_mismatch'],
    ['a trailing slash', `${AUD}/`, 'audience_mismatch'],
    ['different case', AUD.toUpperCase(), 'audience_mismatch'],
    ['an array with ours and a number', [AUD, 1], 'claim_invalid'],
    ['an array with ours and null', [AUD, null], 'claim_invalid'],
    ['an array with ours and an object', [AUD, { aud: AUD }], 'claim_invalid'],
    ['an empty array', [], 'claim_invalid'],
    ['an object', { 0: AUD }, 'claim_invalid'],
    ['a number', 1, 'claim_invalid'],
  ])('aud as %s is refused', async (_name, aud, code) => {
    await refuse(validClaims({ aud }), [code]);
  });
  it('aud missing is refused', async () => {
    const { aud: _aud, ...claims } = validClaims();
    await refuse(claims, ['claim_missing']);
  });
});

describe('iss variants (refused before the key lookup: zero fetches on a cold gateway)', () => {
  it.each([
    ['a trailing slash', `${ISS}/`],
    ['different case', ISS.toUpperCase()],
    ['another tenant of the same IdP', 'https://idp.example/tenant-b'],
    ['an array holding ours', [ISS]],
    ['a number', 7],
    ['missing', undefined],
  ])('iss as %s is refused', async (_name, iss) => {
    await expectRefused(kit, newGateway(), await signClaims(kit.rs256, validClaims({ iss })), { codes: ['issuer_mismatch'], fetches: 0 });
  });
});

describe('typ confusion and cross-app replay', () => {
  it.each([
    ['an ID token (typ JWT)', { typ: 'JWT' }],
    ['no typ at all', { typ: undefined }],
    ['a lookalike typ', { typ: 'at+jwt2' }],
  ])('%s on an issuer that types its access tokens is refused', async (_name, header) => {
    await refuse(validClaims(), ['typ_mismatch'], header);
  });

  it('application/at+jwt in any case is the same type and accepted', async () => {
    const response = await send(gateway, new Request('https://gw.example/billing/x', { headers: bearer(await signClaims(kit.rs256, validClaims(), { typ: 'Application/AT+JWT' })) }));
    expect(response.status).toBe(200);
  });

  it("a token valid for app reports is refused on billing's route though its signature is valid", async () => {
    await refuse(validClaims({ app_id: 'reports' }), ['app_mismatch']);
  });

  it('a token without the app claim is refused', async () => {
    const { app_id: _app, ...claims } = validClaims();
    await refuse(claims, ['claim_missing']);
  });

  it('sub of the wrong type is refused', async () => {
    await refuse(validClaims({ sub: 42 }), ['claim_invalid']);
    await refuse(validClaims({ sub: '' }), ['claim_invalid']);
  });
});

describe('text that is not Unicode: lone surrogates (valid JSON escapes, no UTF-8 form)', () => {
  // Each once reached the origin as x-verified-sub: %EF%BF%BD: four verified subjects, one identity.
  it.each([
    ['sub "\\uD834"', { sub: '\uD834' }, 'sub'],
    ['sub "\\uD835"', { sub: '\uD835' }, 'sub'],
    ['sub "\\uDC00"', { sub: '\uDC00' }, 'sub'],
    ['sub "a\\uDFFFb"', { sub: 'a\uDFFFb' }, 'sub'],
    ['a nested member value', { org: { teams: [['ok', '\uD800']] } }, 'org'],
    ['a nested member name', { org: { 'na\uDC00me': 1 } }, 'org'],
    ['a top-level member name', { '\uD834': 'x' }, '\uFFFD'],
  ])('%s is refused with claim_invalid', async (_name, overrides, claim) => {
    await refuse(validClaims(overrides), ['claim_invalid']);
    expect(kit.logs.last().findings).toEqual([{ code: 'claim_invalid', claim, detail: 'not well-formed Unicode (a lone surrogate)' }]);
  });

  it('"\\uFFFD" itself and a surrogate pair are text, and accepted', async () => {
    for (const sub of ['\uFFFD', '\uD834\uDD1E']) {
      const response = await send(gateway, new Request('https://gw.example/billing/x', { headers: bearer(await signClaims(kit.rs256, validClaims({ sub }))) }));
      expect(response.status).toBe(200);
      expect(kit.world.originRequests.at(-1)!.headers['x-verified-sub']).toBe(encodeURIComponent(sub));
    }
  });
});
