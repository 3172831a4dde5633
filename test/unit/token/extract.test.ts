import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { extractBearerToken } from '../../../src/token/extract.ts';

const extract = (authorization?: string) => extractBearerToken(new Headers(authorization === undefined ? {} : { authorization }));

describe('extractBearerToken', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc.def.ghi', 'abc.def.ghi'],
    ['BEARER abc', 'abc'],
  ])('takes the token from %j', (header, token) => {
    expect(extract(header)).toEqual({ ok: true, token });
  });

  it.each([
    [undefined, 'token_missing'],
    ['Basic dXNlcjpwYXNz', 'token_missing'],
    ['DPoP abc', 'token_missing'],
    ['Bearer', 'token_malformed'],
    ['Bearer ', 'token_malformed'],
    ['Bearer a b', 'request_invalid'],
    ['Bearer a, Bearer b', 'request_invalid'],
    ['Bearer  a', 'request_invalid'],
  ])('refuses %j with %s', (header, code) => {
    const result = extract(header);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.finding.code).toBe(code);
  });

  it('treats two Authorization headers as an invalid request', () => {
    const headers = new Headers();
    headers.append('authorization', 'Bearer a');
    headers.append('authorization', 'Bearer b');
    const result = extractBearerToken(headers);
    expect(result.ok === false && result.finding.code).toBe('request_invalid');
  });
});

/** The split as it was written before (a regex with three captures): the new one must answer exactly as it does. */
function extractByPattern(authorization: string): { ok: true; token: string } | { ok: false; code: string } {
  const [, scheme, separator, token] = /^([^\s]*)(\s*)([\s\S]*)$/.exec(authorization)! as unknown as [string, string, string, string];
  if (scheme.toLowerCase() !== 'bearer') return { ok: false, code: 'token_missing' };
  if (token.length === 0) return { ok: false, code: 'token_malformed' };
  if (separator !== ' ' || /[\s,]/.test(token)) return { ok: false, code: 'request_invalid' };
  return { ok: true, token };
}

const answerOf = (authorization: string) => {
  const result = extractBearerToken({ get: () => authorization } as unknown as Headers);
  return result.ok ? result : { ok: false, code: result.finding.code };
};

describe('extractBearerToken finds scheme, separator and token where the three-capture pattern did', () => {
  // Every kind of whitespace \s knows (headers carry Latin-1, but the function takes any string), commas, and schemes near "Bearer".
  const SPACES = [' ', '\t', '\n', '\v', '\f', '\r', '\u00a0', '\u1680', '\u2000', '\u2028', '\u2029', '\u202f', '\u3000', '\ufeff'];
  it.each([
    '', ' ', 'Bearer', 'Bearer ', 'Bearer  ', 'Bearer\t', 'bEaReR x', 'Bearer x', ' Bearer x', 'Bearerx', 'Bearer\tx', 'Bearer\u00a0x',
    'Bearer x\u00a0', 'Bearer x,', 'Bearer ,', 'Bearer \u2028x', 'Bearer\ufeffx', 'Bearer x y', 'Beare x', 'Bearers x', 'Bear er x', 'BEARER a.b.c',
  ])('%j', (header) => {
    expect(answerOf(header)).toEqual(extractByPattern(header));
  });

  it('on random headers built from the characters that matter', () => {
    const piece = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Beare', 'r', 'x', 'a.b.c', ',', '=', 'İ', ...SPACES);
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
        const header = pieces.join('');
        expect(answerOf(header)).toEqual(extractByPattern(header));
      }),
      { numRuns: 3000 },
    );
  });
});
