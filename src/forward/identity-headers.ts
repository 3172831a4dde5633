/** The verified identity, as headers in the gateway's namespace. Values come only from verified claims. */
import { MAX_IDENTITY_HEADER_VALUE_BYTES } from '../config/constants.ts';
import type { ClaimPath } from '../config/types.ts';
import { grantedScopes, readClaim, type Claims } from '../verify/claims.ts';

/** Visible ASCII (and space) without `%`, not starting or ending with a space: what headerSafe keeps as it is. */
const SAFE_AS_IS = /^(?:[\x21-\x24\x26-\x7e](?:[\x20-\x24\x26-\x7e]*[\x21-\x24\x26-\x7e])?)?$/;

/**
 * Header values must be visible ASCII: anything else (non-ASCII names, CR/LF an issuer let through) is
 * percent-encoded, and `%` too so the encoding is reversible with decodeURIComponent. A space that would
 * start or end the value is encoded as well: HTTP trims it on the wire, and the origin would get (and hash
 * for the assertion) another value. Capped in length, cut at a whole character.
 */
export function headerSafe(value: string): string {
  // Nearly every value (sub, iss, app, scope, exp) is short visible ASCII: pass it through without a per-character loop.
  if (value.length <= MAX_IDENTITY_HEADER_VALUE_BYTES && SAFE_AS_IS.test(value)) return value;
  return encodeForHeader(value, '', MAX_IDENTITY_HEADER_VALUE_BYTES, true);
}

/** U+FFFD, for a lone surrogate (valid in JSON text, not encodable as UTF-8). */
const REPLACEMENT = '%EF%BF%BD';

/**
 * As headerSafe, also encoding `alsoEncode`. Past `cap` it stops: with `cutAtCap` it returns what fits,
 * ending on a whole character; without, the first piece over the cap, so the caller sees the value was too
 * long (claim headers leave such a value out rather than cut it).
 */
export function encodeForHeader(value: string, alsoEncode: string, cap: number, cutAtCap = false): string {
  let out = '';
  for (let i = 0; i < value.length; ) {
    const code = value.codePointAt(i)!;
    const char = String.fromCodePoint(code);
    const atEdge = i === 0 || i + char.length === value.length;
    const keep = code >= 0x20 && code <= 0x7e && char !== '%' && !alsoEncode.includes(char) && !(code === 0x20 && atEdge);
    const piece = keep ? char : code >= 0xd800 && code <= 0xdfff ? REPLACEMENT : encodeURIComponent(char);
    if (out.length + piece.length > cap) return cutAtCap ? out : out + piece;
    out += piece;
    i += char.length;
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
