import { describe, expect, it } from 'vitest';
import { encodeForHeader, headerValue, identityHeaders } from '../../../src/forward/identity-headers.ts';
import { originUrl } from '../../../src/forward/origin.ts';
import { sanitizeRequestHeaders } from '../../../src/forward/sanitize.ts';

describe('sanitizeRequestHeaders', () => {
  const incoming = new Headers({
    'X-Verified-Sub': 'admin',
    'x-verified-app': 'billing',
    'X-VERIFIED-ASSERTION': 'forged',
    'x-verifiedsub': 'not in the namespace',
    authorization: 'Bearer t',
    accept: 'application/json',
  });

  it('removes every header in the identity namespace, in any casing, and Authorization by default', () => {
    const out = sanitizeRequestHeaders(incoming, { identityHeaderPrefix: 'x-verified-', forwardAuthorization: false });
    expect(Object.fromEntries(out)).toEqual({ accept: 'application/json', 'x-verifiedsub': 'not in the namespace' });
  });

  it('keeps Authorization when the route forwards it', () => {
    const out = sanitizeRequestHeaders(incoming, { identityHeaderPrefix: 'x-verified-', forwardAuthorization: true });
    expect(out.get('authorization')).toBe('Bearer t');
    expect(out.get('x-verified-sub')).toBeNull();
  });

  it('honours a configured prefix', () => {
    const out = sanitizeRequestHeaders(new Headers({ 'x-auth-user': 'a', 'x-verified-sub': 'b' }), { identityHeaderPrefix: 'x-auth-', forwardAuthorization: false });
    expect(Object.fromEntries(out)).toEqual({ 'x-verified-sub': 'b' });
  });
});

describe('identityHeaders', () => {
  it('states the verified identity', () => {
    const claims = { sub: 'u1', iss: 'https://idp/', app_id: 'billing', scope: 'a b', scp: ['c'], exp: 1800000000 };
    expect(identityHeaders('x-verified-', { routeId: 'r', requestId: 'id-1', verified: { claims, appClaim: ['app_id'] } }).headers).toEqual([
      ['x-verified-route', 'r'],
      ['x-verified-request-id', 'id-1'],
      ['x-verified-sub', 'u1'],
      ['x-verified-iss', 'https://idp/'],
      ['x-verified-app', 'billing'],
      ['x-verified-scope', 'a b c'],
      ['x-verified-exp', '1800000000'],
    ]);
  });

  it('states only the route and request id on public routes', () => {
    expect(identityHeaders('x-verified-', { routeId: 'p', requestId: 'id', verified: null })).toEqual({
      headers: [
        ['x-verified-route', 'p'],
        ['x-verified-request-id', 'id'],
      ],
      omitted: [],
    });
  });

  it('leaves a value over the cap out and names it, never cuts it (a cut scope list would read as another list)', () => {
    const scope = `${'s'.repeat(2042)} admin.readonly`;
    const claims = { sub: 'é'.repeat(400), iss: 'https://idp/', scope, exp: 1800000000 };
    const result = identityHeaders('x-verified-', { routeId: 'r', requestId: 'id-1', verified: { claims, appClaim: ['app_id'] } });
    expect(result.omitted).toEqual(['x-verified-sub', 'x-verified-scope']);
    expect(result.headers.map(([name]) => name)).toEqual(['x-verified-route', 'x-verified-request-id', 'x-verified-iss', 'x-verified-exp']);
  });

  it('makes any claim value header-safe and reversible', () => {
    for (const value of ['Zoë', 'a\r\nx-verified-sub: admin', '100%', '😀', 'x'.repeat(2048)]) {
      const safe = headerValue(value)!;
      expect(() => new Headers({ h: safe })).not.toThrow();
      expect(safe).toMatch(/^[\x20-\x7e]*$/);
      expect(decodeURIComponent(safe)).toBe(value);
    }
  });
});

describe('headerValue at the edges', () => {
  it.each([
    [' lead', '%20lead'],
    ['trail ', 'trail%20'],
    ['  both  ', '%20 both %20'],
    [' ', '%20'],
    ['in side', 'in side'],
  ])('encodes a space that would start or end %j (HTTP trims it): %j', (value, expected) => {
    expect(headerValue(value)).toBe(expected);
    expect(decodeURIComponent(expected)).toBe(value);
    // What the origin receives is what the gateway hashed for the assertion.
    expect(new Headers({ h: headerValue(value)! }).get('h')).toBe(expected);
  });

  it.each([
    ['é x 700 (escapes of two bytes)', 'é'.repeat(700)],
    ['😀 x 400 (four-byte characters)', '😀'.repeat(400)],
    ['x 2047 then %', `${'x'.repeat(2047)}%`],
    ['x 2046 then é', `${'x'.repeat(2046)}é`],
    ['x 4000', 'x'.repeat(4000)],
  ])('leaves a value out (null) when its encoding is over the cap, never a cut of it: %s', (_label, value) => {
    expect(headerValue(value)).toBeNull();
  });

  it.each([
    ['x 2048', 'x'.repeat(2048)],
    ['x 2045 then %', `${'x'.repeat(2045)}%`],
    ['x 2042 then é', `${'x'.repeat(2042)}é`],
  ])('keeps a value whose encoding is exactly at the cap: %s', (_label, value) => {
    expect(headerValue(value)!.length).toBe(2048);
    expect(decodeURIComponent(headerValue(value)!)).toBe(value);
  });

  it('writes a lone surrogate (valid in JSON, not in UTF-8) as its generalized UTF-8 bytes instead of throwing', () => {
    expect(headerValue('a\ud800b')).toBe('a%ED%A0%80b');
    expect(encodeForHeader('\udc00')).toBe('%ED%B0%80');
  });

  it('encodeForHeader stops once past the cap, so a long value costs no more than the cap to judge', () => {
    expect(encodeForHeader('é'.repeat(100_000)).length).toBe(2052);
  });

  it('encodes the separator of a list element, in the fast path too', () => {
    expect(encodeForHeader('a,b', ',')).toBe('a%2Cb');
    expect(encodeForHeader('a,b')).toBe('a,b');
  });
});

describe('originUrl', () => {
  it.each([
    ['https://o.example', 'https://gw/a/b?x=1', 'https://o.example/a/b?x=1'],
    ['https://o.example/', 'https://gw/a', 'https://o.example/a'],
    ['https://o.example/base', 'https://gw/a?q', 'https://o.example/base/a?q'],
    ['http://127.0.0.1:8789', 'https://gw/', 'http://127.0.0.1:8789/'],
    // A path that looks like an authority stays a path on the configured host.
    ['https://o.example', 'https://gw//evil.example/a', 'https://o.example//evil.example/a'],
    ['https://o.example', 'https://gw/%2F%2Fevil.example', 'https://o.example/%2F%2Fevil.example'],
  ])('%s + %s -> %s', (origin, request, expected) => {
    const url = new URL(request);
    expect(originUrl(origin, url.pathname, url.search).href).toBe(expected);
  });

  it.each([
    ['/api/a/b?q=1', 'https://o.example/v2/a/b?q=1'],
    ['/api', 'https://o.example/v2/'],
    ['/apix/a', 'https://o.example/v2/apix/a'],
    ['/other', 'https://o.example/v2/other'],
    // Paths are matched case-insensitively as well (src/route/resolve.ts): the prefix a route matched is stripped in any case.
    ['/API/a', 'https://o.example/v2/a'],
  ])('strip_path_prefix "/api": %s -> %s', (path, expected) => {
    const url = new URL(`https://gw${path}`);
    expect(originUrl('https://o.example/v2', url.pathname, url.search, '/api').href).toBe(expected);
  });
});
