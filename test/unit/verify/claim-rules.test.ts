/** Claim value constraints (issuer and route `claims`), the audience claim and iss aliases, table-driven with the clock injected. */
import { describe, expect, it } from 'vitest';
import type { ClaimRule, CompiledIssuer, CompiledRoute } from '../../../src/config/types.ts';
import { compiledIssuer, compiledRoute } from '../../helpers/compiled.ts';
import { checkClaims, type Claims } from '../../../src/verify/claims.ts';

const NOW = 1_800_000_000;
const issuer = compiledIssuer();
const route = compiledRoute();
const base: Claims = { iss: 'https://idp.example/', aud: 'api', sub: 'u1', iat: NOW - 10, exp: NOW + 300 };

const check = (claims: Claims, options: { issuer?: Partial<CompiledIssuer>; route?: Partial<CompiledRoute> } = {}) =>
  checkClaims({ header: { alg: 'RS256' }, claims: { ...base, ...claims }, issuer: { ...issuer, ...options.issuer }, route: { ...route, ...options.route }, now: NOW }).map(
    (f) => `${f.code}:${f.claim}`,
  );

const rule = (path: string[], test: ClaimRule['test']): ClaimRule => ({ path, test });

describe('route claim rules', () => {
  it.each<[string, ClaimRule, Claims, string[]]>([
    ['exists: present', rule(['tid'], { kind: 'exists' }), { tid: 't' }, []],
    ['exists: absent', rule(['tid'], { kind: 'exists' }), {}, ['claim_missing:tid']],
    ['exists: null counts as absent', rule(['tid'], { kind: 'exists' }), { tid: null }, ['claim_missing:tid']],
    ['exists: false is present', rule(['flag'], { kind: 'exists' }), { flag: false }, []],
    ['equals: same string', rule(['tenant'], { kind: 'equals', value: 'acme' }), { tenant: 'acme' }, []],
    ['equals: other string', rule(['tenant'], { kind: 'equals', value: 'acme' }), { tenant: 'evil' }, ['claim_mismatch:tenant']],
    ['equals: case matters', rule(['tenant'], { kind: 'equals', value: 'acme' }), { tenant: 'ACME' }, ['claim_mismatch:tenant']],
    ['equals: no coercion of "1" to 1', rule(['level'], { kind: 'equals', value: 1 }), { level: '1' }, ['claim_mismatch:level']],
    ['equals: boolean true', rule(['email_verified'], { kind: 'equals', value: true }), { email_verified: true }, []],
    ['equals: "true" is not true', rule(['email_verified'], { kind: 'equals', value: true }), { email_verified: 'true' }, ['claim_mismatch:email_verified']],
    ['equals: an array is not a scalar', rule(['tenant'], { kind: 'equals', value: 'acme' }), { tenant: ['acme'] }, ['claim_invalid:tenant']],
    ['equals: an object is not a scalar', rule(['tenant'], { kind: 'equals', value: 'acme' }), { tenant: { id: 'acme' } }, ['claim_invalid:tenant']],
    ['equals: absent', rule(['tenant'], { kind: 'equals', value: 'acme' }), {}, ['claim_missing:tenant']],
    ['one_of: a member', rule(['acr'], { kind: 'one_of', values: ['aal2', 'aal3'] }), { acr: 'aal3' }, []],
    ['one_of: not a member', rule(['acr'], { kind: 'one_of', values: ['aal2', 'aal3'] }), { acr: 'aal1' }, ['claim_mismatch:acr']],
    ['one_of: an array is not a scalar', rule(['acr'], { kind: 'one_of', values: ['aal2'] }), { acr: ['aal2'] }, ['claim_invalid:acr']],
    ['contains: array with the value', rule(['groups'], { kind: 'contains', value: 'admin' }), { groups: ['user', 'admin'] }, []],
    ['contains: array without it', rule(['groups'], { kind: 'contains', value: 'admin' }), { groups: ['user'] }, ['claim_mismatch:groups']],
    ['contains: a string is not an array', rule(['groups'], { kind: 'contains', value: 'admin' }), { groups: 'admin' }, ['claim_invalid:groups']],
    ['contains: empty array', rule(['groups'], { kind: 'contains', value: 'admin' }), { groups: [] }, ['claim_mismatch:groups']],
    ['contains: number', rule(['levels'], { kind: 'contains', value: 2 }), { levels: [1, 2] }, []],
    ['nested path', rule(['realm_access', 'roles'], { kind: 'contains', value: 'admin' }), { realm_access: { roles: ['admin'] } }, []],
    ['nested path through a non-object', rule(['realm_access', 'roles'], { kind: 'exists' }), { realm_access: 'admin' }, ['claim_missing:realm_access.roles']],
    ['a name with dots is literal', rule(['acr.level'], { kind: 'equals', value: 'aal2' }), { 'acr.level': 'aal2' }, []],
    ['a name with dots is not a path', rule(['acr.level'], { kind: 'equals', value: 'aal2' }), { acr: { level: 'aal2' } }, ['claim_missing:acr.level']],
    ['a URL claim name', rule(['https://acme.example/tenant'], { kind: 'equals', value: 'acme' }), { 'https://acme.example/tenant': 'acme' }, []],
    ['a URL claim name, other value', rule(['https://acme.example/tenant'], { kind: 'equals', value: 'acme' }), { 'https://acme.example/tenant': 'evil' }, ['claim_mismatch:https://acme.example/tenant']],
    ['never an inherited member', rule(['constructor'], { kind: 'exists' }), {}, ['claim_missing:constructor']],
  ])('%s', (_name, claimRule, claims, expected) => {
    expect(check(claims, { route: { claims: [claimRule] } })).toEqual(expected);
  });

  it('reports every failed rule, issuer rules before route rules', () => {
    const issuerRules = [rule(['token_use'], { kind: 'equals', value: 'access' })];
    const routeRules = [rule(['groups'], { kind: 'contains', value: 'admin' }), rule(['tid'], { kind: 'exists' })];
    expect(check({ token_use: 'id', groups: [] }, { issuer: { claims: issuerRules }, route: { claims: routeRules } })).toEqual([
      'claim_mismatch:token_use',
      'claim_mismatch:groups',
      'claim_missing:tid',
    ]);
  });

  it('reports a claim the app check already found missing once, not twice', () => {
    const rules = [rule(['app_id'], { kind: 'exists' })];
    expect(check({}, { issuer: { claims: rules }, route: { app: 'billing' } })).toEqual(['claim_missing:app_id']);
    expect(check({ app_id: 'reports' }, { issuer: { claims: rules }, route: { app: 'billing' } })).toEqual(['app_mismatch:app_id']);
  });

  it('names the evidence: the claim, what it held and what was expected', () => {
    const findings = checkClaims({
      header: { alg: 'RS256' },
      claims: { ...base, acr: 'aal1' },
      issuer,
      route: { ...route, claims: [rule(['acr'], { kind: 'one_of', values: ['aal2', 'aal3'] })] },
      now: NOW,
    });
    expect(findings).toEqual([{ code: 'claim_mismatch', claim: 'acr', actual: 'aal1', expected: ['aal2', 'aal3'] }]);
  });
});

describe('audience claim and iss aliases', () => {
  it.each<[string, Claims, string[]]>([
    ['client_id holds the audience', { aud: undefined, client_id: 'app-1' }, []],
    ['client_id of another client', { aud: undefined, client_id: 'app-2' }, ['audience_mismatch:client_id']],
    ['no client_id (an aud is not looked at)', { aud: 'app-1' }, ['claim_missing:client_id']],
    ['client_id not a string', { aud: undefined, client_id: 7 }, ['claim_invalid:client_id']],
  ])('audience_claim client_id: %s', (_name, claims, expected) => {
    expect(check(claims, { issuer: { audienceClaim: ['client_id'] }, route: { audiences: ['app-1'] } })).toEqual(expected);
  });

  it.each<[string, unknown, string[]]>([
    ['the issuer', 'https://idp.example/', []],
    ['an alias', 'idp.example', []],
    ['neither', 'https://idp.example', ['issuer_mismatch:iss']],
    ['not a string', ['idp.example'], ['issuer_mismatch:iss']],
  ])('iss %s', (_name, iss, expected) => {
    expect(check({ iss }, { issuer: { issAliases: ['idp.example'] } })).toEqual(expected);
  });
});
