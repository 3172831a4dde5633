/**
 * Route path variables (`/tenants/{tenant}/*`), any-of scopes and 403 claim rules: compiled from policy text,
 * matched through the real resolver over every reading of a canonical request, and judged by checkClaims
 * with the clock given. Pure: no Worker needed.
 */
import { describe, expect, it } from 'vitest';
import { compilePolicies } from '../../../src/config/compile.ts';
import type { CompiledConfig, CompiledRoute } from '../../../src/config/types.ts';
import { canonicalRequest } from '../../../src/request/canonical.ts';
import { RouteResolver } from '../../../src/route/resolve.ts';
import { atLeastAsStrict } from '../../../src/route/strictness.ts';
import { checkClaims, type Claims } from '../../../src/verify/claims.ts';

const NOW = 1_800_000_000;
const ISSUER = { issuer: 'https://idp.example/', jwks_uri: 'https://idp.example/jwks' };
const bind = (claim = 'org_id', variable = 'tenant') => ({ claim, equals_path_variable: variable });

function compile(routes: Record<string, object>): CompiledConfig | string[] {
  const withDefaults = Object.fromEntries(Object.entries(routes).map(([id, r]) => [id, { issuers: ['idp'], audiences: ['api'], origin: 'https://o.example', ...r }]));
  const result = compilePolicies([{ file: 't.jsonc', text: JSON.stringify({ issuers: { idp: ISSUER }, routes: withDefaults }) }]);
  return result.ok ? result.config : result.errors.map((e) => `${e.path}: ${e.message}`);
}

function config(routes: Record<string, object>): CompiledConfig {
  const compiled = compile(routes);
  if (Array.isArray(compiled)) throw new Error(compiled.join('\n'));
  return compiled;
}

const tenants = config({
  'tenant-api': { path: '/tenants/{tenant}/*', claims: [bind()] },
  'tenant-admin': { path: '/tenants/{tenant}/admin/*', claims: [bind(), { claim: 'roles', contains: 'admin', status: 403 }] },
  'tenant-list': { path: '/tenants/*', scopes_any: ['tenants:list', 'tenants:admin'] },
  'tenant-by-id': { path: '/tenants/special', claims: [{ claim: 'staff', equals: true }] },
  'region-tenant': { path: '/regions/{region}/tenants/{tenant}', claims: [bind(), bind('region', 'region')] },
});
const resolver = new RouteResolver(tenants.routes);

function resolve(method: string, url: string) {
  const canonical = canonicalRequest(method, new URL(url));
  if (!canonical.ok) return { finding: canonical.finding.code };
  const resolution = resolver.resolve(canonical.request);
  return resolution.ok ? { route: resolution.route.id, variables: resolution.pathVariables } : { finding: resolution.finding.code };
}

describe('path variables: matching', () => {
  it.each<[string, string, object]>([
    ['GET', 'https://gw.example/tenants/acme/orders/7', { route: 'tenant-api', variables: { tenant: 'acme' } }],
    ['GET', 'https://gw.example/tenants/acme', { route: 'tenant-api', variables: { tenant: 'acme' } }],
    ['GET', 'https://gw.example/tenants/acme/', { route: 'tenant-api', variables: { tenant: 'acme' } }],
    ['POST', 'https://gw.example/tenants/Org_AbC/admin/users', { route: 'tenant-admin', variables: { tenant: 'Org_AbC' } }],
    // The literal pattern is more specific than the variable at the same place.
    ['GET', 'https://gw.example/tenants/special', { route: 'tenant-by-id' }],
    ['GET', 'https://gw.example/tenants', { route: 'tenant-list' }],
    ['GET', 'https://gw.example/tenants/', { route: 'tenant-list' }],
    // An escape of a plain character is decoded before the variable is read: the origin sees "acme" too.
    ['GET', 'https://gw.example/tenants/%61cme/x', { route: 'tenant-api', variables: { tenant: 'acme' } }],
    ['GET', 'https://gw.example/regions/eu/tenants/acme', { route: 'region-tenant', variables: { region: 'eu', tenant: 'acme' } }],
    // A case-folded reading lands on the same route; the value is read from the path as sent, not folded.
    ['GET', 'https://gw.example/tenants/Acme/x', { route: 'tenant-api', variables: { tenant: 'Acme' } }],
    // Every reading must match a route: an upper-case spelling that only the folded reading matches is none.
    ['GET', 'https://gw.example/TENANTS/acme/x', { finding: 'route_not_found' }],
    // An encoded slash the route does not allow is refused before any variable is read.
    ['GET', 'https://gw.example/tenants/acme%2F..%2Fother/x', { finding: 'path_ambiguous' }],
    ['GET', 'https://gw.example/tenants/acme%2Fother/x', { finding: 'path_ambiguous' }],
  ])('%s %s', (method, url, expected) => {
    expect(resolve(method, url)).toEqual(expected);
  });

  it('a route that allows %2F but whose readings give the variable two values is refused', () => {
    const allowing = new RouteResolver(config({ files: { path: '/t/{tenant}/*', claims: [bind()], allow_in_path: ['encoded_slash'] } }).routes);
    const ok = canonicalRequest('GET', new URL('https://gw.example/t/acme/a%2Fb'));
    const split = canonicalRequest('GET', new URL('https://gw.example/t/ac%2Fme/x'));
    if (!ok.ok || !split.ok) throw new Error('canonical');
    expect(allowing.resolve(ok.request)).toMatchObject({ ok: true, pathVariables: { tenant: 'acme' } });
    expect(allowing.resolve(split.request)).toMatchObject({ ok: false, finding: { code: 'path_ambiguous' } });
  });
});

describe('path variables: compilation', () => {
  it.each<[string, Record<string, object>, string]>([
    ['a variable bound to no claim', { r: { path: '/tenants/{tenant}/*' } }, '/routes/r/path: the path variable {tenant} is bound to no claim'],
    ['a rule naming a variable the path lacks', { r: { path: '/tenants/{tenant}/*', claims: [bind(), bind('org', 'org')] } }, '/routes/r/claims/1: the route\'s path has no variable {org} (it has {tenant})'],
    ['part of a segment', { r: { path: '/tenants/t-{tenant}/*', claims: [bind()] } }, '/routes/r/path: a path variable is a whole segment'],
    ['a variable twice', { r: { path: '/a/{t}/b/{t}', claims: [bind('org_id', 't')] } }, '/routes/r/path: the variable {t} appears twice'],
    ['upper case name', { r: { path: '/a/{Tenant}' } }, '/routes/r/path: a path variable is a whole segment'],
    ['on a public route', { r: { path: '/a/{t}', mode: 'public', issuers: undefined, audiences: undefined } }, '/routes/r/path: the path variable {t} is bound to no claim'],
    ['two templates that tie', { a: { path: '/t/{tenant}/*', claims: [bind()] }, b: { path: '/t/{org}/*', claims: [bind('org_id', 'org')] } }, '/routes/b: matches exactly the same requests as route "a"'],
  ])('%s is refused', (_name, routes, message) => {
    const errors = compile(routes);
    expect(Array.isArray(errors)).toBe(true);
    expect((errors as string[]).some((e) => e.startsWith(message))).toBe(true);
  });

  it('an issuer rule cannot name a path variable', () => {
    const result = compilePolicies([{ file: 't.jsonc', text: JSON.stringify({ issuers: { idp: { ...ISSUER, claims: [bind()] } }, routes: {} }) }]);
    expect(result.ok ? [] : result.errors.map((e) => `${e.path}: ${e.message}`)).toEqual(['/issuers/idp/claims/0: "equals_path_variable" needs a route path with that variable; an issuer\'s rules apply on every route']);
  });

  it('compiles the variable with its segment, and the rule with the same segment', () => {
    const route = tenants.routes.find((r) => r.id === 'tenant-admin')!;
    expect(route.path).toEqual({ kind: 'prefix', value: '/tenants/{tenant}/admin', variables: [{ name: 'tenant', segment: 2 }] });
    expect(route.claims).toEqual([
      { path: ['org_id'], test: { kind: 'equals_path_variable', variable: 'tenant', segment: 2 } },
      { path: ['roles'], test: { kind: 'contains', value: 'admin' }, forbidden: true },
    ]);
  });
});

const routeById = (id: string) => tenants.routes.find((r) => r.id === id)!;
const token: Claims = { iss: 'https://idp.example/', aud: 'api', sub: 'u1', org_id: 'acme', iat: NOW - 10, exp: NOW + 300 };
const judge = (route: CompiledRoute, claims: Claims, pathVariables?: Record<string, string>) =>
  checkClaims({ header: { alg: 'RS256' }, claims, issuer: tenants.issuers.idp!, route, now: NOW, ...(pathVariables && { pathVariables }) }).map((f) => `${f.code}:${f.claim}:${JSON.stringify(f.actual ?? null)}`);

describe('path variables, scopes_any and 403 rules: checkClaims', () => {
  it.each<[string, string, Claims, Record<string, string> | undefined, string[]]>([
    ['own tenant', 'tenant-api', token, { tenant: 'acme' }, []],
    ['another tenant', 'tenant-api', token, { tenant: 'globex' }, ['path_variable_mismatch:org_id:"acme"']],
    ['case differs', 'tenant-api', token, { tenant: 'ACME' }, ['path_variable_mismatch:org_id:"acme"']],
    ['no tenant claim', 'tenant-api', { ...token, org_id: undefined }, { tenant: 'acme' }, ['path_variable_mismatch:org_id:null']],
    ['tenant claim a number', 'tenant-api', { ...token, org_id: 7 }, { tenant: '7' }, ['path_variable_mismatch:org_id:7']],
    ['no variables given (fails closed)', 'tenant-api', token, undefined, ['path_variable_mismatch:org_id:"acme"']],
    ['admin with the role', 'tenant-admin', { ...token, roles: ['admin'] }, { tenant: 'acme' }, []],
    ['admin without the role: 403 rule', 'tenant-admin', { ...token, roles: ['reader'] }, { tenant: 'acme' }, ['claim_insufficient:roles:["reader"]']],
    ['admin without roles at all', 'tenant-admin', token, { tenant: 'acme' }, ['claim_insufficient:roles:null']],
    ['scopes_any: one of them', 'tenant-list', { ...token, scope: 'read tenants:admin' }, undefined, []],
    ['scopes_any: scp array', 'tenant-list', { ...token, scp: ['tenants:list'] }, undefined, []],
    ['scopes_any: none of them', 'tenant-list', { ...token, scope: 'read' }, undefined, ['scope_insufficient:scope:["read"]']],
    ['scopes_any: no scope at all', 'tenant-list', token, undefined, ['scope_insufficient:scope:[]']],
  ])('%s', (_name, routeId, claims, variables, expected) => {
    expect(judge(routeById(routeId), claims, variables)).toEqual(expected);
  });

  it('an expired token on another tenant reports both, and the answer is the 401 (findings.ts precedence)', () => {
    expect(judge(routeById('tenant-api'), { ...token, exp: NOW - 120 }, { tenant: 'globex' }).map((c) => c.split(':')[0])).toEqual(['token_expired', 'path_variable_mismatch']);
  });
});

describe('strictness with the new requirements', () => {
  const base = { path: '/x/*' };
  const cases: [string, object, object, boolean][] = [
    ['a tenant binding is stricter than none', { ...base, path: '/x/{tenant}/*', claims: [bind()] }, { path: '/x/*' }, true],
    ['no binding is not as strict as one', { path: '/x/*' }, { ...base, path: '/x/{tenant}/*', claims: [bind()] }, false],
    ['a binding of another segment is not the same', { path: '/x/{tenant}/*', claims: [bind()] }, { path: '/y/a/{tenant}', claims: [bind()] }, false],
    ['a binding of the same segment is', { path: '/x/{tenant}/a/*', claims: [bind()] }, { path: '/x/{tenant}/*', claims: [bind()] }, true],
    ['scopes_any subset is stricter', { path: '/x/*', scopes_any: ['a'] }, { path: '/y/*', scopes_any: ['a', 'b'] }, true],
    ['scopes_any superset is not', { path: '/x/*', scopes_any: ['a', 'b'] }, { path: '/y/*', scopes_any: ['a'] }, false],
    ['an all-of scope in the any-of set satisfies it', { path: '/x/*', scopes: ['b'] }, { path: '/y/*', scopes_any: ['a', 'b'] }, true],
    ['no scopes do not satisfy an any-of', { path: '/x/*' }, { path: '/y/*', scopes_any: ['a'] }, false],
    ['a 403 rule is as strict as the same 401 rule', { path: '/x/*', claims: [{ claim: 'r', equals: 1, status: 403 }] }, { path: '/y/*', claims: [{ claim: 'r', equals: 1 }] }, true],
    // Token sources (issue 22): a route that also reads a cookie admits requests a bearer-only route refuses.
    ['a cookie beside the bearer is not as strict as the bearer alone', { path: '/x/*', token_sources: [{ kind: 'authorization' }, { kind: 'cookie', name: 's' }] }, { path: '/y/*' }, false],
    ['the bearer alone is as strict as the bearer and a cookie', { path: '/x/*' }, { path: '/y/*', token_sources: [{ kind: 'authorization' }, { kind: 'cookie', name: 's' }] }, true],
    ['more CSRF origins are not as strict as fewer', { path: '/x/*', token_sources: [{ kind: 'cookie', name: 's' }], csrf_origins: ['https://a.example', 'https://b.example'] }, { path: '/y/*', token_sources: [{ kind: 'cookie', name: 's' }], csrf_origins: ['https://a.example'] }, false],
  ];
  it.each(cases)('%s', (_name, a, b, expected) => {
    const routes = config({ a, b }).routes;
    expect(atLeastAsStrict(routes.find((r) => r.id === 'a')!, routes.find((r) => r.id === 'b')!)).toBe(expected);
  });
});
