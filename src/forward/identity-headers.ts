/** The verified identity, as headers in the gateway's namespace. Values come only from verified claims. */
import { MAX_IDENTITY_HEADER_VALUE_BYTES } from '../config/constants.ts';
import type { ClaimPath } from '../config/types.ts';
import { grantedScopes, readClaim, subjectOf, type Claims } from '../verify/claims.ts';

/** Visible ASCII (and space) without `%`, not starting or ending with a space: what encodeForHeader keeps as it is. */
const SAFE_AS_IS = /^(?:[\x21-\x24\x26-\x7e](?:[\x20-\x24\x26-\x7e]*[\x21-\x24\x26-\x7e])?)?$/;

/**
 * A lone surrogate (valid in JSON text, not encodable as UTF-8) as the three bytes generalized UTF-8 (WTF-8)
 * gives it: %ED%A0%B4 for U+D834. No UTF-8 text has these bytes, so no other value encodes the same. Claims
 * never get here (the gateway refuses a token holding one: claim_invalid, src/verify/claims.ts); this keeps
 * the encoding one-to-one for any string all the same: it once wrote U+FFFD, so "\uD834", "\uD835",
 * "\uDC00" and "\uFFFD" shared one value.
 */
function encodeLoneSurrogate(code: number): string {
  const bytes = [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)];
  return bytes.map((byte) => `%${byte.toString(16).toUpperCase()}`).join('');
}

/**
 * Header values must be visible ASCII: anything else (non-ASCII names, CR/LF an issuer let through) is
 * percent-encoded, and `%` too so the encoding is reversible with decodeURIComponent, and the characters of
 * `alsoEncode` (a list's separator). One-to-one: distinct strings never give the same value
 * (test/unit/forward/identity-encoding.test.ts). A space that would start or end the value is encoded as well: HTTP
 * trims it on the wire, and the origin would get (and hash for the assertion) another value. Once past
 * MAX_IDENTITY_HEADER_VALUE_BYTES it stops and returns what it has, longer than the cap: the caller leaves
 * such a value out (headerValue).
 */
export function encodeForHeader(value: string, alsoEncode = ''): string {
  // Nearly every value (sub, iss, app, scope, exp, a role) is short visible ASCII: pass it through without a per-character loop.
  if (value.length <= MAX_IDENTITY_HEADER_VALUE_BYTES && SAFE_AS_IS.test(value) && !hasAny(value, alsoEncode)) return value;
  let out = '';
  for (let i = 0; i < value.length; ) {
    const code = value.codePointAt(i)!;
    const char = String.fromCodePoint(code);
    const atEdge = i === 0 || i + char.length === value.length;
    const keep = code >= 0x20 && code <= 0x7e && char !== '%' && !alsoEncode.includes(char) && !(code === 0x20 && atEdge);
    const piece = keep ? char : code >= 0xd800 && code <= 0xdfff ? encodeLoneSurrogate(code) : encodeURIComponent(char);
    out += piece;
    if (out.length > MAX_IDENTITY_HEADER_VALUE_BYTES) return out;
    i += char.length;
  }
  return out;
}

function hasAny(value: string, chars: string): boolean {
  for (const char of chars) if (value.includes(char)) return true;
  return false;
}

/**
 * The header value for `value`, or null when it is over the cap once encoded. Such a value is left out,
 * never cut: a cut subject or list of scopes would read as another valid value, and the signed assertion,
 * which covers the headers as sent, would vouch for it.
 */
export function headerValue(value: string): string | null {
  const encoded = encodeForHeader(value);
  return encoded.length > MAX_IDENTITY_HEADER_VALUE_BYTES ? null : encoded;
}

/** The names (after the prefix) of the standard set; claim_headers may not reuse them. */
export const STANDARD_IDENTITY_HEADERS = ['route', 'request-id', 'sub', 'sub-kind', 'iss', 'app', 'scope', 'exp'] as const;

export interface IdentityInput {
  routeId: string;
  /** Null: left out, for the headers an assertion covers (a reused assertion serves requests with other ids). */
  requestId: string | null;
  /** Null on public routes: only the route and request id are stated. */
  verified: { claims: Claims; appClaim: ClaimPath; serviceSubject?: ClaimPath } | null;
}

export interface IdentityHeaders {
  headers: [string, string][];
  /** Header names whose value was over the cap and was not sent (the record's omitted_headers). */
  omitted: string[];
}

/** Adds `prefix + name: value` for a string or number, or names it in omitted when over the cap. */
function addHeader(into: IdentityHeaders, prefix: string, name: string, value: unknown): void {
  if (typeof value !== 'string' && typeof value !== 'number') return;
  const safe = headerValue(String(value));
  if (safe === null) into.omitted.push(`${prefix}${name}`);
  else into.headers.push([`${prefix}${name}`, safe]);
}

/** The standard set: the route always; the request id unless null; sub, iss, app, scope and exp of a verified token. */
export function identityHeaders(prefix: string, input: IdentityInput): IdentityHeaders {
  const result: IdentityHeaders = { headers: [[`${prefix}route`, input.routeId]], omitted: [] };
  if (input.requestId !== null) addHeader(result, prefix, 'request-id', input.requestId);
  if (input.verified === null) return result;
  const { claims, appClaim, serviceSubject } = input.verified;
  const subject = subjectOf(claims, serviceSubject);
  addHeader(result, prefix, 'sub', subject?.subject);
  // Only a service's subject is marked: a user's headers are as they always were.
  if (subject?.kind === 'service') addHeader(result, prefix, 'sub-kind', 'service');
  addHeader(result, prefix, 'iss', claims.iss);
  addHeader(result, prefix, 'app', readClaim(claims, appClaim));
  addHeader(result, prefix, 'scope', [...grantedScopes(claims)].join(' ') || undefined);
  addHeader(result, prefix, 'exp', claims.exp);
  return result;
}

/** The request id alone: the one header of the gateway's own that differs per request, so no assertion covers it. */
export function requestIdHeader(prefix: string, requestId: string): IdentityHeaders {
  const result: IdentityHeaders = { headers: [], omitted: [] };
  addHeader(result, prefix, 'request-id', requestId);
  return result;
}
