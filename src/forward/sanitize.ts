/**
 * The headers the origin receives start from the client's, minus everything a client could forge in
 * the gateway's identity namespace. Runs on every route and in every mode, before the gateway adds its own.
 */
export interface SanitizeOptions {
  identityHeaderPrefix: string;
  forwardAuthorization: boolean;
  /** The assertion header's name; it may lie outside the prefix and is removed all the same. */
  assertionHeader?: string | null;
}

export function sanitizeRequestHeaders(incoming: Headers, options: SanitizeOptions): Headers {
  const headers = new Headers();
  for (const [name, value] of incoming) {
    // Headers yields lower-case names, so one prefix test catches every casing a client tries. CGI, WSGI and
    // nginx (underscores_in_headers) read "_" as "-", so x-verified_sub would reach the app as x-verified-sub.
    const canonical = name.replace(/_/g, '-');
    if (canonical.startsWith(options.identityHeaderPrefix) || canonical === options.assertionHeader) continue;
    if (name === 'authorization' && !options.forwardAuthorization) continue;
    headers.append(name, value);
  }
  return headers;
}
