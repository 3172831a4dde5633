/**
 * Rate limits by verified identity through the Workers Rate Limiting binding of wrangler.toml
 * (GATEWAY_RATE_LIMIT: 100 per 60 s), run by miniflare's local implementation. A burst over the limit gives
 * 429s to that identity only; another identity is unaffected; requests whose token fails (even one claiming
 * the same sub) never spend its budget; report-only logs without refusing.
 */
import { env } from 'cloudflare:test';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Env } from '../../src/env.ts';
import { bearer, gatewayFor, send } from '../helpers/gateway.ts';
import { jwksOf, makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';
import { RecordCapture } from '../helpers/records.ts';

const ISS = 'https://id.example/';
const JWKS = 'https://id.example/jwks';
/** wrangler.toml's GATEWAY_RATE_LIMIT: simple = { limit = 100, period = 60 }. */
const LIMIT = 100;

let key: TestKey;
let world: OutsideWorld;
let logs: RecordCapture;
let gateway: ReturnType<typeof gatewayFor>;
let run = 0;
/** Budgets are wall-clock windows in the limiter's own storage: fresh identities per file run. */
const RUN = crypto.randomUUID().slice(0, 8);

const route = (extra: object) => ({ issuers: ['idp'], audiences: ['api'], origin: 'https://origin.example', ...extra });
const token = (sub: string, extra: object = {}) => sign(key, { iss: ISS, aud: 'api', sub, iat: nowSeconds(), exp: nowSeconds() + 300, ...extra });
const get = async (path: string, headers: HeadersInit = {}) => (await send(gateway, new Request(`https://gw.example${path}`, { headers }))).status;

beforeAll(async () => {
  key = await makeKey('ES256', 'k1');
  world = new OutsideWorld().serveJwks(JWKS, jwksOf(key)).origin('origin.example').install();
  logs = new RecordCapture();
  gateway = gatewayFor({
    issuers: { idp: { issuer: ISS, jwks_uri: JWKS, algorithms: ['ES256'] } },
    routes: {
      limited: route({ path: '/limited/*', rate_limit: { binding: 'GATEWAY_RATE_LIMIT' } }),
      watched: route({ path: '/watched/*', rate_limit: { binding: 'GATEWAY_RATE_LIMIT', mode: 'report-only' } }),
      'by-tenant': route({ path: '/tenant/*', rate_limit: { binding: 'GATEWAY_RATE_LIMIT', key: ['tid'], period_seconds: 60 } }),
      misnamed: route({ path: '/misnamed/*', rate_limit: { binding: 'NO_SUCH_BINDING' } }),
    },
  });
});
beforeEach(async () => {
  run++;
  // The local limiter's windows are aligned to the wall clock: start a burst early in one, so it never straddles two.
  const intoWindow = Date.now() % 60_000;
  if (intoWindow > 40_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoWindow + 100));
}, 30_000);
afterAll(() => {
  world.restore();
  logs.restore();
});

describe('rate limits by verified identity', () => {
  it('the binding is declared in wrangler.toml and runs locally', () => {
    expect(typeof (env as unknown as Env).GATEWAY_RATE_LIMIT?.limit).toBe('function');
  });

  it('a burst over the limit: 429s for that identity only', async () => {
    const noisy = await token(`noisy-${RUN}-${run}`);
    const quiet = await token(`quiet-${RUN}-${run}`);
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 5; i++) statuses.push(await get('/limited/x', bearer(noisy)));
    expect(statuses.slice(0, LIMIT).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(LIMIT)).toEqual([429, 429, 429, 429, 429]);
    const response = await send(gateway, new Request('https://gw.example/limited/x', { headers: bearer(noisy) }));
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('60');
    expect(response.headers.has('www-authenticate')).toBe(false);
    expect(await response.json()).toMatchObject({ error: 'too_many_requests', error_description: 'Too many requests; retry later.' });
    expect(logs.last()).toMatchObject({ outcome: 'denied', status: 429, sub: `noisy-${RUN}-${run}`, findings: [{ code: 'rate_limited', detail: 'GATEWAY_RATE_LIMIT' }] });
    // Another identity, same route: unaffected.
    expect(await get('/limited/x', bearer(quiet))).toBe(200);
    // The same identity on another route has a budget of its own.
    expect(await get('/watched/x', bearer(noisy))).toBe(200);
  });

  it('refused and unauthenticated requests never spend an identity\'s budget', async () => {
    const victim = `victim-${RUN}-${run}`;
    const forged = await token(victim, { aud: 'other-api' });
    const expired = await token(victim, { iat: nowSeconds() - 1000, exp: nowSeconds() - 500 });
    for (let i = 0; i < LIMIT + 5; i++) {
      expect(await get('/limited/x', i % 3 === 0 ? bearer(forged) : i % 3 === 1 ? bearer(expired) : {})).toBe(401);
    }
    expect(await get('/limited/x', bearer(await token(victim)))).toBe(200);
  });

  it('report-only logs rate_limited and forwards', async () => {
    const noisy = await token(`watched-${RUN}-${run}`);
    for (let i = 0; i < LIMIT; i++) await get('/watched/x', bearer(noisy));
    expect(await get('/watched/x', bearer(noisy))).toBe(200);
    expect(logs.last()).toMatchObject({ outcome: 'allowed', status: 200, findings: [{ code: 'rate_limited' }] });
  });

  it('a budget keyed by tenant is shared by that tenant\'s users, and theirs only', async () => {
    const tenant = `t-${RUN}-${run}`;
    for (let i = 0; i < LIMIT; i++) expect(await get('/tenant/x', bearer(await token(`user-${i}`, { tid: tenant })))).toBe(200);
    expect(await get('/tenant/x', bearer(await token('another-user', { tid: tenant })))).toBe(429);
    expect(await get('/tenant/x', bearer(await token('another-user', { tid: `other-${RUN}-${run}` })))).toBe(200);
  });

  it('a binding that is not configured fails closed with a 500, never unlimited', async () => {
    expect(await get('/misnamed/x', bearer(await token(`u-${RUN}-${run}`)))).toBe(500);
    expect(logs.last().error).toBe('rate limit binding NO_SUCH_BINDING is not configured');
    // No budget is checked for a token that fails: that answer is the usual 401.
    expect(await get('/misnamed/x')).toBe(401);
  });
});
