/**
 * A multi-tenant issuer's `tenant_claim` and `tenants` (and a `{tenant}` in its `issuer`) -> its Tenancy
 * (src/verify/claims.ts checks tokens against it; src/verify/tenant-directory.ts holds the KV list).
 */
import { toClaimPath } from './compile-claims.ts';
import type { ClaimPath, Tenancy } from './types.ts';

export interface TenancySource {
  issuer?: string;
  discovery?: true;
  tenant_claim?: string | string[];
  tenants?: string[] | { inline?: string[]; kv?: string };
}

/** Where a multi-tenant issuer's iss carries the tenant. */
const TENANT_IN_ISS = '{tenant}';

/** A multi-tenant issuer's tenancy, or undefined for a single-tenant one; what is wrong is reported. */
export function compileTenancy(source: TenancySource, presetClaim: ClaimPath | undefined, report: (field: string | null, message: string) => void): Tenancy | undefined {
  const template = source.issuer?.includes('{') || source.issuer?.includes('}');
  const claim = source.tenant_claim !== undefined ? toClaimPath(source.tenant_claim) : presetClaim;
  if (!template && claim === undefined && source.tenants === undefined) return undefined;
  let issTemplate: Tenancy['issTemplate'];
  if (template) {
    const [prefix, suffix, ...more] = source.issuer!.split(TENANT_IN_ISS);
    if (more.length > 0 || suffix === undefined || /[{}]/.test(prefix! + suffix) || !prefix!.startsWith('https://') || !prefix!.endsWith('/') || (suffix !== '' && !suffix.startsWith('/'))) {
      report('issuer', 'a multi-tenant issuer names the tenant once, as a whole path segment: "https://login.example/{tenant}/v2.0"');
      return undefined;
    }
    if (source.discovery) report('discovery', 'a multi-tenant issuer has no one discovery document: give "jwks_uri", the key set its tenants share');
    issTemplate = { prefix: prefix!, suffix };
  }
  if (claim === undefined) report('tenant_claim' in source ? 'tenant_claim' : null, template ? 'an issuer with "{tenant}" needs "tenant_claim", the claim that must name the same tenant (Entra: "tid")' : '"tenants" needs "tenant_claim", the claim that names the tenant (Auth0 Organizations: "org_id")');
  const list = source.tenants;
  if (list === undefined) {
    report(null, 'a multi-tenant issuer needs "tenants", the tenants it accepts (inline, or { "kv": "<key>" } in the GATEWAY_TENANTS namespace): without it every tenant of the provider could call this API');
    return undefined;
  }
  const inline = Array.isArray(list) ? list : (list.inline ?? []);
  const kvKey = Array.isArray(list) ? undefined : list.kv;
  if (inline.length === 0 && kvKey === undefined) report('tenants', 'give at least one tenant, or "kv"');
  if (claim === undefined) return undefined;
  return { claim, ...(issTemplate && { issTemplate }), tenants: inline, ...(kvKey !== undefined && { kvKey }) };
}
