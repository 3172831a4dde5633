/**
 * Everything the gateway writes to the console (log, warn, error, info, debug) and every answer it gives,
 * for a run of allowed and denied requests, holds no token, no token segment, no Authorization or Cookie
 * value and no secret; in both log formats, with the debug header on. Every token goes through every token
 * source (bearer, header, cookie, WebSocket subprotocol, query), and none reaches the origin either.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SignJWT } from 'jose';
import { Gateway } from '../../src/gateway.ts';
import { compileOrThrow, send } from '../helpers/gateway.ts';
import { makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';

const HMAC_SECRET = 'hmac-secret-never-logged-0123456789abcdef';
const COOKIE_SECRET = 'cookie-session-secret-5d41402abc4b2a76';
const BASIC_PASSWORD = 'basic-password-secret-7c6a180b36896a0a';
const FORGED_IDENTITY = 'forged-identity-secret-e99a18c428cb38d5';
const QUERY_SECRET = 'query-secret-9b74c9897bac770ffc029102a200c5de';

const METHODS = ['log', 'warn', 'error', 'info', 'debug'] as const;
let key: TestKey;
let otherKey: TestKey;
let world: OutsideWorld;

beforeAll(async () => {
  key = await makeKey('RS256', 'corp-1');
  otherKey = await makeKey('RS256', 'corp-1');
  world = new OutsideWorld().origin('origin.example').install();
});
afterAll(() => world.restore());

const policy = {
  issuers: {
    corp: { issuer: 'https://corp.example/', keys: [] as unknown[] },
    down: { issuer: 'https://down.example', jwks_uri: 'https://down.example/jwks' },
  },
  routes: {
    orders: { path: '/orders/*', issuers: ['corp', 'down'], audiences: ['orders-api'], app: 'shop', scopes: ['orders:read'], origin: 'https://origin.example' },
    pub: { path: '/public/*', mode: 'public', origin: 'https://origin.example' },
    broken: { path: '/broken/*', mode: 'public', origin: 'https://unreachable.example' },
    header: { path: '/header/*', issuers: ['corp'], audiences: ['orders-api'], origin: 'https://origin.example', token_sources: [{ kind: 'header', name: 'x-api-token', scheme: 'Token' }] },
    cookie: { path: '/cookie/*', issuers: ['corp'], audiences: ['orders-api'], origin: 'https://origin.example', token_sources: [{ kind: 'cookie', name: 'session' }] },
    socket: { path: '/socket/*', issuers: ['corp'], audiences: ['orders-api'], origin: 'https://origin.example', token_sources: [{ kind: 'websocket_protocol' }] },
    query: { path: '/query/*', mode: 'report-only', issuers: ['corp'], audiences: ['orders-api'], origin: 'https://origin.example', token_sources: [{ kind: 'query', name: 'access_token', unsafe: true }] },
  },
};

/** The Kubernetes subprotocol form carries the token base64url-encoded: that text is a secret too. */
const k8sEncoded = (token: string) => btoa(token).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

async function tokens(): Promise<Record<string, string>> {
  const now = nowSeconds();
  const claims = { iss: 'https://corp.example/', aud: 'orders-api', sub: 'user-42', app_id: 'shop', scope: 'orders:read', iat: now, exp: now + 300 };
  const hmac = await crypto.subtle.importKey('raw', new TextEncoder().encode(HMAC_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const valid = await sign(key, claims);
  return {
    valid,
    expiredWrongEverything: await sign(key, { ...claims, aud: 'x', app_id: 'y', scope: '', exp: now - 500, iat: now - 900 }),
    foreignKey: await sign(otherKey, claims),
    hmac: await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'corp-1' }).sign(hmac),
    keysDown: await sign(key, { ...claims, iss: 'https://down.example' }),
    longUnverifiedIss: await sign(otherKey, { ...claims, iss: `https://${'x'.repeat(4000)}` }),
    badSignature: `${valid.split('.')[0]}.${valid.split('.')[1]}.${'A'.repeat(342)}`,
    // Malformed: these reach only the shape gate.
    twoSegments: valid.split('.').slice(0, 2).join('.'),
    garbage: 'eyJub3QiOiJqc29uIn0.bm90LWpzb24.c2lnbmF0dXJlLXNlY3JldA',
    oversized: `${valid}${'A'.repeat(9000)}`,
  };
}

async function runAll(gateway: Gateway, all: Record<string, string>): Promise<string[]> {
  const answers: string[] = [];
  const requests: Request[] = [];
  const at = (path: string, headers: Record<string, string>) => new Request(`http://127.0.0.1${path}`, { headers });
  for (const token of Object.values(all)) {
    // A pre-signed URL's signature: a secret the query carries on an allowed request.
    requests.push(at(`/orders/1?signature=${QUERY_SECRET}`, { authorization: `Bearer ${token}`, cookie: `session=${COOKIE_SECRET}`, 'x-verified-sub': FORGED_IDENTITY }));
    requests.push(at('/header/1', { 'x-api-token': `Token ${token}`, authorization: `Bearer ${all.valid}` }));
    requests.push(at('/cookie/1', { cookie: `a=1; session=${token}; b=2` }));
    requests.push(new Request('http://127.0.0.1/cookie/1', { method: 'POST', headers: { cookie: `session=${token}`, 'sec-fetch-site': 'cross-site' } }));
    requests.push(at('/cookie/1', { cookie: `session=${token}; session=${all.valid}` }));
    requests.push(at('/socket/1', { upgrade: 'websocket', 'sec-websocket-protocol': `base64url.bearer.authorization.k8s.io.${k8sEncoded(token)}, chat` }));
    requests.push(at(`/query/1?a=1&access_token=${token}`, {}));
  }
  // A second credential in the query is refused (400) and named in the record, never its value.
  requests.push(at(`/orders/1?access_token=${QUERY_SECRET}`, { authorization: `Bearer ${all.valid}` }));
  requests.push(at('/orders/1', { authorization: `Basic ${btoa(`admin:${BASIC_PASSWORD}`)}` }));
  requests.push(at('/orders/1', { authorization: `Bearer ${all.valid}, Bearer ${all.hmac}` }));
  requests.push(at('/public/x', { authorization: `Bearer ${all.valid}`, cookie: `session=${COOKIE_SECRET}` }));
  requests.push(at('/broken/x', { authorization: `Bearer ${all.valid}`, cookie: `session=${COOKIE_SECRET}` }));
  requests.push(at('/nowhere', { authorization: `Bearer ${all.valid}` }));
  for (const request of requests) {
    const response = await send(gateway, request);
    answers.push(`${response.status} ${JSON.stringify([...response.headers])} ${response.status === 200 ? '' : await response.text()}`);
  }
  return answers;
}

const secretsOf = (all: Record<string, string>) => [
  ...Object.values(all).flatMap((token) => [token, k8sEncoded(token), ...token.split('.').filter((segment) => segment.length >= 8)]),
  HMAC_SECRET,
  COOKIE_SECRET,
  BASIC_PASSWORD,
  btoa(`admin:${BASIC_PASSWORD}`),
  FORGED_IDENTITY,
  QUERY_SECRET,
];

describe.each(['json', 'line'] as const)('with LOG_FORMAT=%s and the debug header on', (logFormat) => {
  it('writes no token, segment, credential or secret to any console method or answer', async () => {
    const all = await tokens();
    const compiled = compileOrThrow(JSON.stringify({ ...policy, issuers: { ...policy.issuers, corp: { issuer: 'https://corp.example/', keys: [key.publicJwk] } } }));
    const gateway = new Gateway(compiled, { allowLoopbackHttp: false, logFormat, debugFindings: true });
    const output: string[] = [];
    const spies = METHODS.map((method) =>
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        output.push(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '));
      }),
    );
    let answers: string[];
    try {
      answers = await runAll(gateway, all);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    const text = [...output, ...answers].join('\n');
    // The run did what it claims: allowed, denied for several reasons, a key-fetch failure, an unreachable origin.
    for (const expected of ['allowed', 'issuer_mismatch', 'token_expired', 'signature_invalid', 'alg_not_allowed', 'token_malformed', 'keys_unavailable', 'jwks_fetch_failed', 'request_invalid', 'token_missing', 'origin unreachable', 'x-debug-findings', 'csrf_check_failed', 'header:x-api-token', 'cookie:session', 'websocket_protocol', 'query:access_token']) {
      expect(text).toContain(expected);
    }
    expect(output.length).toBeGreaterThanOrEqual(15);
    // Bounded: a 9 KiB token, a 5 KiB header value or a long unverified claim never makes a long line.
    expect(Math.max(...output.map((line) => line.length))).toBeLessThan(2000);
    for (const secret of secretsOf(all)) expect(text, `leaked ${secret.slice(0, 12)}…`).not.toContain(secret);
    // Nor at the origin, whichever source carried it (report-only forwards even the bad ones).
    const atOrigin = JSON.stringify(world.originRequests);
    expect(world.originRequests.length).toBeGreaterThan(10);
    for (const token of Object.values(all)) {
      for (const secret of [token, k8sEncoded(token), ...token.split('.').filter((segment) => segment.length >= 8)]) expect(atOrigin, `reached the origin: ${secret.slice(0, 12)}…`).not.toContain(secret);
    }
    world.originRequests.length = 0;
  });
});
