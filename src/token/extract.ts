/** Takes the bearer token from the request (RFC 6750 section 2.1), or says why there is none. */
import { finding, type Finding } from '../findings.ts';

export type Extraction = { ok: true; token: string } | { ok: false; finding: Finding };

/** Where the scheme ends: the first whitespace of any kind (JavaScript's \s, as the parsers it must agree with split). */
const WHITESPACE = /\s/;
/** The run of whitespace at lastIndex: the separator. */
const SEPARATOR = /\s*/y;
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
  SEPARATOR.lastIndex = schemeEnd;
  SEPARATOR.test(authorization);
  const tokenStart = SEPARATOR.lastIndex;
  if (tokenStart === authorization.length) return { ok: false, finding: finding('token_malformed', { detail: 'empty bearer token' }) };
  const token = authorization.slice(tokenStart);
  // RFC 6750 2.1: one space. Headers joins repeated Authorization headers with ", ": two credentials in one request are ambiguous (section 3.1).
  if (tokenStart !== schemeEnd + 1 || authorization.charCodeAt(schemeEnd) !== 0x20 || STRAY.test(token)) {
    return { ok: false, finding: finding('request_invalid', { detail: 'more than one credential or stray whitespace' }) };
  }
  return { ok: true, token };
}
