import compiledDemo from '../../../.generated/policies.json' with { type: 'json' };
import { describe, expect, it } from 'vitest';
import { compilePolicies, formatPolicyError, type PolicyError } from '../../../src/config/compile.ts';

const ISSUER = { issuer: 'https://idp.example/', jwks_uri: 'https://idp.example/.well-known/jwks.json' };
const ROUTE = { path: '/api/*', issuers: ['idp'], audiences: ['https://api.example'], origin: 'https://origin.example' };

function errorsOf(...texts: string[]): Omit<PolicyError, 'line' | 'column'>[] {
  const result = compilePolicies(texts.map((text, i) => ({ file: `policies/p${i}.jsonc`, text })));
  if (result.ok) throw new Error('expected the policy to be refused');
  return result.errors.map(({ file, path, message }) => ({ file, path, message }));
}
const policy = (value: object) => JSON.stringify(value, null, 2);

describe('compilePolicies', () => {
  it('compiles a minimal policy with every default filled in', () => {
    const result = compilePolicies([{ file: 'p.jsonc', text: policy({ issuers: { idp: ISSUER }, routes: { api: ROUTE } }) }]);
    expect(result).toEqual({
      ok: true,
      config: {
        version: 1,
        settings: { realm: 'api', identityHeaderPrefix: 'x-verified-', assertion: null, requestIdHeader: null },
        issuers: {
          idp: {
            id: 'idp',
            issuer: 'https://idp.example/',
            keySource: { kind: 'jwks', url: 'https://idp.example/.well-known/jwks.json' },
            algorithms: ['RS256'],
            appClaim: ['app_id'],
            clockSkewSeconds: 60,
            maxLifetimeSeconds: 86400,
            typ: null,
          },
        },
        routes: [
          {
            id: 'api',
            file: 'p.jsonc',
            host: null,
            path: { kind: 'prefix', value: '/api' },
            methods: null,
            mode: 'enforce',
            issuers: ['idp'],
            audiences: ['https://api.example'],
            app: null,
            scopes: [],
            origin: 'https://origin.example',
            forwardAuthorization: false,
            forward: {
              origin: { kind: 'url', url: 'https://origin.example', stripPathPrefix: null },
              timeoutMs: 30000,
              claimHeaders: [],
              assertionAudience: 'api',
            },
          },
        ],
      },
    });
  });

  it('accepts comments and trailing commas', () => {
    const text = `// routes\n{ /* block */ "issuers": { "idp": ${JSON.stringify(ISSUER)}, }, "routes": { "api": ${JSON.stringify(ROUTE)} }, }`;
    expect(compilePolicies([{ file: 'p.jsonc', text }]).ok).toBe(true);
  });

  it('the demo policies compiled by `npm run check` are what the Worker loads', () => {
    expect(compiledDemo.routes.map((r) => r.id)).toEqual(['billing', 'billing-admin', 'public', 'reports']);
    expect(compiledDemo.issuers.demo.algorithms).toEqual(['RS256', 'ES256', 'EdDSA']);
  });

  it('refuses a key given twice in one object (a JSON reader would keep one silently), with its line and path', () => {
    const route = JSON.stringify(ROUTE);
    const text = `{\n  "issuers": { "idp": ${JSON.stringify(ISSUER)} },\n  "routes": {\n    "api": ${route},\n    "api": { "path": "/api/*", "mode": "public", "origin": "https://o.example" }\n  }\n}`;
    const result = compilePolicies([{ file: 'policies/dup.jsonc', text }]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map(formatPolicyError)).toEqual(['policies/dup.jsonc:5:5: /routes/api: duplicate key "api": only one of the two would count, silently']);
    const nested = compilePolicies([{ file: 'p.jsonc', text: JSON.stringify({ issuers: { idp: ISSUER }, routes: { api: ROUTE } }).replace('"path":', '"mode":"public","mode":"enforce","path":') }]);
    expect(nested.ok ? [] : nested.errors.map((e) => e.path)).toEqual(['/routes/api/mode']);
  });

  it.each(['authorization', 'cookie', 'proxy-authorization', 'x-auth-token', 'x-amz-security-token', 'api-key'])('refuses request_id_header "%s": a credential would become the logged request id', (header) => {
    const result = compilePolicies([{ file: 'p.jsonc', text: JSON.stringify({ settings: { request_id_header: header }, issuers: { idp: ISSUER }, routes: { api: ROUTE } }) }]);
    expect(result.ok ? [] : result.errors.map((e) => [e.path, e.message])).toEqual([['/settings/request_id_header', `"${header}" carries credentials: its value would be logged, sent to the origin and answered in error bodies`]]);
  });

  it.each([
    ['content-', '"content-" would remove the client\'s "content-encoding" header from every forwarded request: the gateway removes every header with the identity prefix'],
    ['x-real-', '"x-real-" would remove the client\'s "x-real-ip" header from every forwarded request: the gateway removes every header with the identity prefix'],
    ['if-', '"if-" would remove the client\'s "if-match" header from every forwarded request: the gateway removes every header with the identity prefix'],
    ['cf-', '"cf-" would remove the client\'s "cf-access-jwt-assertion" header from every forwarded request: the gateway removes every header with the identity prefix'],
    ['cf-auth-', '"cf-auth-" overlaps the "cf-" namespace Cloudflare sets: the gateway would remove their headers from every forwarded request'],
    ['x-forwarded-user-', '"x-forwarded-user-" overlaps the "x-forwarded-" namespace proxies set: the gateway would remove their headers from every forwarded request'],
    ['sec-id-', '"sec-id-" overlaps the "sec-" namespace browsers set: the gateway would remove their headers from every forwarded request'],
  ])('refuses identity_header_prefix "%s": it would strip headers that are not the gateway\'s', (prefix, message) => {
    const result = compilePolicies([{ file: 'p.jsonc', text: JSON.stringify({ settings: { identity_header_prefix: prefix }, issuers: { idp: ISSUER }, routes: { api: ROUTE } }) }]);
    expect(result.ok ? [] : result.errors.map((e) => [e.path, e.message])).toEqual([['/settings/identity_header_prefix', message]]);
  });

  it.each([
    [{ request_id_header: 'x-verified-id' }, '"x-verified-id" is in the identity namespace "x-verified-": the gateway removes it from every request as forged, so the origin would never see the client\'s id'],
    [{ request_id_header: 'x-gw-trace', identity_header_prefix: 'x-gw-' }, '"x-gw-trace" is in the identity namespace "x-gw-": the gateway removes it from every request as forged, so the origin would never see the client\'s id'],
  ])('refuses a request_id_header inside the identity namespace %j', (settings, message) => {
    const result = compilePolicies([{ file: 'p.jsonc', text: JSON.stringify({ settings, issuers: { idp: ISSUER }, routes: { api: ROUTE } }) }]);
    expect(result.ok ? [] : result.errors.map((e) => [e.path, e.message])).toEqual([['/settings/request_id_header', message]]);
  });

  it.each(['x-request-', 'x-amz-', 'x-csrf-', 'x-auth-', 'remote-'])('refuses identity_header_prefix "%s", which covers a header platforms or clients send', (prefix) => {
    const result = compilePolicies([{ file: 'p.jsonc', text: JSON.stringify({ settings: { identity_header_prefix: prefix }, issuers: { idp: ISSUER }, routes: { api: ROUTE } }) }]);
    expect(result.ok ? [] : result.errors.map((e) => e.path)).toEqual(['/settings/identity_header_prefix']);
  });

  it.each(['x-verified-', 'x-gw-', 'x-identity-', 'gateway-'])('accepts identity_header_prefix "%s"', (prefix) => {
    const result = compilePolicies([{ file: 'p.jsonc', text: JSON.stringify({ settings: { identity_header_prefix: prefix }, issuers: { idp: ISSUER }, routes: { api: ROUTE } }) }]);
    expect(result.ok).toBe(true);
  });

  it.each([
    ['inline keys', { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'k' }], algorithms: ['EdDSA'] }, 'inline ("keys")'],
    ['a Worker secret', { secret_binding: 'IDP_SECRET', algorithms: ['HS256'] }, 'a Worker secret'],
  ])('refuses key_cache on an issuer whose keys are %s: it would do nothing', (_name, keys, what) => {
    const issuer = { issuer: 'https://idp.example/', ...keys, key_cache: { max_seconds: 600 } };
    const result = compilePolicies([{ file: 'p.jsonc', text: JSON.stringify({ issuers: { idp: issuer }, routes: { api: ROUTE } }) }]);
    expect(result.ok ? [] : result.errors.map((e) => [e.path, e.message])).toEqual([
      ['/issuers/idp/key_cache', `"key_cache" applies to keys fetched from "jwks_uri" or "discovery"; this issuer's keys are ${what}`],
    ]);
  });

  it('names the file, line, column and JSON path of a syntax error', () => {
    const result = compilePolicies([{ file: 'policies/bad.jsonc', text: '{\n  "routes": {\n    "a": { "path": "/x" \n  }\n' }]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(formatPolicyError(result.errors[0]!)).toMatch(/^policies\/bad\.jsonc:\d+:\d+: \(file\): syntax: /);
  });

  it.each<[string, object, { path: string; message: string | RegExp }]>([
    ['an unknown top-level field', { issuer: {} }, { path: '/issuer', message: 'unknown field "issuer"' }],
    ['an unknown route field', { issuers: { idp: ISSUER }, routes: { api: { ...ROUTE, audience: 'x' } } }, { path: '/routes/api/audience', message: 'unknown field "audience"' }],
    ['alg none', { issuers: { idp: { ...ISSUER, algorithms: ['none'] } } }, { path: '/issuers/idp/algorithms/0', message: /does not match any of/ }],
    ['HS256 with a JWKS', { issuers: { idp: { ...ISSUER, algorithms: ['HS256'] } } }, { path: '/issuers/idp/algorithms/0', message: /HS256 needs the secret from a Worker secret/ }],
    ['a path without a leading slash', { issuers: { idp: ISSUER }, routes: { api: { ...ROUTE, path: 'api/*' } } }, { path: '/routes/api/path', message: 'value does not match pattern ^/' }],
    ['a wildcard inside a path', { issuers: { idp: ISSUER }, routes: { api: { ...ROUTE, path: '/a/*/b' } } }, { path: '/routes/api/path', message: '"*" may only end a path, as "/prefix/*"' }],
    ['a dot segment', { issuers: { idp: ISSUER }, routes: { api: { ...ROUTE, path: '/a/../b' } } }, { path: '/routes/api/path', message: /normalized URL path/ }],
    ['an unknown issuer', { issuers: { idp: ISSUER }, routes: { api: { ...ROUTE, issuers: ['other'] } } }, { path: '/routes/api/issuers/0', message: 'no issuer "other" is defined in policies/' }],
    ['an enforced route without audiences', { issuers: { idp: ISSUER }, routes: { api: { ...ROUTE, audiences: undefined } } }, { path: '/routes/api', message: /needs "audiences"/ }],
    ['a public route with scopes', { routes: { api: { path: '/p/*', mode: 'public', scopes: ['a'], origin: 'https://o.example' } } }, { path: '/routes/api/scopes', message: /would never be enforced/ }],
    ['a route without an origin', { issuers: { idp: ISSUER }, routes: { api: { ...ROUTE, origin: undefined } } }, { path: '/routes/api', message: /no "origin"/ }],
    ['a JWKS over plain http', { issuers: { idp: { ...ISSUER, jwks_uri: 'http://idp.example/jwks' } } }, { path: '/issuers/idp/jwks_uri', message: /must be https/ }],
    ['both jwks_uri and keys', { issuers: { idp: { ...ISSUER, keys: [{ kty: 'RSA' }] } } }, { path: '/issuers/idp', message: 'give exactly one of "jwks_uri" and "keys"' }],
    ['an inline private key', { issuers: { idp: { issuer: 'i', keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'AA', d: 'AA' }] } } }, { path: '/issuers/idp/keys/0', message: 'key carries private or secret member "d"' }],
    ['a bad host', { issuers: { idp: ISSUER }, routes: { api: { ...ROUTE, host: 'api.example.com:443' } } }, { path: '/routes/api/host', message: 'not a host name or "*.domain"' }],
    ['a lower-case method', { issuers: { idp: ISSUER }, routes: { api: { ...ROUTE, methods: ['get'] } } }, { path: '/routes/api/methods/0', message: 'value does not match pattern ^[A-Z]{1,16}$' }],
  ])('refuses %s with the path inside the file', (_name, value, expected) => {
    expect(errorsOf(policy(value))).toContainEqual({ file: 'policies/p0.jsonc', path: expected.path, message: expected.message instanceof RegExp ? expect.stringMatching(expected.message) : expected.message });
  });

  // The validator complains once per form a value is not; the author meant one form: one error, not a pile.
  const ORIGIN_FORMS = 'value fits none of the accepted forms: a string, an object with "url", an object with "same_url" or an object with "service"';
  const CLAIM_HEADER_FORMS = 'value fits none of the accepted forms: a string, an array or an object with "claim"';
  it.each<[string, object, { path: string; message: string }]>([
    ['an origin of no accepted type', { origin: 42 }, { path: '/routes/api/origin', message: ORIGIN_FORMS }],
    ['an origin object with none of the forms\' fields', { origin: {} }, { path: '/routes/api/origin', message: ORIGIN_FORMS }],
    ['an origin object with the fields of two forms', { origin: { url: 'https://o.example', same_url: true } }, { path: '/routes/api/origin', message: ORIGIN_FORMS }],
    ['an origin URL object with an unknown field', { origin: { url: 'https://o.example', junk: 1 } }, { path: '/routes/api/origin/junk', message: 'unknown field "junk"' }],
    ['an origin that is not an http(s) URL', { origin: 'ftp://o.example' }, { path: '/routes/api/origin', message: 'value does not match pattern ^https?://' }],
    ['an origin URL object that is not an http(s) URL', { origin: { url: 'ftp://o.example' } }, { path: '/routes/api/origin/url', message: 'value does not match pattern ^https?://' }],
    ['a service binding name with a dash', { origin: { service: 'orders-api' } }, { path: '/routes/api/origin/service', message: 'value does not match pattern ^[A-Za-z_][A-Za-z0-9_]{0,63}$' }],
    ['same_url false', { origin: { same_url: false } }, { path: '/routes/api/origin/same_url', message: 'value does not match true.' }],
    ['a claim header of no accepted type', { claim_headers: { email: 5 } }, { path: '/routes/api/claim_headers/email', message: CLAIM_HEADER_FORMS }],
    ['a claim header object without its claim', { claim_headers: { email: { format: 'json' } } }, { path: '/routes/api/claim_headers/email', message: CLAIM_HEADER_FORMS }],
    ['a claim header format that does not exist', { claim_headers: { email: { claim: 'email', format: 'csv' } } }, { path: '/routes/api/claim_headers/email/format', message: 'value does not match any of ["join","json"].' }],
    ['a claim path of numbers', { claim_headers: { email: [1] } }, { path: '/routes/api/claim_headers/email/0', message: 'value type "number" is invalid. Expected "string".' }],
  ])('refuses %s with one error, from the form it was meant to be', (_name, route, expected) => {
    expect(errorsOf(policy({ issuers: { idp: ISSUER }, routes: { api: { ...ROUTE, ...route } } }))).toEqual([{ file: 'policies/p0.jsonc', ...expected }]);
  });

  it('refuses a default_origin of no accepted form with one error', () => {
    expect(errorsOf(policy({ settings: { default_origin: true } }))).toEqual([{ file: 'policies/p0.jsonc', path: '/settings/default_origin', message: ORIGIN_FORMS }]);
  });

  it('refuses two routes that match exactly the same requests, across files', () => {
    const a = policy({ issuers: { idp: ISSUER }, routes: { one: ROUTE } });
    const b = policy({ routes: { two: { ...ROUTE, methods: ['GET'] }, three: { ...ROUTE, methods: ['POST'] } } });
    const c = policy({ routes: { four: ROUTE } });
    expect(errorsOf(a, b, c)).toEqual([
      { file: 'policies/p2.jsonc', path: '/routes/four', message: 'matches exactly the same requests as route "one" (policies/p0.jsonc); precedence would be ambiguous' },
    ]);
  });

  it('refuses a duplicate id and a second settings block', () => {
    const a = policy({ settings: { realm: 'a' }, issuers: { idp: ISSUER } });
    const b = policy({ settings: { realm: 'b' }, issuers: { idp: ISSUER } });
    expect(errorsOf(a, b)).toEqual([
      { file: 'policies/p1.jsonc', path: '/settings', message: 'settings are already given in policies/p0.jsonc; give them in one file only' },
      { file: 'policies/p1.jsonc', path: '/issuers/idp', message: 'issuer "idp" is already defined in policies/p0.jsonc' },
    ]);
  });

  it('points the line and column at the offending field', () => {
    const text = '{\n  "routes": {\n    "api": {\n      "path": "nope"\n    }\n  }\n}\n';
    const result = compilePolicies([{ file: 'policies/x.jsonc', text }]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]).toMatchObject({ line: 4, column: 7, path: '/routes/api/path' });
  });
});
