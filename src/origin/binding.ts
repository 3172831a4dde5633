/**
 * What ties an assertion to one request and to the plain identity headers beside it. Shared by the
 * gateway (which mints) and the origin module (which checks), so both sides compute exactly the same
 * bytes. Uses only WebCrypto and TextEncoder: runs in Node 20+, Deno, Bun and Workers alike.
 */
/** JOSE typ of the gateway's assertion: an origin refuses any other JWT (an IdP token, an ID token) in its place. */
export const ASSERTION_TYP = 'gateway-assertion+jwt';

/**
 * The request as the origin receives it: method, Host, the path without the query, and the query's digest
 * (queryDigest). This is the assertion's `req`.
 */
export interface RequestBinding {
  method: string;
  host: string;
  path: string;
  /** base64url(SHA-256(the query string without "?")), or "" when the request has no query. */
  query: string;
}

/** What the gateway forwards, as the binding's input: the query as text (with or without its "?"), not yet hashed. */
export interface ForwardedRequest {
  method: string;
  host: string;
  path: string;
  query: string;
}

const utf8 = new TextEncoder();

type ToBase64 = (this: Uint8Array, options: { alphabet: 'base64url'; omitPadding: true }) => string;
/** The runtime's own encoder (workerd has it; Node 22 does not). */
const nativeToBase64 = (Uint8Array.prototype as { toBase64?: ToBase64 }).toBase64;
const BASE64URL = Object.freeze({ alphabet: 'base64url', omitPadding: true } as const);

/**
 * base64url without padding (RFC 7515) of bytes, or of a string's UTF-8: what the assertion and both bindings
 * are written in. The runtime's encoder where there is one, else btoa; the same text as jose's base64url.encode,
 * without bringing jose's encoding module into the Worker.
 */
export function base64UrlEncode(input: Uint8Array | string): string {
  const bytes = typeof input === 'string' ? utf8.encode(input) : input;
  if (nativeToBase64 !== undefined) return nativeToBase64.call(bytes, BASE64URL);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * The query's part of the binding: base64url(SHA-256(UTF-8 of the query string without its leading "?")),
 * exactly as sent and received (no decoding, no reordering: the origin hashes the raw query it got), or ""
 * for no query (and for a bare "?"), which costs no hash. A digest rather than the text: the query can be
 * long and can carry secrets (pre-signed URLs), and the assertion may end up in logs.
 */
export function queryDigest(query: string): string | Promise<string> {
  const text = query.startsWith('?') ? query.slice(1) : query;
  if (text === '') return '';
  return crypto.subtle.digest('SHA-256', utf8.encode(text)).then((digest) => base64UrlEncode(new Uint8Array(digest)));
}

/** The assertion's `req` for a forwarded request. */
export async function requestBinding({ method, host, path, query }: ForwardedRequest): Promise<RequestBinding> {
  const digest = queryDigest(query);
  return { method, host, path, query: typeof digest === 'string' ? digest : await digest };
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

export async function headerBinding(entries: readonly (readonly [string, string])[]): Promise<HeaderBinding> {
  // Sorted once for both halves: the gateway mints one binding per forwarded request.
  const sorted = sortedByName(entries);
  const digest = await crypto.subtle.digest('SHA-256', utf8.encode(canonicalOf(sorted)));
  return { names: sorted.map(([name]) => name), sha256: base64UrlEncode(new Uint8Array(digest)) };
}
