/**
 * The route's claim_headers mapping: claim path -> header. Values come only from verified claims.
 * Strings and numbers as they are; arrays joined with "," (each element's own "," percent-encoded, so
 * split-then-decodeURIComponent gives the elements back) or JSON; objects JSON. Everything outside visible
 * ASCII is percent-encoded. A value over the size cap is left out entirely, never truncated: a cut-off
 * list of roles or groups would read as a different, valid list.
 */
import { MAX_IDENTITY_HEADER_VALUE_BYTES } from '../config/constants.ts';
import type { ClaimHeader } from '../config/types.ts';
import { isScalar } from '../verify/claim-rules.ts';
import { readClaim, type Claims } from '../verify/claims.ts';
import { encodeForHeader } from './identity-headers.ts';

export interface ClaimHeaderResult {
  headers: [string, string][];
  /** Header names whose value was over the cap and was not sent. */
  omitted: string[];
  /** The raw claim values that were sent, by header name: the assertion carries them with their JSON types. */
  values: Record<string, unknown>;
}

function render(value: unknown, format: ClaimHeader['format']): string | null {
  if (value === undefined || value === null) return null;
  if (format !== 'json' && isScalar(value)) return encodeForHeader(String(value));
  if (format !== 'json' && Array.isArray(value) && value.every(isScalar)) return value.map((element) => encodeForHeader(String(element), ',')).join(',');
  // JSON asked for, or an object or an array holding objects: only JSON says it without loss.
  return encodeForHeader(JSON.stringify(value));
}

export function claimHeaders(claims: Claims, mapping: readonly ClaimHeader[]): ClaimHeaderResult {
  const result: ClaimHeaderResult = { headers: [], omitted: [], values: {} };
  for (const { header, claim, format } of mapping) {
    const value = readClaim(claims, claim);
    const rendered = render(value, format);
    if (rendered === null) continue;
    if (rendered.length > MAX_IDENTITY_HEADER_VALUE_BYTES) {
      result.omitted.push(header);
      continue;
    }
    result.headers.push([header, rendered]);
    result.values[header] = value;
  }
  return result;
}
