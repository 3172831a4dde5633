/**
 * The `issuers` of every policy file -> CompiledIssuer by id: a preset expanded, the key source, the claim
 * rules, token sources and tenancy, and the defaults for what the policy leaves out.
 */
import { DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_MAX_TOKEN_LIFETIME_SECONDS } from './constants.ts';
import { compileClaimRules, toClaimPath, type ClaimRuleSource } from './compile-claims.ts';
import { compileKeyCache, compileKeySource, type IssuerKeysSource } from './compile-issuer-keys.ts';
import { compileTenancy, type TenancySource } from './compile-tenancy.ts';
import { compileTokenSources, tokenSourceContext, type TokenSourceContext, type TokenSourceSource } from './compile-token-sources.ts';
import type { ErrorList } from './policy-errors.ts';
import { forEachDeclared, type ReadPolicyFile } from './policy-files.ts';
import { expandIssuerPreset, type PresetName, type PresetParams } from './presets.ts';
import type { CompiledIssuer, CompiledSettings } from './types.ts';
import { normalizeTyp } from '../verify/claims.ts';

/** An issuer as the policy file writes it; the schema has been checked before these are read. */
export interface IssuerSource extends PresetParams, TenancySource, IssuerKeysSource {
  issuer?: string;
  preset?: PresetName;
  audience_claim?: string | string[];
  claims?: ClaimRuleSource[];
  app_claim?: string | string[];
  clock_skew_seconds?: number;
  max_lifetime_seconds?: number;
  typ?: string;
  token_sources?: TokenSourceSource[];
}

/**
 * The issuers that compiled, and the file of every issuer id declared, compiled or not: a route naming a
 * broken issuer is not reported again (the issuer's own error says what is wrong).
 */
export function compileIssuers(files: readonly ReadPolicyFile[], settings: CompiledSettings, errors: ErrorList): { issuers: Record<string, CompiledIssuer>; declaredIssuers: ReadonlyMap<string, string> } {
  const issuers: Record<string, CompiledIssuer> = {};
  const sourceContext = tokenSourceContext(settings);
  const declaredIssuers = forEachDeclared(files, 'issuers', errors, (id, source, file) => {
    const issuer = compileIssuer(id, source, file, errors, sourceContext);
    if (issuer) issuers[id] = issuer;
  });
  return { issuers, declaredIssuers };
}

function compileIssuer(id: string, source: IssuerSource, file: string, errors: ErrorList, sourceContext: TokenSourceContext): CompiledIssuer | null {
  const report = errors.reportAt(file, 'issuers', id);
  const before = errors.errors.length;
  const preset = expandIssuerPreset(source, (field, message) => report(field === null ? [] : [field], message));
  if (preset === null) return null;
  if (preset !== undefined) source = { ...source, issuer: preset.issuer, jwks_uri: preset.jwksUri };
  const claims = [...(preset?.claims ?? []), ...compileClaimRules(source.claims, (index, message) => report(['claims', index], message))];
  if (source.issuer === undefined) report([], 'give "issuer" (the exact iss) or a "preset"');
  const keySource = compileKeySource(source, report);
  // Only when the policy sets it: the key store applies the defaults otherwise, and the compiled output stays as it was.
  const keyCache = source.key_cache && compileKeyCache(source.key_cache, keySource, report);
  const tokenSources = source.token_sources === undefined ? preset?.tokenSources
    : compileTokenSources(source.token_sources, sourceContext, (index, message) => report(['token_sources', index], message));
  const tenancy = compileTenancy(source, preset?.tenantClaim, (field, message) => report(field === null ? [] : [field], message));
  if (errors.errors.length > before || keySource === null || source.issuer === undefined) return null;
  const typ = source.typ ?? preset?.typ;
  return {
    id,
    issuer: source.issuer,
    keySource,
    ...(keyCache && { keyCache }),
    algorithms: source.algorithms ?? ['RS256'],
    appClaim: source.app_claim !== undefined ? toClaimPath(source.app_claim) : (preset?.appClaim ?? ['app_id']),
    clockSkewSeconds: source.clock_skew_seconds ?? DEFAULT_CLOCK_SKEW_SECONDS,
    maxLifetimeSeconds: source.max_lifetime_seconds ?? preset?.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
    typ: typ === undefined ? null : normalizeTyp(typ),
    ...(preset?.issAliases ? { issAliases: preset.issAliases } : {}),
    ...(source.audience_claim !== undefined || preset?.audienceClaim ? { audienceClaim: source.audience_claim !== undefined ? toClaimPath(source.audience_claim) : preset!.audienceClaim! } : {}),
    ...(claims.length > 0 ? { claims } : {}),
    ...(source.preset ? { preset: source.preset } : {}),
    ...(tokenSources ? { tokenSources } : {}),
    ...(preset?.serviceSubject ? { serviceSubject: preset.serviceSubject } : {}),
    ...(tenancy && { tenancy }),
  };
}
