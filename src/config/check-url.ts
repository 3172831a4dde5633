/**
 * The compiler's rule for a URL a policy gives (a jwks_uri, an issuer to discover, an origin): one that parses,
 * with no query, fragment or credentials. Returns what is wrong, or null.
 */
export function checkUrl(value: string, what: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${what} is not a URL`;
  }
  if (url.search || url.hash || url.username || url.password) return `${what} may not carry a query, fragment or credentials`;
  return null;
}
