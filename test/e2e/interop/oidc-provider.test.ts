/**
 * Interop, end to end: a real OpenID provider (oidc-provider) issuing RFC 9068 access tokens, the gateway
 * Worker in workerd (Miniflare) built from src/ with a policy that names the provider by its issuer URL
 * alone (OIDC discovery), and an origin that records what it receives and verifies the gateway's signed
 * identity assertion with the origin module (src/origin/). Everything runs on 127.0.0.1 and starts and
 * stops itself.
 *
 * Fixed ports (this suite's range is 18800-18899):
 *   18800 gateway for the token cases      18810 its provider
 *   18801 gateway for key rotation         18811 its provider (rotates its keys)
 *   18802 gateway, warm, for the outage    18812 its provider (stops and comes back)
 *   18803 gateway, cold, for the outage
 *   18820 the recording origin (shared; it fetches each gateway's /.well-known/gateway-jwks.json)
 * Miniflare also has each workerd listen on one ephemeral loopback port of its own (its link to Node).
 *
 * Each rotation and outage story has its own provider and gateway, so the two run concurrently: their
 * waits are on the gateway's real clock (key set lifetimes of 45 s and 30 s, the smallest the policy's
 * key_cache.min_seconds allows being 30; the fixed 30 s cooldown between looks beyond memory, src/config/
 * constants.ts; a 10 s stale-if-error window), about 70 s for both.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KEY_REFRESH_AHEAD_FRACTION,
  KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS,
  MIN_JWKS_MAX_AGE_SECONDS,
  UNKNOWN_KID_REFRESH_COOLDOWN_SECONDS,
} from '../../../src/config/constants.ts';
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
import { GatewayTrust, RecordingOrigin, type ReceivedRequest } from '../support/recording-origin.ts';

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
/** The audience of the gateway's assertions for this API (every forwarding route's assertion_audience): what the origin expects. */
const ASSERTION_AUDIENCE = 'interop-api';
/** The token cases' provider sends the gateway's default lower clamp as its JWKS max-age: nothing expires during those cases. */
const TOKEN_CASES_JWKS_MAX_AGE_SECONDS = MIN_JWKS_MAX_AGE_SECONDS;
/** The smallest key_cache.min_seconds the policy schema allows: the stories' key sets may live this short. */
const KEY_CACHE_MIN_SECONDS = 30;
/**
 * The rotation story's key set lifetime: longer than the cooldown, so that a new kid gets its look while the
 * set is still fresh (rotation proper, not expiry); its refresh-ahead point (80 %) is at 36 s.
 */
const ROTATION_LIFETIME_SECONDS = 45;
/**
 * The outage story's key set lifetime: the shortest allowed. No refresh ahead can happen with it: at 80 % (24 s)
 * the set was fetched less than one cooldown (30 s) ago, and the key store does not look beyond memory then.
 */
const OUTAGE_LIFETIME_SECONDS = KEY_CACHE_MIN_SECONDS;
/** How long past expiry the last good set keeps verifying while the outage provider is down; then 503. */
const STALE_IF_ERROR_SECONDS = 10;
/** At most one look beyond memory per issuer per cooldown: unknown-kid lookups and retries after a failure alike. */
const COOLDOWN_SECONDS = UNKNOWN_KID_REFRESH_COOLDOWN_SECONDS;
/** Each key story waits about 70 s on the real clock; this bounds it well inside the suite's 3 minutes. */
const STORY_TIMEOUT_MS = 150_000;
const REALM = 'interop';
const INVALID_TOKEN_CHALLENGE = `Bearer realm="${REALM}", error="invalid_token", error_description="The access token is invalid."`;

interface KeyCache {
  min_seconds?: number;
  stale_if_error_seconds?: number;
}

/**
 * The issuer as an operator would write it for this provider: its issuer URL, and discovery finds the rest
 * (the JWKS URL from `<issuer>/.well-known/openid-configuration`).
 */
function issuerFor(idp: OidcProviderFixture, keyCache?: KeyCache) {
  return {
    issuer: idp.issuer,
    discovery: true,
    algorithms: [...SIGNING_ALGORITHMS],
    // RFC 9068: access tokens are typed, which is what keeps an ID token from passing as one.
    typ: 'at+jwt',
    // RFC 9068 names the client in client_id: the gateway reports it as the app (x-verified-app).
    app_claim: 'client_id',
    // Provider and gateway share this machine's clock; no skew lets an expired token show in a second, not 61.
    clock_skew_seconds: 0,
    ...(keyCache && { key_cache: keyCache }),
  };
}

/**
 * The same provider through the generic RFC 9068 preset (docs/presets.md): what an operator writes with the
 * fewest fields. The preset takes `issuer` and `jwks_uri` as its parameters and decides the key source, so it
 * cannot take `discovery` (the compiler refuses both together): this issuer keeps the JWKS URL.
 */
function presetIssuerFor(idp: OidcProviderFixture) {
  return { preset: 'rfc9068', issuer: idp.issuer, jwks_uri: idp.jwksUri, algorithms: [...SIGNING_ALGORITHMS] };
}

/** The iss of a gateway's assertions: one per gateway, so the origin knows whose published keys to check them with. */
const assertionIssuerFor = (gatewayPort: number) => `interop-gateway-${gatewayPort}`;

function policyFor(idp: OidcProviderFixture, gatewayPort: number, keyCache?: KeyCache) {
  return {
    settings: { realm: REALM, default_origin: origin.url, assertion: { issuer: assertionIssuerFor(gatewayPort) } },
    issuers: { idp: issuerFor(idp, keyCache), 'idp-preset': presetIssuerFor(idp) },
    routes: {
      api: { path: '/api/*', issuers: ['idp'], audiences: [API], assertion_audience: ASSERTION_AUDIENCE },
      preset: { path: '/preset/*', issuers: ['idp-preset'], audiences: [API], assertion_audience: ASSERTION_AUDIENCE },
      // An API that (wrongly) uses the web client's id as its audience: an ID token would pass every
      // check but its type here, so this route shows that the typ pin alone stops it.
      'client-audience': { path: '/client-audience/*', issuers: ['idp'], audiences: [ID_TOKEN_CLIENT_ID], assertion_audience: ASSERTION_AUDIENCE },
    },
  };
}

let origin: RecordingOrigin;
const trust = new GatewayTrust(ASSERTION_AUDIENCE);

/**
 * A gateway in workerd for this provider, with its own assertion signing key: a private Ed25519 JWK made here
 * as an operator makes one (docs/origin.md) and given as the Worker secret GATEWAY_SIGNING_KEY. The origin
 * trusts the gateway's published keys from then on.
 */
async function startGateway(port: number, idp: OidcProviderFixture, keyCache?: KeyCache): Promise<MiniflareGateway> {
  const signingKey = { ...generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }), kid: `interop-gw-${port}` };
  const gateway = await MiniflareGateway.start({ port, policy: policyFor(idp, port, keyCache), bindings: { GATEWAY_SIGNING_KEY: JSON.stringify(signingKey) } });
  trust.trust(assertionIssuerFor(port), gateway.url);
  return gateway;
}

interface Sent {
  status: number;
  headers: Headers;
  record: LoggedRecord;
  /** What the origin received for this request, if the gateway forwarded it. */
  forwarded: ReceivedRequest | undefined;
}

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

/**
 * A step of a story: the token was accepted, with the key from this layer of the gateway's key store, and the
 * origin verified the gateway's assertion (it answers 401 otherwise, which the gateway passes on).
 */
function expectAccepted(sent: Sent, layer: 'network' | 'memory' | 'stale', step: string): void {
  expect(sent.status, step).toBe(200);
  expect(sent.record.key_layer, step).toBe(layer);
  expect(sent.forwarded?.identity?.forwardedRequestId, step).toBe(sent.record.request_id);
}

/** A 503 for want of keys: fail closed, with Retry-After, nothing forwarded. */
function expectKeysUnavailable(sent: Sent, step: string): void {
  expect(sent.status, step).toBe(503);
  expect(sent.headers.get('retry-after'), step).toBe(String(KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS));
  expect(sent.record.findings, step).toEqual(['keys_unavailable']);
  expect(sent.forwarded, step).toBeUndefined();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sleepUntil = (epochMs: number) => sleep(Math.max(0, epochMs - Date.now()));
/**
 * The first moment at which `seconds` whole seconds have passed since `fromMs` on the gateway's second-granular
 * clock. `fromMs` is taken just after the gateway answered, so it is never earlier than the gateway's own time
 * of the event; the stories' windows (10 s and more) leave room for a late start on a slow machine.
 */
const secondsAfter = (fromMs: number, seconds: number) => (Math.floor(fromMs / 1000) + seconds) * 1000 + 100;
const decodePart = (token: string, part: 0 | 1) => JSON.parse(Buffer.from(token.split('.')[part]!, 'base64url').toString()) as Record<string, unknown>;
const kidOf = (token: string) => decodePart(token, 0).kid;

beforeAll(async () => {
  // Every request must carry an assertion that verifies against a trusted gateway's published keys.
  origin = await RecordingOrigin.start(PORTS.origin, trust.check);
});
afterAll(async () => {
  await origin?.stop();
});

describe('a real OpenID provider in front of the gateway', () => {
  let idp: OidcProviderFixture;
  let gateway: MiniflareGateway;

  beforeAll(async () => {
    idp = await startOidcProvider({ port: PORTS.provider, resources: [API, OTHER_API], jwksMaxAgeSeconds: TOKEN_CASES_JWKS_MAX_AGE_SECONDS });
    gateway = await startGateway(PORTS.gateway, idp);
  });
  afterAll(async () => {
    await gateway?.stop();
    await idp?.stop();
  });

  it('configured by its issuer URL alone: the gateway reads the discovery document, then the JWKS it names', async () => {
    expect([idp.discoveryRequests, idp.jwksRequests]).toEqual([0, 0]);
    const first = await send(gateway, '/api/discovery-1', await idp.accessToken({ resource: API, alg: 'ES256' }));
    expectAccepted(first, 'network', 'first request');
    expect([idp.discoveryRequests, idp.jwksRequests]).toEqual([1, 1]);
    // Both are cached: the next token is verified from memory, the provider is not asked again.
    expectAccepted(await send(gateway, '/api/discovery-2', await idp.accessToken({ resource: API, alg: 'EdDSA' })), 'memory', 'second request');
    expect([idp.discoveryRequests, idp.jwksRequests]).toEqual([1, 1]);
  });

  it('the discovery document the gateway read names this issuer and its JWKS URL', async () => {
    const metadata = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({ issuer: idp.issuer, jwks_uri: idp.jwksUri });
    expect(metadata.grant_types_supported).toContain('client_credentials');
  });

  it.each(SIGNING_ALGORITHMS)('an %s access token for the API -> 200, and the origin verifies the identity the gateway signed', async (alg) => {
    const token = await idp.accessToken({ resource: API, alg });
    const claims = decodePart(token, 1);
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
    // The origin module verified the assertion with the gateway's published key; what it vouches for is the provider's token.
    const identity = sent.forwarded!.identity!;
    expect(identity).toMatchObject({ sub: claims.sub, idp: claims.iss, app: claims.client_id, scope: claims.scope, route: 'api', forwardedRequestId: sent.record.request_id });
    expect([identity.sub, identity.app, identity.scope]).toEqual([clientIdFor(alg), clientIdFor(alg), 'api:read']);
    expect(identity.payload).toMatchObject({ iss: assertionIssuerFor(PORTS.gateway), aud: ASSERTION_AUDIENCE, token_exp: claims.exp });
    expect(decodePart(String(headers['x-verified-assertion']), 0)).toMatchObject({ alg: 'EdDSA', typ: 'gateway-assertion+jwt', kid: `interop-gw-${PORTS.gateway}` });
  });

  it('the origin refuses what the gateway did not sign for it: the headers replayed on another path, or no assertion', async () => {
    const forwarded = origin.received.find((r) => r.path === '/api/RS256');
    expect(forwarded?.identity).toBeDefined();
    const identityHeaders = Object.fromEntries(Object.entries(forwarded!.headers).filter(([name]) => name.startsWith('x-verified-'))) as Record<string, string>;
    const replayed = await fetch(`${origin.url}/api/replayed`, { headers: identityHeaders });
    expect(replayed.status).toBe(401);
    expect(await replayed.json()).toEqual({ origin_refused: 'request_mismatch' });
    const { 'x-verified-assertion': _, ...plain } = identityHeaders;
    const unsigned = await fetch(`${origin.url}${forwarded!.path}`, { headers: plain });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toEqual({ origin_refused: 'assertion_missing' });
  });

  it('the provider really issues RFC 9068 tokens: typ at+jwt, aud = the resource, client_id', async () => {
    const token = await idp.accessToken({ resource: API, alg: 'ES256' });
    expect(decodePart(token, 0)).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(decodePart(token, 1)).toMatchObject({ iss: idp.issuer, aud: API, client_id: clientIdFor('ES256'), sub: clientIdFor('ES256') });
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
    expect(decodePart(idToken, 0).typ).toBeUndefined();
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
    expect(sent.forwarded!.identity).toMatchObject({ sub: clientIdFor(alg), app: clientIdFor(alg), route: 'preset' });
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
    await sleepUntil((decodePart(token, 1).exp as number) * 1000 + 1100);
    const sent = await send(gateway, '/api/expired', token);
    expect(sent.status).toBe(401);
    expect(sent.headers.get('www-authenticate')).toBe(INVALID_TOKEN_CHALLENGE);
    expect(sent.record.findings).toEqual(['token_expired']);
  });
});

describe('keys change while the gateway runs (real clock: about 70 s, both stories at once)', () => {
  let rotating: OidcProviderFixture;
  let rotationGateway: MiniflareGateway;
  let failing: OidcProviderFixture;
  let warmGateway: MiniflareGateway;
  let coldGateway: MiniflareGateway;

  beforeAll(async () => {
    rotating = await startOidcProvider({ port: PORTS.rotationProvider, resources: [API], jwksMaxAgeSeconds: ROTATION_LIFETIME_SECONDS, keys: generateKeySet('r1') });
    failing = await startOidcProvider({ port: PORTS.outageProvider, resources: [API], jwksMaxAgeSeconds: OUTAGE_LIFETIME_SECONDS });
    const outageCache = { min_seconds: KEY_CACHE_MIN_SECONDS, stale_if_error_seconds: STALE_IF_ERROR_SECONDS };
    [rotationGateway, warmGateway, coldGateway] = await Promise.all([
      startGateway(PORTS.rotationGateway, rotating, { min_seconds: KEY_CACHE_MIN_SECONDS }),
      startGateway(PORTS.outageGateway, failing, outageCache),
      startGateway(PORTS.outageColdGateway, failing, outageCache),
    ]);
  });
  afterAll(async () => {
    await Promise.all([rotationGateway?.stop(), warmGateway?.stop(), coldGateway?.stop()]);
    await Promise.all([rotating?.stop(), failing?.stop()]);
  });

  /**
   * The JWKS request counts are exact because the story places every request on the gateway's clock: the only
   * fetches are the first load, the new kid's look once the cooldown allows it, and the one background refresh
   * started by the request sent at 80 % of the set's lifetime. No request falls between 80 % and 100 % of a
   * set's lifetime other than that one, and none reaches its expiry; the discovery document (no Cache-Control,
   * so the default 600 s) stays fresh throughout and is read once.
   */
  it.concurrent('rotation: new-key tokens accepted without a restart; retired-key tokens rejected once a refreshed set lacks them', { timeout: STORY_TIMEOUT_MS }, async ({ expect }) => {
    const original = rotating.keys;
    const oldToken = await rotating.accessToken({ resource: API });
    expectAccepted(await send(rotationGateway, '/api/rotation-1', oldToken), 'network', 'old key, first request');
    const firstFetchAt = Date.now();
    expect([rotating.discoveryRequests, rotating.jwksRequests]).toEqual([1, 1]);

    // The provider rotates: a new RS256 key signs, the old one stays published for the overlap.
    const newKey = generateSigningKey('RS256', 'r2-rs256');
    await rotating.setSigningKeys([newKey, ...original]);
    const newToken = await rotating.accessToken({ resource: API });
    expect(kidOf(newToken)).toBe('r2-rs256');

    // Within the cooldown after the last fetch an unknown kid gets no look: 401, the provider is not asked,
    // and the kid is not remembered as unknown (so it gets its look when the cooldown ends).
    const early = await send(rotationGateway, '/api/rotation-2', newToken);
    expect(early.status, 'new key within the cooldown').toBe(401);
    expect(early.record.findings).toEqual(['kid_unknown']);
    expect(rotating.jwksRequests).toBe(1);

    // After the cooldown the cached set is still fresh (45 s): the unknown kid itself makes the gateway look.
    await sleepUntil(secondsAfter(firstFetchAt, COOLDOWN_SECONDS));
    expectAccepted(await send(rotationGateway, '/api/rotation-3', newToken), 'network', 'new key, after the cooldown');
    const secondFetchAt = Date.now();
    expect([rotating.discoveryRequests, rotating.jwksRequests]).toEqual([1, 2]);
    expectAccepted(await send(rotationGateway, '/api/rotation-4', oldToken), 'memory', 'old key during the overlap');

    // The provider retires the old key. The gateway keeps the set it fetched...
    await rotating.setSigningKeys(original.map((k) => (k.alg === 'RS256' ? newKey : k)));
    expectAccepted(await send(rotationGateway, '/api/rotation-5', oldToken), 'memory', 'old key, retired but still cached');
    expect(rotating.jwksRequests).toBe(2);

    // ...until 80 % of its lifetime: the request that notices is still served from it and starts a refresh in
    // the background (ctx.waitUntil), which fetches the provider's current set.
    await sleepUntil(secondsAfter(secondFetchAt, ROTATION_LIFETIME_SECONDS * KEY_REFRESH_AHEAD_FRACTION));
    expectAccepted(await send(rotationGateway, '/api/rotation-6', oldToken), 'memory', 'old key, set due for refresh');
    await expect.poll(() => rotating.jwksRequests, { timeout: 10_000, interval: 50 }).toBe(3);

    // The refreshed set reaches the isolate's memory a moment after the provider answered; from then on the
    // retired key is refused. Bounded: a few tries, 200 ms apart, each still accepted from the old set until then.
    let retired: Sent | undefined;
    for (let attempt = 1; attempt <= 10 && retired?.status !== 401; attempt += 1) {
      if (retired) {
        expectAccepted(retired, 'memory', 'old key, refresh not landed yet');
        await sleep(200);
      }
      retired = await send(rotationGateway, `/api/rotation-7-${attempt}`, oldToken);
    }
    expect(retired!.status, 'old key once the refreshed set lacks it').toBe(401);
    expect(retired!.record.findings).toEqual(['kid_unknown']);
    // No further fetch: a set fetched less than a cooldown ago is not looked past for an unknown kid.
    expect([rotating.discoveryRequests, rotating.jwksRequests]).toEqual([1, 3]);
    expectAccepted(await send(rotationGateway, '/api/rotation-8', newToken), 'memory', 'new key still accepted');
  });

  /**
   * The outage issuer's set lives 30 s with a 10 s stale-if-error window: fetched at t, it verifies from memory
   * until t+30, stale until t+40 (the provider retried once, at t+30), then 503 until a look (at most one per
   * 30 s, so from t+60) finds the provider back.
   */
  it.concurrent('outage: cached keys keep working, stale within the window, then 503; recovery when the provider comes back', { timeout: STORY_TIMEOUT_MS }, async ({ expect }) => {
    const token = await failing.accessToken({ resource: API });
    expectAccepted(await send(warmGateway, '/api/outage-1', token), 'network', 'before the outage');
    const fetchedAt = Date.now();

    await failing.stop();
    expectAccepted(await send(warmGateway, '/api/outage-2', token), 'memory', 'provider down, keys cached');

    // A gateway that never had the keys (a new isolate) cannot even read the discovery document: 503, not a 500.
    const cold = await send(coldGateway, '/api/outage-3', token);
    const coldFailedAt = Date.now();
    expectKeysUnavailable(cold, 'provider down, no keys cached');
    expect(coldGateway.keyFetchFailures).toBe(1);

    // Expired, inside the stale window: one retry of the provider fails, the last good set still verifies.
    await sleepUntil(secondsAfter(fetchedAt, OUTAGE_LIFETIME_SECONDS));
    expectAccepted(await send(warmGateway, '/api/outage-4', token), 'stale', 'provider down, set expired, inside the stale window');
    const retriedAt = Date.now();
    expect(warmGateway.keyFetchFailures).toBe(1);

    // Past the window: fail closed, never an unverified pass. No retry yet (the cooldown after the failed one).
    await sleepUntil(secondsAfter(fetchedAt, OUTAGE_LIFETIME_SECONDS + STALE_IF_ERROR_SECONDS));
    expectKeysUnavailable(await send(warmGateway, '/api/outage-5', token), 'provider down, past the stale window');
    expect(warmGateway.keyFetchFailures).toBe(1);

    // The provider comes back (same port, same keys). Each gateway recovers at its next look.
    await failing.start();
    await sleepUntil(secondsAfter(coldFailedAt, COOLDOWN_SECONDS));
    expectAccepted(await send(coldGateway, '/api/outage-6', token), 'network', 'cold gateway after the provider came back');
    await sleepUntil(secondsAfter(retriedAt, COOLDOWN_SECONDS));
    expectAccepted(await send(warmGateway, '/api/outage-7', token), 'network', 'warm gateway after the provider came back');
    // The cold gateway read the discovery document when it recovered; the warm one still had it (600 s).
    expect([failing.discoveryRequests, failing.jwksRequests]).toEqual([2, 3]);
  });
});
