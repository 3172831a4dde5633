/** Takes the bearer token from the request (RFC 6750 section 2.1), or says why there is none. */
import { finding, type Finding } from '../findings.ts';

export type Extraction = { ok: true; token: string } | { ok: false; finding: Finding };

/** Where the scheme ends: the first whitespace of any kind (JavaScript's \s, as the parsers it must agree with split). */
const WHITESPACE = /\s/;
/** Whitespace or a comma anywhere in the token. */
const STRAY = /[\s,]/;

export function extractBearerToken(headers: Headers): Extraction {
  const authorization = headers.get('authorization');
  if (authorization === null) return { ok: false, finding: finding('token_missing') };
  // The scheme ends at any whitespace, not only a space: parsers that split on \s read "Bearer<TAB>token" as a
  // bearer credential, so the gateway must too, or an optional route would forward it as "no token".
  // Scheme, separator and token as /^(\S*)(\s*)([\s\S]*)$/ splits them, found by position: that pattern's three
  // captures cost a match array and a copy of the whole header on every request (extract.test.ts holds the two equal).
  const found = authorization.search(WHITESPACE);
  const schemeEnd = found === -1 ? authorization.length : found;
  if (authorization.slice(0, schemeEnd).toLowerCase() !== 'bearer') {
    // Another scheme (Basic, DPoP...) is no bearer token: the client is told which scheme this API wants.
    return { ok: false, finding: finding('token_missing', { detail: 'authorization scheme is not Bearer' }) };
  }
  // What follows the scheme starts with whitespace (or is empty). RFC 6750 2.1: one space, then the token.
  const rest = authorization.slice(schemeEnd);
  const token = rest.slice(1);
  if (rest.charCodeAt(0) === 0x20 && token.length > 0 && !STRAY.test(token)) return { ok: true, token };
  // trim() removes exactly what \s matches: nothing but whitespace after the scheme is no token at all.
  if (rest.trim() === '') return { ok: false, finding: finding('token_malformed', { detail: 'empty bearer token' }) };
  // More whitespace than one space, or whitespace or a comma inside: Headers joins repeated Authorization headers
  // with ", ", and two credentials in one request are ambiguous (section 3.1).
  return { ok: false, finding: finding('request_invalid', { detail: 'more than one credential or stray whitespace' }) };
}
