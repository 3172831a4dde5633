/** Takes the bearer token from the request (RFC 6750 section 2.1), or says why there is none. */
import { finding, type Finding } from '../findings.ts';

export type Extraction = { ok: true; token: string } | { ok: false; finding: Finding };

export function extractBearerToken(headers: Headers): Extraction {
  const authorization = headers.get('authorization');
  if (authorization === null) return { ok: false, finding: finding('token_missing') };
  const space = authorization.indexOf(' ');
  const scheme = space === -1 ? authorization : authorization.slice(0, space);
  if (scheme.toLowerCase() !== 'bearer') {
    // Another scheme (Basic, DPoP...) is no bearer token: the client is told which scheme this API wants.
    return { ok: false, finding: finding('token_missing', { detail: 'authorization scheme is not Bearer' }) };
  }
  const token = authorization.slice(space + 1);
  if (space === -1 || token.length === 0) return { ok: false, finding: finding('token_malformed', { detail: 'empty bearer token' }) };
  // Headers joins repeated Authorization headers with ", ": two credentials in one request are ambiguous (RFC 6750 section 3.1).
  if (/[\s,]/.test(token)) return { ok: false, finding: finding('request_invalid', { detail: 'more than one credential or stray whitespace' }) };
  return { ok: true, token };
}
