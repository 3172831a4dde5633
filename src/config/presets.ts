/**
 * Presets for issuers people use: an operator writes `{ "preset": "auth0", "tenant": "acme.eu.auth0.com" }`
 * and the compiler expands it, at build time, into the full issuer that identity provider's tokens need
 * (src/config/preset-specs.ts holds each provider's expansion; docs/presets.md says why). Pure; every
 * parameter is checked so that a typo fails the build, not every request.
 */
import { SPECS, type ParamName, type PresetExpansion, type PresetName, type PresetParams, type PresetSpec } from './preset-specs.ts';
import type { CompiledIssuer } from './types.ts';

export { PRESET_NAMES, type PresetExpansion, type PresetName, type PresetParams } from './preset-specs.ts';

export const PRESET_PARAM_NAMES: readonly ParamName[] = [
  'tenant',
  'tenant_id',
  'profile',
  'cloud',
  'user_flow',
  'domain',
  'authorization_server',
  'user_pool_id',
  'project_id',
  'base_url',
  'realm',
  'team',
  'issuer',
  'jwks_uri',
];

/** An issuer as a policy writes it, as far as presets care. */
export interface PresetSource extends PresetParams {
  preset?: PresetName;
  keys?: unknown;
  secret_binding?: string;
  audience_claim?: unknown;
}

export type PresetResult = { ok: true; expansion: PresetExpansion } | { ok: false; errors: { field: ParamName | null; message: string }[] };

/** Expands a preset, or says which parameter is missing, unknown to this preset, or malformed. */
export function expandPreset(name: PresetName, given: PresetParams): PresetResult {
  const spec = SPECS[name];
  const errors: { field: ParamName | null; message: string }[] = [];
  const values: Partial<Record<ParamName, string>> = { ...spec.defaults };
  for (const param of PRESET_PARAM_NAMES) {
    const value = given[param];
    const check = spec.params[param];
    const known = check !== undefined || spec.defaults?.[param] !== undefined;
    if (value !== undefined && !known) errors.push({ field: param, message: `preset "${name}" takes no "${param}" (it takes: ${takes(spec)})` });
    else if (value !== undefined) {
      const problem = check?.(value) ?? null;
      if (problem) errors.push({ field: param, message: problem });
      else values[param] = value;
    } else if (check !== undefined && values[param] === undefined) errors.push({ field: null, message: `preset "${name}" needs "${param}"` });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, expansion: spec.expand(values as Required<PresetParams>) };
}

const takes = (spec: PresetSpec) => [...new Set([...Object.keys(spec.params), ...Object.keys(spec.defaults ?? {})])].join(', ') || 'no parameters';

/** The preset's expansion (undefined without a preset), or null after reporting why it cannot be expanded. */
export function expandIssuerPreset(source: PresetSource, report: (field: string | null, message: string) => void): PresetExpansion | null | undefined {
  if (source.preset === undefined) return undefined;
  const generic = source.preset === 'rfc9068' || source.preset === 'app-scoped';
  const decided: (keyof PresetSource)[] = ['keys', 'secret_binding', 'audience_claim', ...(generic ? [] : (['issuer', 'jwks_uri'] as const))];
  for (const field of decided) {
    if (source[field] !== undefined) report(field, `preset "${source.preset}" decides "${field}"; remove it, or write the issuer out without a preset`);
  }
  const result = expandPreset(source.preset, source);
  if (!result.ok) for (const e of result.errors) report(e.field, e.message);
  return result.ok ? result.expansion : null;
}

/**
 * Why a route's `app` can never match tokens of this compiled issuer, or null: a preset whose app claim is
 * not a single value (Cloudflare Access's aud list) refuses `app` at build time rather than every token at
 * run time, unless the policy chose its own app_claim.
 */
export function routeAppProblem(issuer: CompiledIssuer): string | null {
  const spec = issuer.preset === undefined ? undefined : SPECS[issuer.preset as PresetName];
  const list = spec?.listAppClaim;
  if (!list) return null;
  const same = list.claim.length === issuer.appClaim.length && list.claim.every((name, i) => name === issuer.appClaim[i]);
  return same ? `issuer "${issuer.id}": ${list.message}` : null;
}
