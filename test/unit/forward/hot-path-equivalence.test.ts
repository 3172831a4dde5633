/**
 * The benchmark branch rewrote two hot-path functions for speed; these tables prove they answer exactly as
 * the foundation's versions (kept in bench/worker/baseline.ts) on every kind of input.
 */
import { describe, expect, it } from 'vitest';
import { headerSafeBefore, sanitizeRequestHeadersBefore } from '../../../bench/worker/baseline.ts';
import { headerValue } from '../../../src/forward/identity-headers.ts';
import { sanitizeRequestHeaders } from '../../../src/forward/sanitize.ts';

describe('headerValue fast path', () => {
  // Where the old version was wrong (a space at either end, a cut inside an escape) or now differs on purpose
  // (a value over the cap is left out, not cut), headers.test.ts states the new answer; everywhere else both agree.
  const values = [
    '', 'u1', 'https://idp.example/', 'read write', '1800000000', 'in side', '100%', '%', 'Zoë', '😀', 'a\r\nb', 'tab\there',
    '\x7f', '~!$&()*+,;=:@', 'x'.repeat(2048), 'é'.repeat(300),
  ];
  it.each(values.map((v) => [JSON.stringify(v).slice(0, 40), v]))('%s: same as before', (_label, value) => {
    expect(headerValue(value)).toBe(headerSafeBefore(value));
  });
  it('matches on every single code unit 0..0x2ff', () => {
    for (let c = 0; c < 0x300; c++) {
      const value = `a${String.fromCharCode(c)}b`;
      expect(headerValue(value)).toBe(headerSafeBefore(value));
    }
  });
});

describe('sanitizeRequestHeaders copy-then-delete', () => {
  const cases: [string, Record<string, string> | [string, string][]][] = [
    ['forged identity in every casing', { 'X-Verified-Sub': 'admin', 'x-verified-app': 'b', 'X-VERIFIED-ASSERTION': 'f', 'x-verifiedsub': 'keep', accept: '*/*' }],
    ['authorization and cookies', { authorization: 'Bearer t', cookie: 'a=1', 'content-type': 'text/plain' }],
    ['repeated headers', [['accept', 'a'], ['accept', 'b'], ['x-verified-sub', '1'], ['x-verified-sub', '2'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']]],
    ['nothing to drop', { accept: 'application/json' }],
    ['empty', {}],
  ];
  for (const forwardAuthorization of [false, true]) {
    it.each(cases)(`%s (forwardAuthorization ${forwardAuthorization}): same as before`, (_label, init) => {
      const options = { identityHeaderPrefix: 'x-verified-', forwardAuthorization };
      const after = [...sanitizeRequestHeaders(new Headers(init), options)];
      const before = [...sanitizeRequestHeadersBefore(new Headers(init), options)];
      expect(after).toEqual(before);
    });
  }
});
