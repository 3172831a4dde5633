/**
 * What ties an assertion to one request and to the plain identity headers beside it. Shared by the
 * gateway (which mints) and the origin module (which checks), so both sides compute exactly the same
 * bytes. Uses only WebCrypto and TextEncoder: runs in Node 20+, Deno, Bun and Workers alike.
 */
import { base64url } from 'jose';

/** JOSE typ of the gateway's assertion: an origin refuses any other JWT (an IdP token, an ID token) in its place. */
export const ASSERTION_TYP = 'gateway-assertion+jwt';

/** The request as the origin receives it: method, Host, and the path without the query. */
export interface RequestBinding {
  method: string;
  host: string;
  path: string;
}

/** The identity headers the assertion covers: their names, and a SHA-256 over names and values. */
export interface HeaderBinding {
  names: string[];
  sha256: string;
}

/**
 * Canonical form: names lower-cased and sorted, one "name:value\n" line each, UTF-8. Values are the
 * gateway's header-safe ASCII, so no line can smuggle a second one.
 */
export function canonicalHeaders(entries: readonly (readonly [string, string])[]): string {
  return canonicalOf(sortedByName(entries));
}

/** The canonical text of entries already sorted by name: what headerBinding hashes and canonicalHeaders returns. */
function canonicalOf(sorted: readonly (readonly [string, string])[]): string {
  let canonical = '';
  for (const [name, value] of sorted) canonical += `${name}:${value}\n`;
  return canonical;
}

/** Names lower-cased, sorted by name (a stable sort keeps the order of a repeated name). */
function sortedByName(entries: readonly (readonly [string, string])[]): (readonly [string, string])[] {
  return entries.map(([name, value]) => [name.toLowerCase(), value] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

const utf8 = new TextEncoder();

export async function headerBinding(entries: readonly (readonly [string, string])[]): Promise<HeaderBinding> {
  // Sorted once for both halves: the gateway mints one binding per forwarded request.
  const sorted = sortedByName(entries);
  const digest = await crypto.subtle.digest('SHA-256', utf8.encode(canonicalOf(sorted)));
  return { names: sorted.map(([name]) => name), sha256: base64url.encode(new Uint8Array(digest)) };
}
