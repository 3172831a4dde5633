/**
 * Known answers of the canonical path (src/request/canonical-path.ts) and request (canonical.ts): what is
 * decoded, what stays escaped, what is refused and why, and the other readings an allowed ambiguity has.
 */
import { describe, expect, it } from 'vitest';
import { canonicalPath, foldCase } from '../../../src/request/canonical-path.ts';
import { canonicalRequest } from '../../../src/request/canonical.ts';

const pathOf = (raw: string) => {
  const result = canonicalPath(raw);
  return result.ok ? result.path : `refused: ${result.reason}`;
};

describe('canonicalPath', () => {
  it.each([
    ['/billing/admin/users', '/billing/admin/users'],
    ['/billing/%61dmin/users', '/billing/admin/users'],
    ['/billing/%41DMIN/users', '/billing/ADMIN/users'],
    ['/%7e%2D%2e%5f', '/~-._'],
    ['/a/%2e/b/%2E%2e/c', '/a/c'],
    ['/a/b/..', '/a/'],
    ['/a/./', '/a/'],
    ['/caf%c3%a9', '/caf%C3%A9'],
    ['/q%3fx%23y%20z', '/q%3Fx%23y%20z'],
    ['/a%3bb', '/a%3Bb'],
    ['/a/', '/a/'],
    ['/', '/'],
  ])('%s -> %s', (raw, canonical) => {
    expect(pathOf(raw)).toBe(canonical);
  });

  it.each([
    ['/a//b', 'empty path segment'],
    ['/a%5Cb', 'encoded backslash'],
    ['/a\\b', 'backslash'],
    ['/a%00b', 'encoded NUL'],
    ['/a%0Ab', 'encoded control character'],
    ['/a%c2%85b', 'encoded control character'],
    ['/a%e2%80%a8b', 'encoded control character'],
    ['/a%2561', 'encoded "%"'],
    ['/a%zz', 'bad percent-escape'],
    ['/a%4', 'bad percent-escape'],
    ['/a%c3', 'invalid UTF-8'],
    ['/a%c0%af', 'invalid UTF-8'],
    ['/a%ed%a0%80', 'invalid UTF-8'],
    ['/..%2Fadmin', 'another reading'],
  ])('refuses %s (%s)', (raw, reason) => {
    expect(pathOf(raw)).toContain(reason);
  });

  it('keeps an encoded slash and a ";" parameter as ambiguities, with the readings other stacks make of them', () => {
    expect(canonicalPath('/files/a%2fb')).toEqual({ ok: true, path: '/files/a%2Fb', ambiguities: ['encoded_slash'], readings: ['/files/a/b'] });
    expect(canonicalPath('/m/a;v=1/b')).toEqual({ ok: true, path: '/m/a;v=1/b', ambiguities: ['semicolon'], readings: ['/m/a/b'] });
    expect(canonicalPath('/public/..;/billing')).toMatchObject({ ok: false });
  });

  it('folds ASCII letters, leaving the escapes of "/" and ";" as they are', () => {
    expect(foldCase('/Billing/ADMIN%2FX%3B')).toBe('/billing/admin%2Fx%3B');
  });

  it('folds escaped non-ASCII letters too, as ASP.NET Core does (É is é), coarser than any one stack (ς is σ)', () => {
    expect(foldCase('/CAF%C3%89/%CF%82')).toBe('/caf%C3%A9/%CF%83');
  });
});

describe('canonicalRequest', () => {
  const request = (url: string) => canonicalRequest('GET', new URL(url));

  it('lower-cases the host and drops its trailing dot; keeps the query as it is', () => {
    expect(request('https://Secure.TEST./a?b=%41')).toMatchObject({ ok: true, request: { host: 'secure.test', path: '/a', search: '?b=%41' } });
  });

  it.each([['?_method=DELETE'], ['?a=1&access_token=x'], ['?%61ccess_token=x'], ['?a=1;_METHOD=put'], ['?access_token']])('refuses the query %s', (query) => {
    expect(request(`https://gw.example/a${query}`)).toMatchObject({ ok: false, finding: { code: 'request_invalid' } });
  });

  it('refuses an ambiguous path with path_ambiguous', () => {
    expect(request('https://gw.example/billing//admin')).toMatchObject({ ok: false, finding: { code: 'path_ambiguous' } });
  });
});
