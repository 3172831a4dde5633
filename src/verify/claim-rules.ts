/**
 * Claim value constraints from policies (an issuer's and a route's `claims`): a claim must exist and,
 * when the rule says so, equal a value, be one of several, or be an array containing a value.
 * Pure. Comparison is strict (no coercion: "1" is not 1, "true" is not true).
 */
import type { ClaimPath, ClaimRule, ClaimScalar } from '../config/types.ts';
import { finding, type Finding } from '../findings.ts';

export type Claims = Record<string, unknown>;

/** Reads a claim by path; each path element is a literal member name (dots and URLs included). */
export function readClaim(claims: Claims, path: ClaimPath): unknown {
  let value: unknown = claims;
  for (const name of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, name)) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

/** How a claim path is named in findings: nested names joined by "." (a one-element path is its name as written). */
export const claimName = (path: ClaimPath) => path.join('.');

export const isScalar = (value: unknown): value is ClaimScalar => typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/** The values of the route's path variables in this request (src/route/resolve.ts). */
export type PathVariables = Readonly<Record<string, string>>;

/**
 * null when the rule holds, else the one finding that says why. A rule with `forbidden` reports
 * claim_insufficient (403: the token is valid, it just does not allow this), the plain reason in `detail`.
 */
export function checkClaimRule(claims: Claims, rule: ClaimRule, pathVariables?: PathVariables): Finding | null {
  const failed = ruleFailure(claims, rule, pathVariables);
  if (failed === null || rule.forbidden !== true) return failed;
  const { code, ...evidence } = failed;
  return finding('claim_insufficient', { ...evidence, detail: evidence.detail ? `${code}: ${evidence.detail}` : code });
}

function ruleFailure(claims: Claims, rule: ClaimRule, pathVariables: PathVariables | undefined): Finding | null {
  const claim = claimName(rule.path);
  const actual = readClaim(claims, rule.path);
  const { test } = rule;
  if (test.kind === 'equals_path_variable') {
    // Fails closed without a value: a rule with a variable only runs on the route whose path defines it.
    const expected = pathVariables?.[test.variable];
    if (expected !== undefined && actual === expected) return null;
    return finding('path_variable_mismatch', { claim, actual: isScalar(actual) ? actual : null, expected: expected ?? null, detail: `{${test.variable}}` });
  }
  if (actual === undefined || actual === null) return finding('claim_missing', { claim });
  switch (test.kind) {
    case 'equals':
      if (!isScalar(actual)) return finding('claim_invalid', { claim, detail: 'not a string, number or boolean' });
      return actual === test.value ? null : finding('claim_mismatch', { claim, actual, expected: test.value });
    case 'one_of':
      if (!isScalar(actual)) return finding('claim_invalid', { claim, detail: 'not a string, number or boolean' });
      return test.values.includes(actual) ? null : finding('claim_mismatch', { claim, actual, expected: test.values });
    case 'contains':
      if (!Array.isArray(actual)) return finding('claim_invalid', { claim, detail: 'not an array' });
      return actual.includes(test.value) ? null : finding('claim_mismatch', { claim, actual: actual.filter(isScalar), expected: test.value });
    case 'exists':
      return null;
  }
}

/** Appends each failed rule's finding, unless an earlier check already reported the same code for the same claim (an app claim that is also a required claim). */
export function checkClaimRules(claims: Claims, rules: readonly ClaimRule[], findings: Finding[], pathVariables?: PathVariables): void {
  for (const rule of rules) {
    const failed = checkClaimRule(claims, rule, pathVariables);
    if (failed && !findings.some((f) => f.code === failed.code && f.claim === failed.claim)) findings.push(failed);
  }
}
