/**
 * extractBearerToken accepts the usual "Bearer <token>" with one pattern before its general path: the answer
 * must be the general path's on every header, so this compares it with that path alone (the function as it
 * was before the shortcut) on generated Authorization values.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { finding } from '../../../src/findings.ts';
import { extractBearerToken, type Extraction } from '../../../src/token/extract.ts';

function generalPath(authorization: string | null): Extraction {
  if (authorization === null) return { ok: false, finding: finding('token_missing') };
  const [, scheme, separator, token] = /^([^\s]*)(\s*)([\s\S]*)$/.exec(authorization)! as unknown as [string, string, string, string];
  if (scheme.toLowerCase() !== 'bearer') return { ok: false, finding: finding('token_missing', { detail: 'authorization scheme is not Bearer' }) };
  if (token.length === 0) return { ok: false, finding: finding('token_malformed', { detail: 'empty bearer token' }) };
  if (separator !== ' ' || /[\s,]/.test(token)) return { ok: false, finding: finding('request_invalid', { detail: 'more than one credential or stray whitespace' }) };
  return { ok: true, token };
}

// Letters of "bearer" in both cases, the separators that matter, and characters that fold or look alike:
// long s (toUpperCase is S), the Kelvin sign (toLowerCase is k), NBSP and other \s a header value may carry.
const PIECES = ['B', 'b', 'e', 'E', 'a', 'A', 'r', 'R', 'Bearer', 'bEaReR', ' ', '  ', '\t', ',', ', ', 'x', '.', '-', '_', '\u017f', '\u212a', '\u00a0', '\u00e9', '\u0130', '=', 'eyJ'];
const value = fc.oneof(
  fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }).map((parts) => parts.join('')),
  fc.tuple(fc.constantFrom('Bearer ', 'bearer ', 'BEARER ', 'Bearer  ', 'Bearer\t', 'Bearer\u00a0', 'Bearer,'), fc.array(fc.constantFrom(...PIECES), { maxLength: 8 })).map(([head, parts]) => head + parts.join('')),
);

it('answers as the general path alone does, for every generated Authorization value', () => {
  let compared = 0;
  fc.assert(
    fc.property(value, (authorization) => {
      let headers: Headers;
      try {
        headers = new Headers({ authorization });
      } catch {
        return; // a value no request can carry
      }
      compared++;
      expect(extractBearerToken(headers)).toEqual(generalPath(headers.get('authorization')));
    }),
    { numRuns: 3000 },
  );
  expect(compared).toBeGreaterThan(2000);
});
