import { describe, expect, it } from 'vitest';
import type { TokenSource } from '../../../src/config/types.ts';
import { csrfFinding } from '../../../src/token/csrf.ts';
import { extractToken, sourceLabel } from '../../../src/token/sources.ts';

const A = 'aaa.bbb.ccc';
const B = 'ddd.eee.fff';
/** The Kubernetes form of a token: the prefix, then the token base64url-encoded. */
const k8s = (token: string) => `base64url.bearer.authorization.k8s.io.${btoa(token).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;

const bearer: TokenSource = { kind: 'authorization' };
const apiKey: TokenSource = { kind: 'header', name: 'x-api-token' };
const schemed: TokenSource = { kind: 'header', name: 'x-api-token', scheme: 'Token' };
const cookie: TokenSource = { kind: 'cookie', name: 'session' };
const ws: TokenSource = { kind: 'websocket_protocol' };
const query: TokenSource = { kind: 'query', name: 'access_token' };
const access: TokenSource[] = [{ kind: 'header', name: 'cf-access-jwt-assertion' }, { kind: 'cookie', name: 'CF_Authorization' }];

function run(sources: TokenSource[], headers: Record<string, string> | [string, string][], search = '') {
  return extractToken(sources, { headers: new Headers(headers), search });
}

describe('extractToken: each source', () => {
  it.each<[string, TokenSource[], Record<string, string> | [string, string][], string, string, string]>([
    ['the bearer', [bearer], { authorization: `Bearer ${A}` }, '', A, 'authorization'],
    ['a named header', [apiKey], { 'x-api-token': A }, '', A, 'header:x-api-token'],
    ['a named header in any case', [apiKey], { 'X-API-TOKEN': A }, '', A, 'header:x-api-token'],
    ['a header with its scheme', [schemed], { 'x-api-token': `Token ${A}` }, '', A, 'header:x-api-token'],
    ['a header with its scheme in another case', [schemed], { 'x-api-token': `token ${A}` }, '', A, 'header:x-api-token'],
    ['a cookie among others', [cookie], { cookie: `a=1; session=${A}; b=2` }, '', A, 'cookie:session'],
    ['a cookie without spaces', [cookie], { cookie: `a=1;session=${A}` }, '', A, 'cookie:session'],
    ['the same cookie twice with one value', [cookie], { cookie: `session=${A}; session=${A}` }, '', A, 'cookie:session'],
    ['the websocket subprotocol entry', [ws], { 'sec-websocket-protocol': `${k8s(A)}, v4.channel.k8s.io` }, '', A, 'websocket_protocol'],
    ['the websocket entry after another protocol', [ws], { 'sec-websocket-protocol': `chat,${k8s(A)}` }, '', A, 'websocket_protocol'],
    ['a query parameter', [query], {}, `?a=1&access_token=${A}`, A, 'query:access_token'],
    ['a query parameter in another case', [query], {}, `?Access_Token=${A}`, A, 'query:access_token'],
    ['Access: the header', access, { 'cf-access-jwt-assertion': A }, '', A, 'header:cf-access-jwt-assertion'],
    ['Access: the cookie', access, { cookie: `CF_Authorization=${A}` }, '', A, 'cookie:CF_Authorization'],
    ['Access: the same token in both', access, { 'cf-access-jwt-assertion': A, cookie: `CF_Authorization=${A}` }, '', A, 'header:cf-access-jwt-assertion'],
    ['the first present of two sources', [bearer, cookie], { cookie: `session=${A}` }, '', A, 'cookie:session'],
    ['a bearer beside an unrelated cookie', [bearer, cookie], { authorization: `Bearer ${A}`, cookie: 'other=x' }, '', A, 'authorization'],
    ['a cookie when Authorization is Basic', [bearer, cookie], { authorization: 'Basic dXNlcjpwYXNz', cookie: `session=${A}` }, '', A, 'cookie:session'],
  ])('takes %s', (_name, sources, headers, search, token, label) => {
    const result = run(sources, headers, search);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.token).toBe(token);
      expect(sourceLabel(result.source)).toBe(label);
    }
  });
});

describe('extractToken: absent, malformed and conflicting', () => {
  it.each<[string, TokenSource[], Record<string, string> | [string, string][], string, string]>([
    // Absent: nothing that could be a credential.
    ['no source present', [apiKey, cookie], { cookie: 'other=1' }, '', 'token_missing'],
    ['a cookie whose name differs in case', [cookie], { cookie: `Session=${A}` }, '', 'token_missing'],
    ['a cookie whose name only starts alike', [cookie], { cookie: `session2=${A}` }, '', 'token_missing'],
    ['a websocket offer without the bearer entry', [ws], { 'sec-websocket-protocol': 'chat' }, '', 'token_missing'],
    ['a query without the parameter', [query], {}, '?a=1', 'token_missing'],
    ['Authorization with another scheme', [bearer], { authorization: 'Basic dXNlcjpwYXNz' }, '', 'token_missing'],
    // Present but malformed: never "no token".
    ['an empty header', [apiKey], { 'x-api-token': '' }, '', 'token_malformed'],
    ['an empty cookie', [cookie], { cookie: 'session=' }, '', 'token_malformed'],
    ['an empty cookie among others', [cookie], { cookie: 'a=1; session=; b=2' }, '', 'token_malformed'],
    ['an empty query parameter', [query], {}, '?access_token=', 'token_malformed'],
    ['a header without its scheme', [schemed], { 'x-api-token': A }, '', 'token_malformed'],
    ['a header with another scheme', [schemed], { 'x-api-token': `Bearer ${A}` }, '', 'token_malformed'],
    ['a websocket entry that is not base64url', [ws], { 'sec-websocket-protocol': 'base64url.bearer.authorization.k8s.io.a+b' }, '', 'token_malformed'],
    ['an empty websocket entry', [ws], { 'sec-websocket-protocol': 'base64url.bearer.authorization.k8s.io.' }, '', 'token_malformed'],
    ['an empty bearer', [bearer, cookie], { authorization: 'Bearer ', cookie: `session=${A}` }, '', 'token_malformed'],
    // Odd spacing.
    ['two spaces after the scheme', [schemed], { 'x-api-token': `Token  ${A}` }, '', 'request_invalid'],
    ['a tab after the scheme', [schemed], { 'x-api-token': `Token\t${A}` }, '', 'request_invalid'],
    ['a space inside a header token', [apiKey], { 'x-api-token': 'aaa bbb' }, '', 'request_invalid'],
    ['a space inside a cookie token', [cookie], { cookie: 'session=aaa bbb' }, '', 'request_invalid'],
    // Two credentials.
    ['two header values', [apiKey], [['x-api-token', A], ['x-api-token', B]], '', 'request_invalid'],
    ['two cookies of the name with different values', [cookie], { cookie: `session=${A}; session=${B}` }, '', 'request_invalid'],
    ['two cookie headers with different values', [cookie], [['cookie', `session=${A}`], ['cookie', `session=${B}`]], '', 'request_invalid'],
    ['two query parameters with different values', [query], {}, `?access_token=${A}&access_token=${B}`, 'request_invalid'],
    ['two websocket entries with different tokens', [ws], { 'sec-websocket-protocol': `${k8s(A)}, ${k8s(B)}` }, '', 'request_invalid'],
    ['a bearer and a different cookie', [bearer, cookie], { authorization: `Bearer ${A}`, cookie: `session=${B}` }, '', 'request_invalid'],
    ['Access: a different token in the cookie', access, { 'cf-access-jwt-assertion': A, cookie: `CF_Authorization=${B}` }, '', 'request_invalid'],
    ['a valid first source and a malformed second', [apiKey, cookie], { 'x-api-token': A, cookie: 'session=' }, '', 'token_malformed'],
    ['a header and a different query parameter', [apiKey, query], { 'x-api-token': A }, `?access_token=${B}`, 'request_invalid'],
  ])('%s: %s', (_name, sources, headers, search, code) => {
    const result = run(sources, headers, search);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.finding.code).toBe(code);
  });

  it('reads a source not listed as nothing at all', () => {
    const result = run([bearer], { 'x-api-token': A, cookie: `session=${A}` }, `?access_token=${A}`);
    expect(result.ok === false && result.finding.code).toBe('token_missing');
  });
});

describe('csrfFinding', () => {
  const allowed = ['https://app.example.com'];
  it.each<[string, string, Record<string, string>, boolean]>([
    ['GET without metadata', 'GET', {}, true],
    ['HEAD without metadata', 'HEAD', {}, true],
    ['OPTIONS without metadata', 'OPTIONS', {}, true],
    ...(['POST', 'PUT', 'PATCH', 'DELETE'] as const).flatMap((method): [string, string, Record<string, string>, boolean][] => [
      [`${method} same-origin`, method, { 'sec-fetch-site': 'same-origin' }, true],
      [`${method} same-site`, method, { 'sec-fetch-site': 'same-site' }, true],
      [`${method} cross-site`, method, { 'sec-fetch-site': 'cross-site' }, false],
      [`${method} none`, method, { 'sec-fetch-site': 'none' }, false],
      [`${method} without metadata`, method, {}, false],
      [`${method} from an allowed Origin`, method, { origin: 'https://app.example.com', 'sec-fetch-site': 'cross-site' }, true],
      [`${method} from another Origin`, method, { origin: 'https://evil.example' }, false],
      [`${method} from an allowed Origin with a path-like suffix`, method, { origin: 'https://app.example.com.evil.example' }, false],
    ]),
    ['a WebSocket upgrade cross-site', 'GET', { upgrade: 'websocket', 'sec-fetch-site': 'cross-site' }, false],
    ['a WebSocket upgrade same-origin', 'GET', { upgrade: 'websocket', 'sec-fetch-site': 'same-origin' }, true],
  ])('%s: passes=%s', (_name, method, headers, passes) => {
    const result = csrfFinding(method, new Headers(headers), allowed);
    expect(result === null).toBe(passes);
    if (result !== null) expect(result.code).toBe('csrf_check_failed');
  });
});
