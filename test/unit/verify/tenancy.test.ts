/**
 * Multi-tenant issuers: compiled from policy text (templates, tenant claims, allow-lists, the entra preset
 * with "common"/"organizations") and judged by checkClaims with the clock given; the KV document's parser.
 */
import { describe, expect, it } from 'vitest';
import { compilePolicies } from '../../../src/config/compile.ts';
import type { CompiledIssuer } from '../../../src/config/types.ts';
import { checkClaims, type Claims } from '../../../src/verify/claims.ts';
import { parseTenantList } from '../../../src/verify/tenant-directory.ts';
import { compiledRoute } from '../../helpers/compiled.ts';

const NOW = 1_800_000_000;
const A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';

function compileIssuer(source: object): CompiledIssuer | string[] {
  const result = compilePolicies([{ file: 't.jsonc', text: JSON.stringify({ issuers: { idp: source } }) }]);
  return result.ok ? result.config.issuers.idp! : result.errors.map((e) => `${e.path}: ${e.message}`);
}

describe('compiling multi-tenant issuers', () => {
  it.each<[string, object, object]>([
    ['entra common', { preset: 'entra', tenant: 'common', tenants: [A] }, { issuer: 'https://login.microsoftonline.com/{tenant}/v2.0', keySource: { kind: 'jwks', url: 'https://login.microsoftonline.com/common/discovery/v2.0/keys' }, tenancy: { claim: ['tid'], issTemplate: { prefix: 'https://login.microsoftonline.com/', suffix: '/v2.0' }, tenants: [A] } }],
    ['entra organizations, US Gov cloud', { preset: 'entra', tenant: 'organizations', cloud: 'usgov', tenants: { kv: 'k' } }, { issuer: 'https://login.microsoftonline.us/{tenant}/v2.0', keySource: { kind: 'jwks', url: 'https://login.microsoftonline.us/organizations/discovery/v2.0/keys' }, tenancy: { claim: ['tid'], tenants: [], kvKey: 'k' } }],
    ['auth0 organizations: tenant in a claim only', { preset: 'auth0', tenant: 'acme.eu.auth0.com', tenant_claim: 'org_id', tenants: ['org_abc'] }, { issuer: 'https://acme.eu.auth0.com/', tenancy: { claim: ['org_id'], tenants: ['org_abc'] } }],
    ['a single-tenant entra issuer is unchanged', { preset: 'entra', tenant: A }, { issuer: `https://login.microsoftonline.com/${A}/v2.0` }],
  ])('%s', (_name, source, expected) => {
    const issuer = compileIssuer(source);
    expect(issuer).toMatchObject(expected);
    if (!('tenancy' in expected)) expect((issuer as CompiledIssuer).tenancy).toBeUndefined();
  });

  it.each<[string, object, string]>([
    ['common without tenants', { preset: 'entra', tenant: 'common' }, '/issuers/idp: a multi-tenant issuer needs "tenants"'],
    ['a template without a tenant claim', { issuer: 'https://id.example/{tenant}/', jwks_uri: 'https://id.example/jwks', tenants: ['a'] }, '/issuers/idp: an issuer with "{tenant}" needs "tenant_claim"'],
    ['tenants without a tenant claim', { issuer: 'https://id.example/', jwks_uri: 'https://id.example/jwks', tenants: ['a'] }, '/issuers/idp: "tenants" needs "tenant_claim"'],
    ['the tenant inside a segment', { issuer: 'https://id.example/t-{tenant}/', jwks_uri: 'https://id.example/jwks', tenant_claim: 'tid', tenants: ['a'] }, '/issuers/idp/issuer: a multi-tenant issuer names the tenant once, as a whole path segment'],
    ['the tenant in the host', { issuer: 'https://{tenant}.id.example/', jwks_uri: 'https://id.example/jwks', tenant_claim: 'tid', tenants: ['a'] }, '/issuers/idp/issuer: a multi-tenant issuer names the tenant once'],
    ['a template with discovery', { issuer: 'https://id.example/{tenant}/v2', discovery: true, tenant_claim: 'tid', tenants: ['a'] }, '/issuers/idp/discovery: a multi-tenant issuer has no one discovery document'],
    ['an entra domain name', { preset: 'entra', tenant: 'contoso.com' }, '/issuers/idp/tenant: the directory (tenant) id, a lower-case GUID, or "common" / "organizations"'],
    ['an empty kv object', { preset: 'entra', tenant: 'common', tenants: { inline: [] } }, '/issuers/idp/tenants'],
  ])('%s is refused', (_name, source, message) => {
    const errors = compileIssuer(source);
    expect(Array.isArray(errors)).toBe(true);
    expect((errors as string[]).some((e) => e.startsWith(message))).toBe(true);
  });
});

const entra = compileIssuer({ preset: 'entra', tenant: 'common', tenants: [A, B] }) as CompiledIssuer;
const auth0 = compileIssuer({ preset: 'auth0', tenant: 'acme.eu.auth0.com', tenant_claim: 'org_id', tenants: ['org_abc'] }) as CompiledIssuer;
const route = compiledRoute({ issuers: ['idp'], audiences: ['api'] });
const entraClaims = (tid: string, extra: Claims = {}): Claims => ({ iss: `https://login.microsoftonline.com/${tid}/v2.0`, tid, ver: '2.0', azp: 'c', aud: 'api', sub: 'u', iat: NOW - 5, exp: NOW + 300, ...extra });
const judge = (issuer: CompiledIssuer, claims: Claims, allowedTenants?: ReadonlySet<string>) =>
  checkClaims({ header: { alg: 'RS256' }, claims, issuer, route, now: NOW, ...(allowedTenants && { allowedTenants }) }).map((f) => f.code);

describe('checkClaims on multi-tenant issuers', () => {
  it.each<[string, CompiledIssuer, Claims, ReadonlySet<string> | undefined, string[]]>([
    ['a listed tenant', entra, entraClaims(A), undefined, []],
    ['an unlisted tenant', entra, entraClaims('cccccccc-cccc-4ccc-8ccc-cccccccccccc'), undefined, ['tenant_not_allowed']],
    ['a tenant in the current (KV) list', entra, entraClaims('dddddddd-dddd-4ddd-8ddd-dddddddddddd'), new Set([A, 'dddddddd-dddd-4ddd-8ddd-dddddddddddd']), []],
    ['the current list replaces the inline one when given', entra, entraClaims(B), new Set([A]), ['tenant_not_allowed']],
    ['iss names another tenant than tid', entra, entraClaims(A, { iss: `https://login.microsoftonline.com/${B}/v2.0` }), undefined, ['issuer_mismatch']],
    ['iss with a path in the tenant place', entra, entraClaims(A, { iss: `https://login.microsoftonline.com/${A}/x/v2.0` }), undefined, ['issuer_mismatch']],
    ['tid not a string', entra, entraClaims(A, { tid: 7 }), undefined, ['claim_invalid']],
    ['tid missing', entra, entraClaims(A, { tid: undefined }), undefined, ['claim_missing']],
    ['expired and unlisted: both', entra, entraClaims('cccccccc-cccc-4ccc-8ccc-cccccccccccc', { exp: NOW - 100 }), undefined, ['tenant_not_allowed', 'token_expired']],
    ['auth0: a listed organization', auth0, { iss: 'https://acme.eu.auth0.com/', org_id: 'org_abc', azp: 'c', aud: 'api', sub: 'u', exp: NOW + 60 }, undefined, []],
    ['auth0: another organization', auth0, { iss: 'https://acme.eu.auth0.com/', org_id: 'org_xyz', azp: 'c', aud: 'api', sub: 'u', exp: NOW + 60 }, undefined, ['tenant_not_allowed']],
    ['auth0: a token outside any organization', auth0, { iss: 'https://acme.eu.auth0.com/', azp: 'c', aud: 'api', sub: 'u', exp: NOW + 60 }, undefined, ['claim_missing']],
  ])('%s', (_name, issuer, claims, allowed, expected) => {
    expect(judge(issuer, claims, allowed)).toEqual(expected);
  });
});

describe('the KV tenant document', () => {
  it.each<[string, string, string[] | string]>([
    ['a list', '{"tenants":["a","b"]}', ['a', 'b']],
    ['empty', '{"tenants":[]}', []],
    ['not JSON', 'a,b', 'not JSON'],
    ['a string', '{"tenants":"a"}', 'not { "tenants": [non-empty strings] }'],
    ['an empty id', '{"tenants":[""]}', 'not { "tenants": [non-empty strings] }'],
    ['null', 'null', 'not { "tenants": [non-empty strings] }'],
  ])('%s', (_name, text, expected) => {
    expect(parseTenantList(text)).toEqual(expected);
  });
});
