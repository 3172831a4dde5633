/** The verified identity, as headers in the gateway's namespace. Values come only from verified claims. */
import { MAX_IDENTITY_HEADER_VALUE_BYTES } from '../config/constants.ts';
import type { ClaimPath } from '../config/types.ts';
import { grantedScopes, readClaim, type Claims } from '../verify/claims.ts';

/** Visible ASCII (and space) without `%`: exactly the characters headerSafe keeps as they are. */
const SAFE_AS_IS = /^[\x20-\x24\x26-\x7e]*$/;

/**
 * Header values must be visible ASCII: anything else (non-ASCII names, CR/LF an issuer let through) is
 * percent-encoded, and `%` too so the encoding is reversible with decodeURIComponent. Capped in length.
 */
export function headerSafe(value: string): string {
  // Nearly every value (sub, iss, app, scope, exp) is short visible ASCII: pass it through without a per-character loop.
  if (value.length <= MAX_IDENTITY_HEADER_VALUE_BYTES && SAFE_AS_IS.test(value)) return value;
  return encodeForHeader(value, '', MAX_IDENTITY_HEADER_VALUE_BYTES).slice(0, MAX_IDENTITY_HEADER_VALUE_BYTES);
}

/** As headerSafe, also encoding `alsoEncode`; stops once past `cap` (the caller decides: truncate or drop). */
export function encodeForHeader(value: string, alsoEncode: string, cap: number): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    out += code >= 0x20 && code <= 0x7e && char !== '%' && !alsoEncode.includes(char) ? char : encodeURIComponent(char);
    if (out.length > cap) return out;
  }
  return out;
}

/** The names (after the prefix) of the standard set; claim_headers may not reuse them. */
export const STANDARD_IDENTITY_HEADERS = ['route', 'request-id', 'sub', 'iss', 'app', 'scope', 'exp'] as const;

export interface IdentityInput {
  routeId: string;
  requestId: string;
  /** Null on public routes: only the route and request id are stated. */
  verified: { claims: Claims; appClaim: ClaimPath } | null;
}

/** The standard set: route and request id always; sub, iss, app, scope and exp of a verified token. */
export function identityHeaders(prefix: string, input: IdentityInput): [string, string][] {
  const headers: [string, string][] = [
    [`${prefix}route`, input.routeId],
    [`${prefix}request-id`, headerSafe(input.requestId)],
  ];
  if (input.verified === null) return headers;
  const { claims, appClaim } = input.verified;
  const add = (name: string, value: unknown) => {
    if (typeof value === 'string' || typeof value === 'number') headers.push([`${prefix}${name}`, headerSafe(String(value))]);
  };
  add('sub', claims.sub);
  add('iss', claims.iss);
  add('app', readClaim(claims, appClaim));
  add('scope', [...grantedScopes(claims)].join(' ') || undefined);
  add('exp', claims.exp);
  return headers;
}
