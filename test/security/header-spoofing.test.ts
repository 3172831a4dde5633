/**
 * Contract rule 9: every inbound header in the identity namespace is removed on every route, in every mode,
 * before the gateway adds its own. One table row per mode: a mode added by the policies work (optional,
 * report-only...) is one more row here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import schema from '../../src/config/policy.schema.json' with { type: 'json' };
import type { RouteMode } from '../../src/config/types.ts';
import { gatewayFor, send } from '../helpers/gateway.ts';
import { ORIGIN_HOST, setUpKit, signClaims, tearDownKit, validClaims, AUD, ISS, JWKS, type Kit } from './attack-kit.ts';

/** mode -> which token the request carries so that it reaches the origin in that mode ('forged': signed by another key). */
const MODES: [RouteMode, 'valid' | 'none' | 'forged'][] = [
  ['enforce', 'valid'],
  ['public', 'none'],
  ['optional', 'none'],
  ['optional', 'valid'],
  ['report-only', 'none'],
  ['report-only', 'valid'],
  ['report-only', 'forged'],
];

it('the table covers every mode the policy schema knows', () => {
  const modes = (schema as { $defs: { route: { properties: { mode: { enum: string[] } } } } }).$defs.route.properties.mode.enum;
  expect(new Set(MODES.map(([mode]) => mode))).toEqual(new Set(modes));
});

const PREFIXES = ['x-verified-', 'x-gw-id-'];

let kit: Kit;
beforeAll(async () => {
  kit = await setUpKit();
});
afterAll(() => tearDownKit(kit));

const gatewayWith = (mode: RouteMode, prefix: string) =>
  gatewayFor({
    settings: { identity_header_prefix: prefix },
    issuers: { idp: { issuer: ISS, jwks_uri: JWKS, algorithms: ['RS256'], typ: 'at+jwt', app_claim: 'app_id' } },
    routes: {
      r: mode === 'public' ? { path: '/billing/*', mode, origin: `https://${ORIGIN_HOST}` } : { path: '/billing/*', mode, issuers: ['idp'], audiences: [AUD], app: 'billing', origin: `https://${ORIGIN_HOST}` },
    },
  });

/** Forged identity headers in every casing a client might try, for names the gateway sets and names it does not. */
function forged(prefix: string): [string, string][] {
  const upper = prefix.toUpperCase();
  const title = prefix.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
  return [
    [`${prefix}sub`, 'admin'],
    [`${upper}APP`, 'billing-admin'],
    [`${title}Iss`, 'https://evil.example'],
    [`${prefix}scope`, 'billing:admin'],
    [`${prefix}route`, 'billing-admin'],
    [`${prefix}request-id`, 'forged'],
    [`${prefix}exp`, '99999999999'],
    [`${prefix}roles`, 'admin'],
    [`${prefix}`, 'empty-suffix'],
    // Underscore spellings: CGI/WSGI (HTTP_X_VERIFIED_SUB) and nginx with underscores_in_headers merge them.
    [`${prefix.replace(/-$/, '_')}sub`, 'admin'],
    [`${prefix.replace(/-/g, '_')}app`, 'billing-admin'],
  ];
}

describe.each(MODES)('mode %s, token %s', (mode, token) => {
  it.each(PREFIXES)('no client-sent header under the prefix %s reaches the origin; the gateway sets its own', async (prefix) => {
    const headers = new Headers(forged(prefix));
    // The same forged name twice: Headers joins them; still removed.
    headers.append(`${prefix}sub`, 'root');
    if (token !== 'none') headers.set('authorization', `Bearer ${await signClaims(token === 'valid' ? kit.rs256 : kit.attacker, validClaims())}`);
    const response = await send(gatewayWith(mode, prefix), new Request('https://gw.example/billing/x', { headers }));
    expect(response.status).toBe(200);
    const seen = kit.world.lastOriginRequest().headers;
    const identity = Object.entries(seen).filter(([name]) => name.replace(/_/g, '-').startsWith(prefix));
    for (const [name, value] of identity) {
      expect([name, value]).not.toEqual([name, expect.stringMatching(/admin|root|evil|forged|99999999999|empty-suffix/)]);
    }
    expect(seen[`${prefix}route`]).toBe('r');
    expect(seen[`${prefix}roles`]).toBeUndefined();
    expect(seen[prefix]).toBeUndefined();
    if (token === 'valid') {
      expect(seen[`${prefix}sub`]).toBe('alice');
      expect(seen[`${prefix}app`]).toBe('billing');
      expect(seen[`${prefix}iss`]).toBe(ISS);
    } else {
      expect(seen[`${prefix}sub`]).toBeUndefined();
      expect(seen[`${prefix}app`]).toBeUndefined();
    }
  });
});

/** Each token source, with the request parts that carry the token there (a cookie token comes from the site itself). */
const SOURCES: [string, object, (token: string) => Record<string, string>, string][] = [
  ['authorization', { kind: 'authorization' }, (token) => ({ authorization: `Bearer ${token}` }), ''],
  ['header', { kind: 'header', name: 'X-Api-Token' }, (token) => ({ 'x-api-token': token }), ''],
  ['cookie', { kind: 'cookie', name: 'session' }, (token) => ({ cookie: `a=1; session=${token}`, 'sec-fetch-site': 'same-origin' }), ''],
  ['websocket_protocol', { kind: 'websocket_protocol' }, (token) => ({ 'sec-websocket-protocol': `chat, base64url.bearer.authorization.k8s.io.${btoa(token).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}` }), ''],
  ['query', { kind: 'query', name: 'access_token', unsafe: true }, () => ({}), '?access_token='],
];

describe.each(SOURCES)('a token from %s', (_kind, source, carry, query) => {
  it.each(['enforce', 'optional', 'report-only'] as RouteMode[])('in mode %s: forged identity headers and the credential itself never reach the origin; the identity is the token\'s', async (mode) => {
    const prefix = 'x-verified-';
    const gateway = gatewayFor({
      issuers: { idp: { issuer: ISS, jwks_uri: JWKS, algorithms: ['RS256'], typ: 'at+jwt', app_claim: 'app_id' } },
      routes: { r: { path: '/billing/*', mode, issuers: ['idp'], audiences: [AUD], app: 'billing', origin: `https://${ORIGIN_HOST}`, token_sources: [source] } },
    });
    const token = await signClaims(kit.rs256, validClaims());
    const headers = new Headers([...forged(prefix), ...Object.entries(carry(token))]);
    headers.append(`${prefix}sub`, 'root');
    const response = await send(gateway, new Request(`https://gw.example/billing/x${query ? `${query}${token}` : ''}`, { method: 'POST', headers, body: 'x' }));
    expect(response.status).toBe(200);
    const seen = kit.world.lastOriginRequest();
    for (const [name, value] of Object.entries(seen.headers).filter(([name]) => name.replace(/_/g, '-').startsWith(prefix))) {
      expect([name, value]).not.toEqual([name, expect.stringMatching(/admin|root|evil|forged|99999999999|empty-suffix/)]);
    }
    expect(seen.headers[`${prefix}sub`]).toBe('alice');
    expect(seen.headers[`${prefix}app`]).toBe('billing');
    expect(JSON.stringify(seen)).not.toContain(token.split('.')[2]);
  });
});
