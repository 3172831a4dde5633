import { describe, expect, it } from 'vitest';
import { removeTokenSources, withoutBearerProtocol, withoutCookie } from '../../../src/forward/sanitize.ts';
import { withoutParameters } from '../../../src/request/canonical.ts';

describe('withoutCookie', () => {
  it.each<[string, string | null, string | null | undefined]>([
    ['only the token', 'session=t', null],
    ['first of three', 'session=t; a=1; b="x y"', 'a=1; b="x y"'],
    ['middle', 'a=1; session=t; b=2', 'a=1; b=2'],
    ['last', 'a=1; b=2; session=t', 'a=1; b=2'],
    ['twice', 'session=t; a=1; session=t', 'a=1'],
    ['other spacing kept', 'a=1;b=2;  session=t;c=%20', 'a=1;b=2;c=%20'],
    ['a name that only starts alike stays', 'session2=x; Session=y', undefined],
    ['no cookie header', null, undefined],
    ['an empty token too', 'a=1; session=', 'a=1'],
  ])('%s', (_name, cookie, expected) => {
    expect(withoutCookie(cookie, 'session')).toBe(expected);
  });
});

describe('withoutBearerProtocol', () => {
  it.each<[string, string | null, string | null | undefined]>([
    ['only the entry', 'base64url.bearer.authorization.k8s.io.YQ', null],
    ['beside a channel protocol', 'base64url.bearer.authorization.k8s.io.YQ, v4.channel.k8s.io', 'v4.channel.k8s.io'],
    ['between two', 'chat,base64url.bearer.authorization.k8s.io.YQ , superchat', 'chat, superchat'],
    ['none present', 'chat', undefined],
  ])('%s', (_name, value, expected) => {
    expect(withoutBearerProtocol(value)).toBe(expected);
  });
});

describe('withoutParameters', () => {
  it.each<[string, string, string]>([
    ['only the token', '?access_token=t', ''],
    ['first', '?access_token=t&a=1&b=%20', '?a=1&b=%20'],
    ['middle, ";" kept', '?a=1;access_token=t&b=2', '?a=1&b=2'],
    ['encoded name and case', '?a=1&Access%5Ftoken=t', '?a=1'],
    ['others byte for byte', '?b=2&a=1+2&c', '?b=2&a=1+2&c'],
    ['empty', '', ''],
  ])('%s', (_name, search, expected) => {
    expect(withoutParameters(search, ['access_token'])).toBe(expected);
  });
});

describe('removeTokenSources', () => {
  it('removes the header, the cookie and the subprotocol entry, and nothing else', () => {
    const headers = new Headers({ 'x-api-token': 't', 'x-other': 'o', cookie: 'a=1; session=t; b=2', 'sec-websocket-protocol': 'chat, base64url.bearer.authorization.k8s.io.YQ' });
    removeTokenSources(headers, [{ kind: 'header', name: 'x-api-token' }, { kind: 'cookie', name: 'session' }, { kind: 'websocket_protocol' }, { kind: 'query', name: 'access_token' }]);
    expect([...headers]).toEqual([['cookie', 'a=1; b=2'], ['sec-websocket-protocol', 'chat'], ['x-other', 'o']]);
  });
});
