/** The forwarding fields of a policy through the real compiler: defaults, origin forms and refusals. */
import { describe, expect, it } from 'vitest';
import { compilePolicies, formatPolicyError } from '../../../src/config/compile.ts';

const compile = (settings: object, route: object) => compilePolicies([{ file: 'p.jsonc', text: JSON.stringify({ settings, routes: { r: { path: '/*', mode: 'public', ...route } } }) }]);

describe('forwarding in policies', () => {
  it('fills in the defaults', () => {
    const result = compile({ assertion: {} }, { origin: 'https://o.example' });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.config.settings).toMatchObject({
      assertion: { header: 'x-verified-assertion', issuer: 'edge-jwt-gateway', mode: 'signed', jwksPath: '/.well-known/gateway-jwks.json', ttlSeconds: 60, reuseSeconds: 30 },
      requestIdHeader: null,
    });
    expect(result.config.routes[0]!.forward).toEqual({
      origin: { kind: 'url', url: 'https://o.example', stripPathPrefix: null },
      timeoutMs: 30000,
      claimHeaders: [],
      assertionAudience: 'r',
    });
  });

  it.each([
    [{ url: 'https://o.example/v2', strip_path_prefix: '/api' }, { kind: 'url', url: 'https://o.example/v2', stripPathPrefix: '/api' }, 'https://o.example/v2'],
    [{ same_url: true }, { kind: 'same-url' }, 'same-url'],
    [{ service: 'ORDERS' }, { kind: 'service', binding: 'ORDERS', stripPathPrefix: null }, 'service:ORDERS'],
  ])('origin %j', (origin, target, display) => {
    const result = compile({}, { origin });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.config.routes[0]!.forward.origin).toEqual(target);
    expect(result.config.routes[0]!.origin).toBe(display);
  });

  it('the assertion header follows a configured prefix', () => {
    const result = compile({ identity_header_prefix: 'x-gw-', assertion: {} }, { origin: 'https://o.example' });
    expect(result.ok && result.config.settings.assertion?.header).toBe('x-gw-assertion');
  });

  const credentials = (name: string) => `"${name}" carries credentials: the client's would be removed and the assertion sent in its place`;
  const hopByHop = (name: string) => `"${name}" is a hop-by-hop header (RFC 9110 section 7.6.1): the next hop acts on it or drops it, so the assertion would not reach the origin`;
  const standard = (name: string) => `"${name}" is a standard request header: the origin would get the assertion in place of the client's`;
  const namespace = (name: string, prefix: string, setBy: string) => `"${name}" is in the "${prefix}" namespace ${setBy}: the origin would get the assertion in place of their header`;
  it.each([
    ['authorization', {}, credentials('authorization')],
    ['proxy-authorization', {}, credentials('proxy-authorization')],
    ['cookie', {}, credentials('cookie')],
    ['x-api-key', {}, credentials('x-api-key')],
    ['cf-access-jwt-assertion', {}, credentials('cf-access-jwt-assertion')],
    ['connection', {}, hopByHop('connection')],
    ['te', {}, hopByHop('te')],
    ['transfer-encoding', {}, hopByHop('transfer-encoding')],
    ['upgrade', {}, hopByHop('upgrade')],
    ['keep-alive', {}, hopByHop('keep-alive')],
    ['host', {}, standard('host')],
    ['content-type', {}, standard('content-type')],
    ['content-length', {}, standard('content-length')],
    ['forwarded', {}, standard('forwarded')],
    ['user-agent', {}, standard('user-agent')],
    ['x-real-ip', {}, standard('x-real-ip')],
    ['x-forwarded-for', {}, namespace('x-forwarded-for', 'x-forwarded-', 'proxies set')],
    ['x-forwarded-proto', {}, namespace('x-forwarded-proto', 'x-forwarded-', 'proxies set')],
    ['cf-connecting-ip', {}, namespace('cf-connecting-ip', 'cf-', 'Cloudflare sets')],
    ['cf-ray', {}, namespace('cf-ray', 'cf-', 'Cloudflare sets')],
    ['sec-fetch-site', {}, namespace('sec-fetch-site', 'sec-', 'browsers set')],
    ['proxy-status', {}, namespace('proxy-status', 'proxy-', 'proxies set')],
    ['x-verified-sub', {}, '"x-verified-sub" is one of the standard identity headers; choose another name'],
    ['x-gw-request-id', { identity_header_prefix: 'x-gw-' }, '"x-gw-request-id" is one of the standard identity headers; choose another name'],
    ['x-trace-id', { request_id_header: 'x-trace-id' }, '"x-trace-id" is also the request_id_header: the origin would get the assertion in place of the client\'s request id'],
    ['x-auth-token', {}, credentials('x-auth-token')],
    ['x-request-id', {}, standard('x-request-id')],
    ['traceparent', {}, standard('traceparent')],
    ['x-goog-iap-jwt-assertion', {}, standard('x-goog-iap-jwt-assertion')],
  ])('refuses the assertion header "%s" %j', (header, settings, message) => {
    const text = JSON.stringify({ settings: { ...settings, assertion: { header } } });
    const result = compilePolicies([{ file: 'policies/settings.jsonc', text }]);
    const column = text.indexOf('"header"') + 1;
    expect(result.ok ? [] : result.errors.map(formatPolicyError)).toEqual([`policies/settings.jsonc:1:${column}: /settings/assertion/header: ${message}`]);
  });

  it.each([
    ['x-gateway-assertion', {}],
    ['x-verified-assertion', {}],
    ['x-gw-assertion', {}],
    ['x-verified-sub', { identity_header_prefix: 'x-gw-' }],
    ['x-access-token-assertion', {}],
  ])('accepts the assertion header "%s" %j', (header, settings) => {
    const result = compilePolicies([{ file: 'p.jsonc', text: JSON.stringify({ settings: { ...settings, assertion: { header } } }) }]);
    expect(result.ok ? result.config.settings.assertion?.header : result.errors).toBe(header);
  });

  it.each([
    [{}, 30],
    [{ ttl_seconds: 15 }, 7],
    [{ ttl_seconds: 1 }, 0],
    [{ ttl_seconds: 20, reuse_seconds: 10 }, 10],
    [{ reuse_seconds: 0 }, 0],
  ])('reuses an assertion for half its lifetime unless told otherwise: %j -> %i s', (assertion, reuseSeconds) => {
    const result = compile({ assertion }, { origin: 'https://o.example' });
    expect(result.ok ? result.config.settings.assertion?.reuseSeconds : result.errors).toBe(reuseSeconds);
  });

  it.each([
    ['a claim header that reuses a standard name', {}, { claim_headers: { sub: 'email' } }, '/routes/r/claim_headers/sub', /standard identity headers/],
    ['a claim header named like the assertion header', { assertion: {} }, { claim_headers: { assertion: 'x' } }, '/routes/r/claim_headers/assertion', /is the assertion header/],
    ['an upper-case claim header name', {}, { claim_headers: { Email: 'email' } }, '/routes/r/claim_headers/Email', /^value does not match pattern \^\[a-z0-9\]/],
    ['an origin URL with a query', {}, { origin: { url: 'https://o.example/?a=1' } }, '/routes/r/origin/url', /query/],
    ['a strip prefix with a trailing slash', {}, { origin: { url: 'https://o.example', strip_path_prefix: '/api/' } }, '/routes/r/origin/strip_path_prefix', /^value does not match pattern/],
    ['an assertion lifetime over 60 s', { assertion: { ttl_seconds: 61 } }, {}, '/settings/assertion/ttl_seconds', /^61 is greater than 60/],
    ['reuse over half the lifetime', { assertion: { ttl_seconds: 40, reuse_seconds: 21 } }, {}, '/settings/assertion/reuse_seconds', /^21 is more than half of ttl_seconds \(40\): a reused assertion must reach the origin with at least half its lifetime left$/],
    ['reuse over 30 s', { assertion: { reuse_seconds: 31 } }, {}, '/settings/assertion/reuse_seconds', /^31 is greater than 30/],
    ['claim headers on a public route', {}, { claim_headers: { email: 'email' } }, '/routes/r/claim_headers', /public route verifies no token/],
    ['an origin timeout of 0', {}, { origin_timeout_ms: 0 }, '/routes/r/origin_timeout_ms', /^0 is less than 10/],
  ])('refuses %s', (_name, settings, route, path, message) => {
    const result = compile(settings, { origin: 'https://o.example', ...route });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.some((e) => e.path === path && message.test(e.message)), JSON.stringify(result.errors)).toBe(true);
  });
});
