/**
 * Interop, end to end: a real OpenID provider (oidc-provider) issuing RFC 9068 access tokens, the gateway
 * Worker in workerd (Miniflare) built from src/ with a policy that names the provider as an issuer, and an
 * origin that records what it receives. Everything runs on 127.0.0.1 and starts and stops itself.
 *
 * Fixed ports (this suite's range is 18800-18899):
 *   18800 gateway for the token cases      18810 its provider
 *   18801 gateway for key rotation         18811 its provider (rotates its keys)
 *   18802 gateway, warm, for the outage    18812 its provider (stops and comes back)
 *   18803 gateway, cold, for the outage
 *   18820 the recording origin (shared)
 * Each rotation and outage story has its own provider and gateway, so the two run concurrently: their
 * waits are on the gateway's real clock (key cache max-age 60 s, unknown-kid and failure cooldown 30 s,
 * src/config/constants.ts), and sequential they would take most of the 3-minute budget.
 *
 * Written against main's key store (isolate memory only; stale set used without a time limit). When the
 * key layers of issue 4 land, revisit:
 *   - issuerFor: `jwks_uri` -> `discovery: true` (one line);
 *   - the outage story: set `key_cache.stale_if_error_seconds` small and assert 503 keys_unavailable once
 *     the window has passed, then recovery; the failure-retry timing follows that store's rules;
 *   - `key_cache.min_seconds` (30 allowed) can halve the waits; refresh-ahead (at 80 % of max-age) adds a
 *     background JWKS request to a request made in that window, which the JWKS request counts must allow for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS, MIN_JWKS_MAX_AGE_SECONDS, UNKNOWN_KID_REFRESH_COOLDOWN_SECONDS } from '../../../src/config/constants.ts';
import { MiniflareGateway, type LoggedRecord } from '../support/miniflare-gateway.ts';
import {
  generateKeySet,
  generateSigningKey,
  ID_TOKEN_CLIENT_ID,
  clientIdFor,
  SIGNING_ALGORITHMS,
  startOidcProvider,
  type OidcProviderFixture,
} from '../support/oidc-provider.ts';
import { RecordingOrigin, type ReceivedRequest } from '../support/recording-origin.ts';

const PORTS = {
  gateway: 18800,
  rotationGateway: 18801,
  outageGateway: 18802,
  outageColdGateway: 18803,
  provider: 18810,
  rotationProvider: 18811,
  outageProvider: 18812,
  origin: 18820,
} as const;

/** The resource (RFC 8707) the API behind the gateway is; the provider also serves another one. */
const API = 'https://api.interop.test';
const OTHER_API = 'https://other.interop.test';
/** The provider's JWKS max-age: the gateway's lower clamp, so its key cache expires as soon as it can. */
const JWKS_MAX_AGE_SECONDS = MIN_JWKS_MAX_AGE_SECONDS;
/** On main, one cooldown spaces both unknown-kid refetches and retries after a failed fetch. */
const REFRESH_COOLDOWN_SECONDS = UNKNOWN_KID_REFRESH_COOLDOWN_SECONDS;
/** Each key story waits about 95 s on the real clock; this bounds it well inside the suite's 3 minutes. */
const STORY_TIMEOUT_MS = 150_000;
const REALM = 'interop';
const INVALID_TOKEN_CHALLENGE = `Bearer realm="${REALM}", error="invalid_token", error_description="The access token is invalid."`;

/**
 * The issuer as an operator would write it for this provider. On main the key source is the JWKS URL;
 * when discovery lands (issue 4) the switch is one line: replace `jwks_uri: idp.jwksUri` by `discovery: true`.
 */
function issuerFor(idp: OidcProviderFixture) {
  return {
    issuer: idp.issuer,
    jwks_uri: idp.jwksUri,
    algorithms: [...SIGNING_ALGORITHMS],
    // RFC 9068: access tokens are typed, which is what keeps an ID token from passing as one.
    typ: 'at+jwt',
    // RFC 9068 names the client in client_id: the gateway reports it as the app (x-verified-app).
    app_claim: 'client_id',
    // Provider and gateway share this machine's clock; no skew lets an expired token show in a second, not 61.
    clock_skew_seconds: 0,
  };
}

/** The same provider through the generic RFC 9068 preset (docs/presets.md): what an operator writes with the fewest fields. */
function presetIssuerFor(idp: OidcProviderFixture) {
  return { preset: 'rfc9068', issuer: idp.issuer, jwks_uri: idp.jwksUri, algorithms: [...SIGNING_ALGORITHMS] };
}

function policyFor(idp: OidcProviderFixture, origin: RecordingOrigin) {
  return {
    settings: { realm: REALM, default_origin: origin.url },
    issuers: { idp: issuerFor(idp), 'idp-preset': presetIssuerFor(idp) },
    routes: {
      api: { path: '/api/*', issuers: ['idp'], audiences: [API] },
      preset: { path: '/preset/*', issuers: ['idp-preset'], audiences: [API] },
      // An API that (wrongly) uses the web client's id as its audience: an ID token would pass every
      // check but its type here, so this route shows that the typ pin alone stops it.
      'client-audience': { path: '/client-audience/*', issuers: ['idp'], audiences: [ID_TOKEN_CLIENT_ID] },
    },
  };
}

interface Sent {
  status: number;
  headers: Headers;
  record: LoggedRecord;
  /** What the origin received for this request, if the gateway forwarded it. */
  forwarded: ReceivedRequest | undefined;
}

let origin: RecordingOrigin;

/**
 * One request through a gateway with a bearer token, with its verification record and what the origin
 * received. Every request of this file uses its own path, so the origin's log is searched by path.
 */
async function send(gateway: MiniflareGateway, path: string, token: string, extraHeaders: Record<string, string> = {}): Promise<Sent> {
  const response = await gateway.fetch(path, { headers: { authorization: `Bearer ${token}`, ...extraHeaders } });
  const text = await response.text();
  const forwarded = origin.received.find((r) => r.path === path);
  // The gateway names the request id in every denial's body, and to the origin in x-verified-request-id.
  const requestId = forwarded ? String(forwarded.headers['x-verified-request-id']) : (JSON.parse(text) as { request_id: string }).request_id;
  return { status: response.status, headers: response.headers, record: await gateway.recordFor(requestId), forwarded };
}

/** A step of a story: the token was accepted, with the key from this layer of the gateway's key store. */
function expectAccepted(sent: Sent, layer: 'network' | 'memory' | 'stale', step: string): void {
  expect(sent.status, step).toBe(200);
  expect(sent.record.key_layer, step).toBe(layer);
}

const sleepUntil = (epochMs: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, epochMs - Date.now())));
/** The first moment at which `seconds` whole seconds have passed since `fromMs` on the gateway's second-granular clock. */
const secondsAfter = (fromMs: number, seconds: number) => (Math.floor(fromMs / 1000) + seconds) * 1000 + 100;
const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid?: string }).kid;

beforeAll(async () => {
  // TODO(issue 5, forwarding): pass the origin module's verification of the signed identity assertion here.
  origin = await RecordingOrigin.start(PORTS.origin);
});
afterAll(async () => {
  await origin?.stop();
});

describe('a real OpenID provider in front of the gateway', () => {
  let idp: OidcProviderFixture;
  let gateway: MiniflareGateway;

  beforeAll(async () => {
    idp = await startOidcProvider({ port: PORTS.provider, resources: [API, OTHER_API], jwksMaxAgeSeconds: JWKS_MAX_AGE_SECONDS });
    gateway = await MiniflareGateway.start({ port: PORTS.gateway, policy: policyFor(idp, origin) });
  });
  afterAll(async () => {
    await gateway?.stop();
    await idp?.stop();
  });

  it.each(SIGNING_ALGORITHMS)('an %s access token for the API -> 200, and the origin sees the verified identity', async (alg) => {
    const token = await idp.accessToken({ resource: API, alg });
    // A client-sent identity header must not reach the origin; the gateway's own does.
    const sent = await send(gateway, `/api/${alg}`, token, { 'x-verified-sub': 'admin' });
    expect(sent.status).toBe(200);
    expect(sent.record).toMatchObject({ outcome: 'allowed', findings: [], kid: kidOf(token) });
    const headers = sent.forwarded!.headers;
    expect(headers['x-verified-sub']).toBe(clientIdFor(alg));
    expect(headers['x-verified-iss']).toBe(idp.issuer);
    expect(headers['x-verified-app']).toBe(clientIdFor(alg));
    expect(headers['x-verified-scope']).toBe('api:read');
    expect(headers['x-verified-route']).toBe('api');
    expect(headers.authorization).toBeUndefined();
  });

  it('the provider really issues RFC 9068 tokens: typ at+jwt, aud = the resource, client_id', async () => {
    const token = await idp.accessToken({ resource: API, alg: 'ES256' });
    const [header, payload] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(payload).toMatchObject({ iss: idp.issuer, aud: API, client_id: clientIdFor('ES256'), sub: clientIdFor('ES256') });
  });

  it('the discovery document names this issuer and the JWKS URL the policy uses', async () => {
    // What the gateway will read once the issuer is configured by discovery alone (issue 4).
    const metadata = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({ issuer: idp.issuer, jwks_uri: idp.jwksUri });
    expect(metadata.grant_types_supported).toContain('client_credentials');
  });

  it('an access token for another resource -> 401 audience_mismatch, nothing forwarded', async () => {
    const token = await idp.accessToken({ resource: OTHER_API });
    const sent = await send(gateway, '/api/other-resource', token);
    expect(sent.status).toBe(401);
    expect(sent.headers.get('www-authenticate')).toBe(INVALID_TOKEN_CHALLENGE);
    expect(sent.record.findings).toEqual(['audience_mismatch']);
    expect(origin.received.some((r) => r.path === '/api/other-resource')).toBe(false);
  });

  it('an ID token presented as an access token -> 401: not typed at+jwt (and not for this audience)', async () => {
    const idToken = await idp.idToken('alice');
    const header = JSON.parse(Buffer.from(idToken.split('.')[0]!, 'base64url').toString());
    expect(header.typ).toBeUndefined();
    const sent = await send(gateway, '/api/id-token', idToken);
    expect(sent.status).toBe(401);
    expect(sent.headers.get('www-authenticate')).toBe(INVALID_TOKEN_CHALLENGE);
    expect(sent.record.findings).toEqual(['typ_mismatch', 'audience_mismatch']);
  });

  it('an ID token on a route whose audience is the client id -> 401 typ_mismatch alone', async () => {
    const sent = await send(gateway, '/client-audience/x', await idp.idToken('alice'));
    expect(sent.status).toBe(401);
    expect(sent.record.findings).toEqual(['typ_mismatch']);
    expect(origin.received.some((r) => r.path === '/client-audience/x')).toBe(false);
  });

  it.each(SIGNING_ALGORITHMS)('the rfc9068 preset: an %s access token -> 200 with the client as the app', async (alg) => {
    const sent = await send(gateway, `/preset/${alg}`, await idp.accessToken({ resource: API, alg }));
    expect(sent.status).toBe(200);
    expect(sent.forwarded!.headers['x-verified-app']).toBe(clientIdFor(alg));
    expect(sent.forwarded!.headers['x-verified-route']).toBe('preset');
  });

  it('the rfc9068 preset: an ID token -> 401, refused for its type, audience and the claims RFC 9068 requires', async () => {
    const sent = await send(gateway, '/preset/id-token', await idp.idToken('alice'));
    expect(sent.status).toBe(401);
    expect(sent.headers.get('www-authenticate')).toBe(INVALID_TOKEN_CHALLENGE);
    expect(sent.record.findings).toEqual(['typ_mismatch', 'audience_mismatch', 'claim_missing', 'claim_missing']);
    expect(sent.record.claims).toEqual([null, 'aud', 'client_id', 'jti']);
  });

  it('an expired access token -> 401 token_expired', async () => {
    const token = await idp.accessToken({ resource: API, lifetime: 'short' });
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number };
    await sleepUntil(exp * 1000 + 1100);
    const sent = await send(gateway, '/api/expired', token);
    expect(sent.status).toBe(401);
    expect(sent.headers.get('www-authenticate')).toBe(INVALID_TOKEN_CHALLENGE);
    expect(sent.record.findings).toEqual(['token_expired']);
  });
});

describe('keys change while the gateway runs (real clock: about 95 s, both stories at once)', () => {
  let rotating: OidcProviderFixture;
  let rotationGateway: MiniflareGateway;
  let failing: OidcProviderFixture;
  let warmGateway: MiniflareGateway;
  let coldGateway: MiniflareGateway;

  beforeAll(async () => {
    rotating = await startOidcProvider({ port: PORTS.rotationProvider, resources: [API], jwksMaxAgeSeconds: JWKS_MAX_AGE_SECONDS, keys: generateKeySet('r1') });
    failing = await startOidcProvider({ port: PORTS.outageProvider, resources: [API], jwksMaxAgeSeconds: JWKS_MAX_AGE_SECONDS });
    [rotationGateway, warmGateway, coldGateway] = await Promise.all([
      MiniflareGateway.start({ port: PORTS.rotationGateway, policy: policyFor(rotating, origin) }),
      MiniflareGateway.start({ port: PORTS.outageGateway, policy: policyFor(failing, origin) }),
      MiniflareGateway.start({ port: PORTS.outageColdGateway, policy: policyFor(failing, origin) }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([rotationGateway?.stop(), warmGateway?.stop(), coldGateway?.stop()]);
    await Promise.all([rotating?.stop(), failing?.stop()]);
  });

  it.concurrent('rotation: new-key tokens accepted without a restart; retired-key tokens rejected once the cache expires', { timeout: STORY_TIMEOUT_MS }, async () => {
    const original = rotating.keys;
    const oldToken = await rotating.accessToken({ resource: API });
    expectAccepted(await send(rotationGateway, '/api/rotation-1', oldToken), 'network', 'old key, first request');
    const firstFetchAt = Date.now();

    // The provider rotates: a new RS256 key signs, the old one stays published for the overlap.
    const newKey = generateSigningKey('RS256', 'r2-rs256');
    await rotating.setSigningKeys([newKey, ...original]);
    const newToken = await rotating.accessToken({ resource: API });
    expect(kidOf(newToken)).toBe('r2-rs256');

    // An unknown kid refetches the JWKS, at most once per cooldown per issuer (main: 30 s after the last fetch).
    await sleepUntil(secondsAfter(firstFetchAt, REFRESH_COOLDOWN_SECONDS));
    expectAccepted(await send(rotationGateway, '/api/rotation-2', newToken), 'network', 'new key, after the cooldown');
    const secondFetchAt = Date.now();
    expect(rotating.jwksRequests).toBe(2);
    expectAccepted(await send(rotationGateway, '/api/rotation-3', oldToken), 'memory', 'old key during the overlap');

    // The provider retires the old key. The gateway keeps the set it fetched until its max-age passes...
    await rotating.setSigningKeys(original.map((k) => (k.alg === 'RS256' ? newKey : k)));
    expectAccepted(await send(rotationGateway, '/api/rotation-4', oldToken), 'memory', 'old key, retired but still cached');

    // ...then refetches, and the retired key is gone.
    await sleepUntil(secondsAfter(secondFetchAt, JWKS_MAX_AGE_SECONDS));
    const retired = await send(rotationGateway, '/api/rotation-5', oldToken);
    expect(retired.status, 'old key after the cache expired').toBe(401);
    expect(retired.record.findings).toEqual(['kid_unknown']);
    expect(rotating.jwksRequests).toBe(3);
    expectAccepted(await send(rotationGateway, '/api/rotation-6', newToken), 'memory', 'new key still accepted');
  });

  it.concurrent('outage: cached keys keep working while the provider is down; recovery when it comes back', { timeout: STORY_TIMEOUT_MS }, async () => {
    const token = await failing.accessToken({ resource: API });
    expectAccepted(await send(warmGateway, '/api/outage-1', token), 'network', 'before the outage');
    const fetchedAt = Date.now();

    await failing.stop();
    expectAccepted(await send(warmGateway, '/api/outage-2', token), 'memory', 'provider down, keys cached');

    // A gateway that never had the keys (a new isolate) cannot verify: 503 with Retry-After, not a 500.
    const cold = await send(coldGateway, '/api/outage-3', token);
    const coldFailedAt = Date.now();
    expect(cold.status, 'provider down, no keys cached').toBe(503);
    expect(cold.headers.get('retry-after')).toBe(String(KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS));
    expect(cold.record.findings).toEqual(['keys_unavailable']);
    expect(coldGateway.keyFetchFailures).toBe(1);

    // Past max-age the refetch fails. On main the last good set is used with no time limit (layer "stale").
    // TODO(issue 4, keys): with the stale window, assert 200 "stale" inside it and 503 keys_unavailable after it.
    await sleepUntil(secondsAfter(fetchedAt, JWKS_MAX_AGE_SECONDS));
    expectAccepted(await send(warmGateway, '/api/outage-4', token), 'stale', 'provider down, cache expired');
    const warmFailedAt = Date.now();
    expect(warmGateway.keyFetchFailures).toBe(1);

    // The provider comes back (same port, same keys).
    await failing.start();
    await sleepUntil(secondsAfter(coldFailedAt, REFRESH_COOLDOWN_SECONDS));
    expectAccepted(await send(coldGateway, '/api/outage-5', token), 'network', 'cold gateway after the provider came back');

    await sleepUntil(secondsAfter(warmFailedAt, REFRESH_COOLDOWN_SECONDS));
    expectAccepted(await send(warmGateway, '/api/outage-6', token), 'network', 'warm gateway after the provider came back');
  });
});
