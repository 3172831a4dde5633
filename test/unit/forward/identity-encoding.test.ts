/**
 * Distinct claim values never give the same header value: the origin's identity is exactly the verified one.
 * Lone surrogates used to become U+FFFD, so "\uD834", "\uD835", "\uDC00" and "\uFFFD" reached the origin
 * as one subject; a token holding one is now refused (claim_invalid), and the encoding is one-to-one anyway.
 */
import { describe, expect, it } from 'vitest';
import { claimHeaders } from '../../../src/forward/claim-headers.ts';
import { encodeForHeader, headerValue, identityHeaders } from '../../../src/forward/identity-headers.ts';

/** Values that a lossy encoding would merge: replacement characters, escapes spelled out, edge spaces, lookalikes. */
const DISTINCT = [
  '\uD834', '\uD835', '\uDC00', '\uDFFF', '\uFFFD', '\uD834\uDD1E', '\uDD1E\uD834', '😀', '%EF%BF%BD', '%ED%A0%B4',
  '', ' ', '  ', 'a b', ' a', 'a ', '%20a', 'a%20', '%', '%25', '%2C', ',', 'a,b',
  'é', 'e\u0301', '\u00e9\u0301', 'Ω', '\u2126', 'a\u0000', 'a', 'A', '\n', '%0A', '\r\n', '\t', 'a\u200bb', 'ab',
  'x'.repeat(2048), `${'x'.repeat(2047)} `,
];

const show = (value: unknown) => JSON.stringify(value);

describe('identity headers are one-to-one', () => {
  it('the values are distinct to begin with', () => {
    expect(new Set(DISTINCT).size).toBe(DISTINCT.length);
  });

  it('encodeForHeader gives every distinct value its own header value', () => {
    const seen = new Map<string, string>();
    for (const value of DISTINCT) {
      const encoded = encodeForHeader(value);
      // Compared as JSON text: a lone surrogate in a failure message cannot travel to the test runner as UTF-8.
      expect(show([value, seen.get(encoded)])).toBe(show([value, undefined]));
      seen.set(encoded, value);
    }
  });

  it('... and a list separator of its own (claim_headers joins arrays with ",")', () => {
    const encoded = DISTINCT.map((value) => encodeForHeader(value, ','));
    expect(new Set(encoded).size).toBe(DISTINCT.length);
    expect(encoded.every((value) => !value.includes(','))).toBe(true);
  });

  it.each(DISTINCT.filter((value) => (value as string & { isWellFormed(): boolean }).isWellFormed()).map((v) => [JSON.stringify(v).slice(0, 40), v]))(
    'well-formed %s: decodeURIComponent gives it back',
    (_, value) => {
      expect(decodeURIComponent(encodeForHeader(value))).toBe(value);
    },
  );

  it('x-verified-sub of distinct subjects differ (or the value is left out, never cut)', () => {
    const sent = new Map<string, string>();
    for (const sub of DISTINCT) {
      const { headers, omitted } = identityHeaders('x-verified-', { routeId: 'r', requestId: null, verified: { claims: { sub }, appClaim: ['app_id'] } });
      const header = headers.find(([name]) => name === 'x-verified-sub')?.[1];
      if (header === undefined) {
        expect(omitted).toEqual(['x-verified-sub']);
        expect(headerValue(sub)).toBeNull();
        continue;
      }
      expect(show([sub, sent.get(header)])).toBe(show([sub, undefined]));
      sent.set(header, sub);
    }
    expect(sent.size).toBeGreaterThan(DISTINCT.length - 3);
  });

  it('a claim header of distinct string lists differ', () => {
    const lists = [['a,b'], ['a', 'b'], ['a%2Cb'], ['\uD834'], ['\uFFFD'], ['a b'], ['a', ' b']];
    const values = lists.map((list) => claimHeaders({ groups: list }, [{ header: 'x-verified-groups', claim: ['groups'], format: 'join' }]).headers[0]![1]);
    expect(new Set(values).size).toBe(lists.length);
  });
});
