/**
 * Every claim check a verified token must pass, in one documented order. Runs only after the signature
 * verified, and reports every failure rather than the first, so the log explains a rejection in one line.
 * Pure: the clock is an argument.
 */
import { MAX_NUMERIC_DATE } from '../config/constants.ts';
import type { ClaimPath, CompiledIssuer, CompiledRoute } from '../config/types.ts';
import { finding, type Finding } from '../findings.ts';
import type { JoseHeader } from '../token/shape.ts';
import { checkClaimRules, claimName, readClaim, type Claims } from './claim-rules.ts';

export { readClaim, type Claims };

const AUD: readonly string[] = ['aud'];

/** Whether `iss` is a value the issuer signs with: its own, or an alias a preset knows (Google's two forms). */
export const acceptsIss = (issuer: CompiledIssuer, iss: unknown): boolean =>
  typeof iss === 'string' && (iss === issuer.issuer || (issuer.issAliases?.includes(iss) ?? false));

/** RFC 7519 NumericDate, bounded: a finite number of seconds between 1970 and 9999. */
const isNumericDate = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_NUMERIC_DATE;

/** String.prototype.isWellFormed (ES2024; workerd and Node 20+ have it, the project's TypeScript lib is ES2023). */
const isWellFormed = (text: string): boolean => (text as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * The first top-level claim holding text that is not well-formed Unicode: a lone surrogate ("\uD834" is valid
 * JSON, but no UTF-8 can carry it) in any string or member name, at any depth; undefined when there is none.
 * Such a claim has no faithful form in a header, the log or another system's parser: "\uD834", "\uD835"
 * and "\uDC00" all became U+FFFD, so distinct subjects reached the origin as one. A name that is itself
 * ill-formed is returned made well-formed, for the log. Nesting is bounded by the shape gate (MAX_JSON_DEPTH).
 */
export function illFormedClaim(claims: Claims): string | undefined {
  for (const name in claims) {
    if (!isWellFormed(name)) return (name as string & { toWellFormed(): string }).toWellFormed();
    if (!wellFormedValue(claims[name])) return name;
  }
  return undefined;
}

function wellFormedValue(value: unknown): boolean {
  if (typeof value === 'string') return isWellFormed(value);
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) return value.every(wellFormedValue);
  for (const name in value) if (!isWellFormed(name) || !wellFormedValue((value as Record<string, unknown>)[name])) return false;
  return true;
}

/** The judgment of each cached (frozen, shared) claim set: a hit checks again, and a frozen set cannot change. */
const illFormedOfFrozen = new WeakMap<Claims, string | null>();

function illFormedClaimOf(claims: Claims): string | undefined {
  if (!Object.isFrozen(claims)) return illFormedClaim(claims);
  let judged = illFormedOfFrozen.get(claims);
  if (judged === undefined) illFormedOfFrozen.set(claims, (judged = illFormedClaim(claims) ?? null));
  return judged ?? undefined;
}

/** RFC 8725 section 3.11 / RFC 9068 section 2.1: "at+jwt" and "application/at+jwt" are the same type; case is ignored. */
export function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

/** The scopes of each cached (frozen, shared) claim set: a hit reads them three times per request. */
const scopesOfFrozen = new WeakMap<Claims, ReadonlySet<string>>();

/** Scopes from the space-delimited `scope` claim (RFC 8693/9068) or the `scp` claim (array or string, Okta/Entra). */
export function grantedScopes(claims: Claims): ReadonlySet<string> {
  if (!Object.isFrozen(claims)) return scopesOf(claims);
  let scopes = scopesOfFrozen.get(claims);
  if (scopes === undefined) scopesOfFrozen.set(claims, (scopes = scopesOf(claims)));
  return scopes;
}

function scopesOf(claims: Claims): ReadonlySet<string> {
  const scopes = new Set<string>();
  addScopes(scopes, claims.scope);
  addScopes(scopes, claims.scp);
  return scopes;
}

function addScopes(scopes: Set<string>, value: unknown): void {
  if (typeof value === 'string') {
    for (const s of value.split(' ')) if (s) scopes.add(s);
  } else if (Array.isArray(value)) {
    for (const s of value) if (typeof s === 'string' && s) scopes.add(s);
  }
}

function checkTimes(claims: Claims, issuer: CompiledIssuer, now: number, findings: Finding[]): void {
  const skew = issuer.clockSkewSeconds;
  const { exp, nbf, iat } = claims;
  if (exp === undefined) findings.push(finding('claim_missing', { claim: 'exp' }));
  else if (!isNumericDate(exp)) findings.push(finding('claim_invalid', { claim: 'exp', detail: 'not a NumericDate' }));
  else if (now >= exp + skew) findings.push(finding('token_expired', { claim: 'exp', actual: exp, expected: `> ${now - skew}` }));

  if (nbf !== undefined) {
    if (!isNumericDate(nbf)) findings.push(finding('claim_invalid', { claim: 'nbf', detail: 'not a NumericDate' }));
    else if (nbf > now + skew) findings.push(finding('token_not_yet_valid', { claim: 'nbf', actual: nbf, expected: `<= ${now + skew}` }));
  }
  if (iat !== undefined) {
    if (!isNumericDate(iat)) findings.push(finding('claim_invalid', { claim: 'iat', detail: 'not a NumericDate' }));
    else if (iat > now + skew) findings.push(finding('issued_in_future', { claim: 'iat', actual: iat, expected: `<= ${now + skew}` }));
  }
  if (isNumericDate(exp)) {
    // Lifetime counts from issuance; a token without iat or nbf is judged by what it has left.
    const start = isNumericDate(iat) ? iat : isNumericDate(nbf) ? nbf : now;
    if (exp - start > issuer.maxLifetimeSeconds) {
      findings.push(finding('lifetime_too_long', { claim: 'exp', actual: exp - start, expected: `<= ${issuer.maxLifetimeSeconds}` }));
    }
  }
}

/** The route's audiences against `aud`, or the issuer's audience claim where it has no `aud` (Cognito: client_id). */
function checkAudience(claims: Claims, issuer: CompiledIssuer, route: CompiledRoute, findings: Finding[]): void {
  const path = issuer.audienceClaim ?? AUD;
  const claim = claimName(path);
  const aud = readClaim(claims, path);
  if (aud === undefined) {
    findings.push(finding('claim_missing', { claim }));
    return;
  }
  const audiences = typeof aud === 'string' ? [aud] : aud;
  if (!Array.isArray(audiences) || audiences.length === 0 || !audiences.every((a) => typeof a === 'string')) {
    findings.push(finding('claim_invalid', { claim, detail: 'not a string or a non-empty array of strings' }));
    return;
  }
  if (!audiences.some((a) => route.audiences.includes(a as string))) {
    findings.push(finding('audience_mismatch', { claim, actual: audiences, expected: route.audiences }));
  }
}

export interface ClaimCheckInput {
  header: JoseHeader;
  claims: Claims;
  issuer: CompiledIssuer;
  route: CompiledRoute;
  now: number;
}

/**
 * Order: well-formed text, typ, issuer, times, audience, app, subject, scopes, the issuer's claim rules, the route's claim rules. The issuer was chosen by `iss` before the
 * signature check; it is checked again here so that this function alone states the contract.
 */
export function checkClaims({ header, claims, issuer, route, now }: ClaimCheckInput): Finding[] {
  const findings: Finding[] = [];
  const illFormed = illFormedClaimOf(claims);
  if (illFormed !== undefined) findings.push(finding('claim_invalid', { claim: illFormed, detail: 'not well-formed Unicode (a lone surrogate)' }));
  if (issuer.typ !== null) {
    const typ = typeof header.typ === 'string' ? normalizeTyp(header.typ) : undefined;
    if (typ !== issuer.typ) findings.push(finding('typ_mismatch', { actual: header.typ ?? null, expected: issuer.typ }));
  }
  if (!acceptsIss(issuer, claims.iss)) {
    findings.push(finding('issuer_mismatch', { claim: 'iss', actual: claims.iss, expected: issuer.issuer }));
  }
  checkTimes(claims, issuer, now, findings);
  checkAudience(claims, issuer, route, findings);
  if (route.app !== null) {
    const app = readClaim(claims, issuer.appClaim);
    if (app === undefined) findings.push(finding('claim_missing', { claim: claimName(issuer.appClaim) }));
    else if (app !== route.app) findings.push(finding('app_mismatch', { claim: claimName(issuer.appClaim), actual: app, expected: route.app }));
  }
  if (claims.sub === undefined) findings.push(finding('claim_missing', { claim: 'sub' }));
  else if (subjectOf(claims, issuer.serviceSubject) === null) findings.push(finding('claim_invalid', { claim: 'sub', detail: 'not a non-empty string' }));
  if (route.scopes.length > 0) {
    const granted = grantedScopes(claims);
    const missing = route.scopes.filter((s) => !granted.has(s));
    if (missing.length > 0) findings.push(finding('scope_insufficient', { claim: 'scope', expected: route.scopes, actual: [...granted] }));
  }
  checkClaimRules(claims, issuer.claims ?? [], findings);
  checkClaimRules(claims, route.claims ?? [], findings);
  return findings;
}

/**
 * Whom the token is for: its sub, or, for an issuer with a service subject (Cloudflare Access service
 * tokens: sub "", common_name the service token's client id), that claim, marked as a service's so that an
 * origin never takes it for a user of the same name. null when there is none.
 */
export function subjectOf(claims: Claims, serviceSubject: ClaimPath | undefined): { subject: string; kind: 'user' | 'service' } | null {
  const sub = claims.sub;
  if (typeof sub === 'string' && sub.length > 0) return { subject: sub, kind: 'user' };
  if (sub !== '' || serviceSubject === undefined) return null;
  const service = readClaim(claims, serviceSubject);
  return typeof service === 'string' && service.length > 0 ? { subject: service, kind: 'service' } : null;
}
