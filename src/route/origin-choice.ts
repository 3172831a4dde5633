/**
 * A route's origin picked by a verified claim (`origin_by_claim`): a tenant's dedicated back-end, a region.
 * Pure. The map is the policy's; the claim is one that passed every check (the route is enforced, so no
 * request reaches here without); a value the map does not hold is refused, never sent to a default. Only a
 * string is looked up, and only as the map's own key (never "__proto__" or "constructor" of a prototype).
 */
import type { CompiledRoute, OriginTarget } from '../config/types.ts';
import { finding, type Finding } from '../findings.ts';
import { claimName, readClaim, type Claims } from '../verify/claim-rules.ts';

export type OriginChoice = { ok: true; target: OriginTarget; key: string | null } | { ok: false; finding: Finding };

export function chooseOrigin(route: CompiledRoute, claims: Claims | null): OriginChoice {
  const byClaim = route.forward.originByClaim;
  if (byClaim === undefined) return { ok: true, target: route.forward.origin, key: null };
  const claim = claimName(byClaim.claim);
  const value = claims === null ? undefined : readClaim(claims, byClaim.claim);
  if (typeof value === 'string' && Object.hasOwn(byClaim.targets, value)) return { ok: true, target: byClaim.targets[value]!, key: value };
  return { ok: false, finding: finding('origin_unmapped', { claim, actual: typeof value === 'string' || value === undefined ? (value ?? null) : JSON.stringify(value).slice(0, 64), expected: Object.keys(byClaim.targets) }) };
}
