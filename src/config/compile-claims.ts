/**
 * Claim rules as policies write them -> compiled ClaimRules. A rule is `{ "claim": <path> }` (the claim
 * must exist) plus at most one of `equals`, `one_of`, `contains`. The path convention is the app_claim's:
 * a string is one literal claim name (dots and URLs included), an array is a path into nested objects.
 */
import type { ClaimPath, ClaimRule, ClaimScalar } from './types.ts';

export interface ClaimRuleSource {
  claim: string | string[];
  equals?: ClaimScalar;
  one_of?: ClaimScalar[];
  contains?: ClaimScalar;
}

export const toClaimPath = (claim: string | string[]): ClaimPath => (typeof claim === 'string' ? [claim] : claim);

/** The compiled rule, or what is wrong with it (the schema has checked the types already). */
export function compileClaimRule(source: ClaimRuleSource): ClaimRule | string {
  const path = toClaimPath(source.claim);
  const tests = (['equals', 'one_of', 'contains'] as const).filter((k) => source[k] !== undefined);
  if (tests.length > 1) return `give at most one of "equals", "one_of" and "contains" (got ${tests.join(', ')}); write two rules to require both`;
  if (source.equals !== undefined) return { path, test: { kind: 'equals', value: source.equals } };
  if (source.one_of !== undefined) return { path, test: { kind: 'one_of', values: source.one_of } };
  if (source.contains !== undefined) return { path, test: { kind: 'contains', value: source.contains } };
  return { path, test: { kind: 'exists' } };
}

/** A policy's `claims` compiled; a broken rule is reported at its index. */
export function compileClaimRules(rules: readonly ClaimRuleSource[] = [], report: (index: number, message: string) => void): ClaimRule[] {
  const out: ClaimRule[] = [];
  rules.forEach((rule, index) => {
    const compiled = compileClaimRule(rule);
    if (typeof compiled === 'string') report(index, compiled);
    else out.push(compiled);
  });
  return out;
}
