/**
 * Shared setup of the attack-catalog tests: one issuer and one route like a real deployment, the outside
 * world behind fetch, and helpers that build hostile tokens byte for byte from keys the tests create.
 */
import { expect, vi } from 'vitest';
import type { Algorithm } from '../../src/config/types.ts';
import { base64UrlEncode } from '../../src/token/base64url.ts';
import { bearer, gatewayFor, send } from '../helpers/gateway.ts';
import { spyKvReads } from '../helpers/key-scenario.ts';
import { jwksOf, makeKey, nowSeconds, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';
import { RecordCapture } from '../helpers/records.ts';

export const ISS = 'https://idp.example/tenant-a';
export const JWKS = 'https://idp.example/tenant-a/jwks';
export const AUD = 'https://api.example';
export const ORIGIN_HOST = 'origin.example';

const text = new TextEncoder();
export const b64u = (value: string | Uint8Array) => base64UrlEncode(typeof value === 'string' ? text.encode(value) : value);

export interface Kit {
  world: OutsideWorld;
  logs: RecordCapture;
  rs256: TestKey;
  es256: TestKey;
  /** A key of the attacker's: same algorithm, never published by the issuer. */
  attacker: TestKey;
}

export async function setUpKit(): Promise<Kit> {
  const [rs256, es256, attacker] = await Promise.all([makeKey('RS256', 'rs-1'), makeKey('ES256', 'es-1'), makeKey('RS256', 'rs-1')]);
  const world = new OutsideWorld().serveJwks(JWKS, jwksOf(rs256, es256)).origin(ORIGIN_HOST).install();
  return { world, logs: new RecordCapture(), rs256, es256, attacker };
}

export function tearDownKit(kit: Kit): void {
  kit.world.restore();
  kit.logs.restore();
}

/** The deployment under attack; a new one has a cold key cache, so any key lookup would show as a fetch. */
export function newGateway(issuerOverrides: object = {}, jwksUri = JWKS) {
  return gatewayFor({
    issuers: {
      idp: { issuer: ISS, jwks_uri: jwksUri, algorithms: ['RS256', 'ES256'], typ: 'at+jwt', app_claim: 'app_id', ...issuerOverrides },
    },
    routes: {
      billing: { path: '/billing/*', issuers: ['idp'], audiences: [AUD], app: 'billing', origin: `https://${ORIGIN_HOST}` },
    },
  });
}

export const validClaims = (overrides: Record<string, unknown> = {}) => {
  const now = nowSeconds();
  return { iss: ISS, aud: AUD, sub: 'alice', app_id: 'billing', iat: now, exp: now + 300, ...overrides };
};

const SIGN_PARAMS: Partial<Record<Algorithm, SubtleCryptoSignAlgorithm | string>> = {
  RS256: 'RSASSA-PKCS1-v1_5',
  PS256: { name: 'RSA-PSS', saltLength: 32 },
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  EdDSA: 'Ed25519',
};

/** Signs the exact header and payload text given (duplicates, 1e400 and all), with the key's own algorithm. */
export async function signRaw(key: TestKey, headerText: string, payloadText: string): Promise<string> {
  const input = `${b64u(headerText)}.${b64u(payloadText)}`;
  const signature = new Uint8Array(await crypto.subtle.sign(SIGN_PARAMS[key.alg]!, key.privateKey, text.encode(input)));
  return `${input}.${b64u(signature)}`;
}

/** The usual token: typed, kid of the key, claims as JSON. */
export const signClaims = (key: TestKey, claims: object, header: object = {}) =>
  signRaw(key, JSON.stringify({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...header }), JSON.stringify(claims));

export interface Expectation {
  status?: number;
  /** The finding codes the log must show (in order). */
  codes?: string[];
  /** Key fetches this request may cause; 0 for shape and algorithm failures. */
  fetches?: number;
  /**
   * For failures after the key step: how many key fetches at most. The exact count depends on what the
   * Cache API and KV already hold from earlier requests; what matters is that nothing else is fetched.
   */
  atMostFetches?: number;
}

/**
 * Sends `token` to a route and asserts a clean refusal: never 200, never 5xx, nothing at the origin. With
 * `fetches: 0` the token must not reach the key lookup at all: no fetch, and no read of the Cache API or KV
 * either (earlier tests of a file leave the key set there, so a lookup would cost no fetch and go unseen).
 */
export async function expectRefused(kit: Kit, gateway: ReturnType<typeof newGateway>, token: string, expected: Expectation = {}): Promise<void> {
  const fetchesBefore = kit.world.fetchCount();
  const originBefore = kit.world.originRequests.length;
  const cacheSpy = vi.spyOn(caches.default, 'match');
  const kvSpy = spyKvReads();
  let response: Response;
  // Counted before the spies are restored: restoring clears their calls.
  let layerReads: { cache: number; kv: number };
  try {
    response = await send(gateway, new Request('https://gw.example/billing/x', { headers: bearer(token) }));
  } finally {
    layerReads = { cache: cacheSpy.mock.calls.length, kv: kvSpy.mock.calls.length };
    cacheSpy.mockRestore();
    kvSpy.mockRestore();
  }
  if (expected.fetches === 0) expect(layerReads).toEqual({ cache: 0, kv: 0 });
  expect(response.status).not.toBe(200);
  expect(response.status).toBeLessThan(500);
  expect(response.status).toBe(expected.status ?? 401);
  expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
  expect(kit.world.originRequests.length).toBe(originBefore);
  if (expected.fetches !== undefined) expect(kit.world.fetchCount() - fetchesBefore).toBe(expected.fetches);
  if (expected.atMostFetches !== undefined) expect(kit.world.fetchCount() - fetchesBefore).toBeLessThanOrEqual(expected.atMostFetches);
  if (expected.codes) expect(kit.logs.last().findings.map((f) => f.code)).toEqual(expected.codes);
  // Never log a token or a signature: the record holds neither.
  const signature = token.split('.')[2] ?? '';
  if (signature.length >= 16) expect(JSON.stringify(kit.logs.last())).not.toContain(signature);
}

/** Every URL fetch() was called with since the kit was set up, other than the configured JWKS and origin. */
export const unexpectedFetches = (kit: Kit): string[] => kit.world.fetched.filter((url) => url !== JWKS && new URL(url).host !== ORIGIN_HOST);
