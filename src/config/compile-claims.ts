/**
 * Claim rules as policies write them -> compiled ClaimRules. A rule is `{ "claim": <path> }` (the claim
 * must exist) plus at most one of `equals`, `one_of`, `contains`, `equals_path_variable`, and optionally
 * `"status": 403` (a valid token that fails it is forbidden, not invalid). The path convention is the
 * app_claim's: a string is one literal claim name (dots and URLs included), an array is a path into nested objects.
 */
import type { ClaimPath, ClaimRule, ClaimScalar, PathVariable } from './types.ts';

export interface ClaimRuleSource {
  claim: string | string[];
  equals?: ClaimScalar;
  one_of?: ClaimScalar[];
  contains?: ClaimScalar;
  equals_path_variable?: string;
  status?: 401 | 403;
}

export const toClaimPath = (claim: string | string[]): ClaimPath => (typeof claim === 'string' ? [claim] : claim);

const TESTS = ['equals', 'one_of', 'contains', 'equals_path_variable'] as const;

/**
 * The compiled rule, or what is wrong with it (the schema has checked the types already). `variables` are the
 * route path's; null where there is no path (an issuer's rules), so a rule naming a variable is refused there.
 */
export function compileClaimRule(source: ClaimRuleSource, variables: readonly PathVariable[] | null = null): ClaimRule | string {
  const path = toClaimPath(source.claim);
  const tests = TESTS.filter((k) => source[k] !== undefined);
  if (tests.length > 1) return `give at most one of "equals", "one_of", "contains" and "equals_path_variable" (got ${tests.join(', ')}); write two rules to require both`;
  const forbidden = source.status === 403 ? { forbidden: true as const } : {};
  if (source.equals !== undefined) return { path, test: { kind: 'equals', value: source.equals }, ...forbidden };
  if (source.one_of !== undefined) return { path, test: { kind: 'one_of', values: source.one_of }, ...forbidden };
  if (source.contains !== undefined) return { path, test: { kind: 'contains', value: source.contains }, ...forbidden };
  if (source.equals_path_variable !== undefined) {
    const name = source.equals_path_variable;
    if (variables === null) return '"equals_path_variable" needs a route path with that variable; an issuer\'s rules apply on every route';
    const variable = variables.find((v) => v.name === name);
    if (!variable) return `the route's path has no variable {${name}}${variables.length > 0 ? ` (it has ${variables.map((v) => `{${v.name}}`).join(', ')})` : ''}`;
    return { path, test: { kind: 'equals_path_variable', variable: name, segment: variable.segment }, ...forbidden };
  }
  return { path, test: { kind: 'exists' }, ...forbidden };
}

/** A policy's `claims` compiled; a broken rule is reported at its index. */
export function compileClaimRules(
  rules: readonly ClaimRuleSource[] = [],
  report: (index: number, message: string) => void,
  variables: readonly PathVariable[] | null = null,
): ClaimRule[] {
  const out: ClaimRule[] = [];
  rules.forEach((rule, index) => {
    const compiled = compileClaimRule(rule, variables);
    if (typeof compiled === 'string') report(index, compiled);
    else out.push(compiled);
  });
  return out;
}
