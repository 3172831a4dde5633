import { describe, expect, it } from 'vitest';
import type { CompiledIssuer, CompiledRoute } from '../../../src/config/types.ts';
import { compiledIssuer, compiledRoute } from '../../helpers/compiled.ts';
import { checkClaims, grantedScopes, normalizeTyp, readClaim, type Claims } from '../../../src/verify/claims.ts';

const NOW = 1_800_000_000;
const issuer = compiledIssuer();
const route = compiledRoute({ audiences: ['https://api.example', 'api2'], app: 'billing' });
const good: Claims = { iss: 'https://idp.example/', aud: 'https://api.example', sub: 'u1', app_id: 'billing', iat: NOW - 10, exp: NOW + 300 };

const codes = (claims: Claims, overrides: { issuer?: Partial<CompiledIssuer>; route?: Partial<CompiledRoute>; typ?: string } = {}) =>
  checkClaims({
    header: { alg: 'RS256', ...(overrides.typ === undefined ? {} : { typ: overrides.typ }) },
    claims,
    issuer: { ...issuer, ...overrides.issuer },
    route: { ...route, ...overrides.route },
    now: NOW,
  }).map((f) => f.code + (f.claim ? `:${f.claim}` : ''));

describe('checkClaims', () => {
  it('passes a token that satisfies the route', () => {
    expect(codes(good)).toEqual([]);
  });

  it.each<[string, Claims, string[]]>([
    ['exp missing', { ...good, exp: undefined }, ['claim_missing:exp']],
    ['exp a string', { ...good, exp: String(NOW + 300) }, ['claim_invalid:exp']],
    ['exp Infinity (1e400)', { ...good, exp: Infinity }, ['claim_invalid:exp']],
    ['exp past year 9999', { ...good, exp: 253402300800 }, ['claim_invalid:exp']],
    ['exp negative', { ...good, exp: -1 }, ['claim_invalid:exp']],
    ['exp NaN', { ...good, exp: NaN }, ['claim_invalid:exp']],
    ['exp just inside the skew', { ...good, exp: NOW - 59 }, []],
    ['exp exactly at the skew edge', { ...good, exp: NOW - 60 }, ['token_expired:exp']],
    ['nbf beyond the skew', { ...good, nbf: NOW + 61 }, ['token_not_yet_valid:nbf']],
    ['nbf within the skew', { ...good, nbf: NOW + 60 }, []],
    ['nbf a string', { ...good, nbf: 'soon' }, ['claim_invalid:nbf']],
    ['iat in the future', { ...good, iat: NOW + 61 }, ['issued_in_future:iat']],
    ['iat a float is fine', { ...good, iat: NOW - 0.5 }, []],
    ['iat not a number', { ...good, iat: true }, ['claim_invalid:iat']],
    ['lifetime above the cap', { ...good, iat: NOW - 10, exp: NOW - 10 + 3601 }, ['lifetime_too_long:exp']],
    ['lifetime without iat counts from now', { ...good, iat: undefined, exp: NOW + 3601 }, ['lifetime_too_long:exp']],
    ['aud missing', { ...good, aud: undefined }, ['claim_missing:aud']],
    ['aud another service', { ...good, aud: 'https://other.example' }, ['audience_mismatch:aud']],
    ['aud with trailing slash', { ...good, aud: 'https://api.example/' }, ['audience_mismatch:aud']],
    ['aud in another case', { ...good, aud: 'HTTPS://API.EXAMPLE' }, ['audience_mismatch:aud']],
    ['aud array containing ours', { ...good, aud: ['x', 'api2'] }, []],
    ['aud array with a non-string member', { ...good, aud: ['https://api.example', 1] }, ['claim_invalid:aud']],
    ['aud empty array', { ...good, aud: [] }, ['claim_invalid:aud']],
    ['aud an object', { ...good, aud: { a: 1 } }, ['claim_invalid:aud']],
    ['app of another app', { ...good, app_id: 'reports' }, ['app_mismatch:app_id']],
    ['app missing', { ...good, app_id: undefined }, ['claim_missing:app_id']],
    ['app as an array holding ours', { ...good, app_id: ['billing'] }, ['app_mismatch:app_id']],
    ['sub missing', { ...good, sub: undefined }, ['claim_missing:sub']],
    ['sub empty', { ...good, sub: '' }, ['claim_invalid:sub']],
    ['sub a number', { ...good, sub: 7 }, ['claim_invalid:sub']],
    ['iss of another tenant', { ...good, iss: 'https://idp.example/other' }, ['issuer_mismatch:iss']],
    ['iss without trailing slash', { ...good, iss: 'https://idp.example' }, ['issuer_mismatch:iss']],
    ['iss as an array', { ...good, iss: ['https://idp.example/'] }, ['issuer_mismatch:iss']],
    ['sub a lone high surrogate', { ...good, sub: '\uD834' }, ['claim_invalid:sub']],
    ['sub a lone low surrogate', { ...good, sub: '\uDC00' }, ['claim_invalid:sub']],
    ['sub a surrogate pair is text', { ...good, sub: '\uD834\uDD1E' }, []],
    ['sub U+FFFD is text', { ...good, sub: '\uFFFD' }, []],
    ['a lone surrogate deep in a claim rule-free claim', { ...good, org: { a: [{ b: ['x', 'y\uDBFF'] }] } }, ['claim_invalid:org']],
    ['a lone surrogate in a nested member name', { ...good, org: { ['k\uDFFF']: 1 } }, ['claim_invalid:org']],
    ['a lone surrogate in a top-level member name', { ...good, ['\uD800']: 1 }, ['claim_invalid:\uFFFD']],
    ['a lone surrogate in iss is also an issuer mismatch', { ...good, iss: 'https://idp.example/\uD800' }, ['claim_invalid:iss', 'issuer_mismatch:iss']],
  ])('%s', (_name, claims, expected) => {
    expect(codes(claims)).toEqual(expected);
  });

  it('reports every failure, in the documented order', () => {
    const claims = { iss: 'x', aud: 'y', app_id: 'z', iat: NOW + 100, exp: NOW - 100 };
    expect(codes(claims, { route: { scopes: ['a'] } })).toEqual([
      'issuer_mismatch:iss',
      'token_expired:exp',
      'issued_in_future:iat',
      'audience_mismatch:aud',
      'app_mismatch:app_id',
      'claim_missing:sub',
      'scope_insufficient:scope',
    ]);
  });

  it('skips the app check on routes that name no app', () => {
    expect(codes({ ...good, app_id: undefined }, { route: { app: null } })).toEqual([]);
  });

  it('reads the app from a nested or namespaced claim', () => {
    const claims = { ...good, app_id: undefined, 'https://example.com/app': 'billing', ext: { 'app.id': 'billing' } };
    expect(codes(claims, { issuer: { appClaim: ['https://example.com/app'] } })).toEqual([]);
    expect(codes(claims, { issuer: { appClaim: ['ext', 'app.id'] } })).toEqual([]);
    expect(codes(claims, { issuer: { appClaim: ['ext', 'app'] } })).toEqual(['claim_missing:ext.app']);
  });

  it.each<[string, Claims, string[]]>([
    ['scope string with all', { ...good, scope: 'a b c' }, []],
    ['scp array with all', { ...good, scp: ['a', 'b'] }, []],
    ['scp string (Entra ID)', { ...good, scp: 'b a' }, []],
    ['split across scope and scp', { ...good, scope: 'a', scp: ['b'] }, []],
    ['one missing', { ...good, scope: 'a' }, ['scope_insufficient:scope']],
    ['prefix is not a scope', { ...good, scope: 'ab' }, ['scope_insufficient:scope']],
    ['no scope at all', good, ['scope_insufficient:scope']],
  ])('scopes: %s', (_name, claims, expected) => {
    expect(codes(claims, { route: { scopes: ['a', 'b'] } })).toEqual(expected);
  });

  it.each([
    ['at+jwt', []],
    ['AT+JWT', []],
    ['application/at+jwt', []],
    ['JWT', ['typ_mismatch']],
    [undefined, ['typ_mismatch']],
  ])('typ %j against an issuer that types its tokens at+jwt', (typ, expected) => {
    expect(codes(good, { issuer: { typ: 'at+jwt' }, ...(typ === undefined ? {} : { typ }) })).toEqual(expected);
  });
});

describe('claim helpers', () => {
  it('readClaim never reads inherited members', () => {
    expect(readClaim({}, ['constructor'])).toBeUndefined();
    expect(readClaim({ a: [1] }, ['a', '0'])).toBeUndefined();
  });
  it('grantedScopes ignores empty and non-string entries', () => {
    expect([...grantedScopes({ scope: ' a  b ', scp: ['c', 1, ''] })]).toEqual(['a', 'b', 'c']);
  });
  it('normalizeTyp drops application/ and case', () => {
    expect(normalizeTyp('Application/AT+JWT')).toBe('at+jwt');
  });
});
