/** Takes the bearer token from the request (RFC 6750 section 2.1), or says why there is none. */
import { finding, type Finding } from '../findings.ts';

export type Extraction = { ok: true; token: string } | { ok: false; finding: Finding };

export function extractBearerToken(headers: Headers): Extraction {
  const authorization = headers.get('authorization');
  if (authorization === null) return { ok: false, finding: finding('token_missing') };
  // The scheme ends at any whitespace, not only a space: parsers that split on \s read "Bearer<TAB>token" as a
  // bearer credential, so the gateway must too, or an optional route would forward it as "no token".
  const match = /^([^\s]*)(\s*)([\s\S]*)$/.exec(authorization)!;
  const [, scheme, separator, token] = match as unknown as [string, string, string, string];
  if (scheme.toLowerCase() !== 'bearer') {
    // Another scheme (Basic, DPoP...) is no bearer token: the client is told which scheme this API wants.
    return { ok: false, finding: finding('token_missing', { detail: 'authorization scheme is not Bearer' }) };
  }
  if (token.length === 0) return { ok: false, finding: finding('token_malformed', { detail: 'empty bearer token' }) };
  // RFC 6750 2.1: one space. Headers joins repeated Authorization headers with ", ": two credentials in one request are ambiguous (section 3.1).
  if (separator !== ' ' || /[\s,]/.test(token)) return { ok: false, finding: finding('request_invalid', { detail: 'more than one credential or stray whitespace' }) };
  return { ok: true, token };
}
