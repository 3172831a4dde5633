/**
 * A route's `origin_by_claim` -> the targets its verified claim picks from (src/route/origin-choice.ts).
 */
import { compileOrigin, type OriginSource } from '../forward/compile-forward.ts';
import { checkUrl } from './check-url.ts';
import { toClaimPath } from './compile-claims.ts';
import type { Report } from './policy-errors.ts';
import type { ClaimPath, OriginTarget } from './types.ts';

export interface OriginByClaimSource {
  claim: string | string[];
  origins: Record<string, OriginSource>;
}

/**
 * `origin_by_claim`: every target compiled like an `origin`. Only on enforced routes: every request that
 * is forwarded there has verified claims to choose by (report-only and optional forward some without).
 */
export function compileOriginByClaim(
  source: { origin?: unknown; cors_preflight?: boolean; origin_by_claim?: OriginByClaimSource },
  mode: string,
  report: Report,
): { claim: ClaimPath; targets: Record<string, OriginTarget>; display: string } | null {
  let failed = false;
  const fail: Report = (path, message) => {
    failed = true;
    report(path, message);
  };
  if (source.origin !== undefined) fail(['origin'], 'give "origin" or "origin_by_claim", not both');
  if (source.cors_preflight) fail(['cors_preflight'], 'a forwarded preflight carries no token, so no claim to choose its origin by; answer preflights at the gateway with "cors": { "answer_preflight": true }');
  if (mode !== 'enforce') fail(['origin_by_claim'], `a route in mode "${mode}" forwards some requests without verified claims to choose an origin by; "origin_by_claim" needs mode "enforce"`);
  const targets: Record<string, OriginTarget> = {};
  for (const [value, originSource] of Object.entries(source.origin_by_claim!.origins)) {
    const compiled = compileOrigin(originSource, checkUrl, (message, field) => fail(['origin_by_claim', 'origins', value, ...(field ? [field] : [])], message));
    if (compiled) targets[value] = compiled.target;
  }
  if (failed) return null;
  const claim = toClaimPath(source.origin_by_claim!.claim);
  return { claim, targets, display: `by ${claim.join('.')}: ${Object.keys(targets).join(', ')}` };
}
