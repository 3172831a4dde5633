/**
 * The headers the origin receives start from the client's, minus everything a client could forge in
 * the gateway's identity namespace. Runs on every route and in every mode, before the gateway adds its own.
 */
export interface SanitizeOptions {
  identityHeaderPrefix: string;
  forwardAuthorization: boolean;
}

export function sanitizeRequestHeaders(incoming: Headers, options: SanitizeOptions): Headers {
  // A native copy, then deleting the few names to drop, costs less than re-appending every header from JS.
  const headers = new Headers(incoming);
  for (const name of incoming.keys()) {
    // Headers yields lower-case names, so one prefix test catches every casing a client tries.
    if (name.startsWith(options.identityHeaderPrefix)) headers.delete(name);
  }
  if (!options.forwardAuthorization) headers.delete('authorization');
  return headers;
}
