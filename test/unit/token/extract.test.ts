import { describe, expect, it } from 'vitest';
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
