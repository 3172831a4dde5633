/**
 * Emergency controls across isolates (docs/control.md). Two Gateway instances in one workerd test stand
 * for two isolates: each has its own memory (deny list copy, key sets, verified-token cache, reused
 * assertions) and its own clock, and both reach the one real Durable Object of wrangler.toml (DENY_LIST)
 * through the same binding, as isolates of a deployment do. Chosen over separate Miniflare processes
 * because the clocks must be injected to test the bound without waiting, and because what differs per
 * isolate is exactly what a Gateway instance holds. Changes go through the real admin endpoint.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DENY_LIST_BOUND_MS, DENY_LIST_MAX_STALE_MS, DENY_LIST_POLL_MS } from '../../src/config/constants.ts';
import type { Env } from '../../src/env.ts';
import type { Gateway } from '../../src/gateway.ts';
import { bearer, gatewayFor, send } from '../helpers/gateway.ts';
import { TestClock } from '../helpers/key-scenario.ts';
import { jwksOf, makeKey, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld, useOutsideWorld } from '../helpers/outside-world.ts';

const ADMIN = 'test-admin-credential-0123456789abcdef';
const START = Math.floor(Date.now() / 1000);
const BOUND = DENY_LIST_BOUND_MS / 1000;
let k1: TestKey;
let k2: TestKey;
let run = 0;

const policy = (n: number) => ({
  settings: { assertion: { issuer: 'https://gw.example' } },
  issuers: { [`idp${n}`]: { issuer: `https://idp${n}.example/`, jwks_uri: `https://idp${n}.example/jwks`, algorithms: ['ES256'] } },
  routes: { orders: { path: '/orders/*', issuers: [`idp${n}`], audiences: ['api'], app: 'shop', origin: 'https://origin.example' } },
});

beforeAll(async () => {
  k1 = await makeKey('ES256', 'k1');
  k2 = await makeKey('ES256', 'k2');
});
const scene = useOutsideWorld(() => new OutsideWorld().origin('origin.example'));

/** A fresh issuer (its own JWKS URL, so no cache layer of another test answers) and two isolates on their own clocks. */
function edge(options: { failOpen?: string[] } = {}) {
  const n = ++run;
  scene.world.serveJwks(`https://idp${n}.example/jwks`, jwksOf(k1, k2));
  const isolate = () => {
    const clock = new TestClock(START);
    return { clock, gateway: gatewayFor(policy(n), { allowLoopbackHttp: false, now: clock.now, denyListFailOpen: new Set(options.failOpen ?? []) }) };
  };
  const claims = (extra: object = {}) => ({ iss: `https://idp${n}.example/`, aud: 'api', sub: 'user-1', app_id: 'shop', iat: START, exp: START + 3600, jti: `t-${n}-${Math.random()}`, ...extra });
  return { n, jwks: `https://idp${n}.example/jwks`, issuerId: `idp${n}`, a: isolate(), b: isolate(), claims };
}

const get = (gateway: Gateway, token: string, bindings: Record<string, unknown> = {}) =>
  send(gateway, new Request('https://gw.example/orders/1', { headers: bearer(token) }), bindings);

async function admin(gateway: Gateway, action: string, body: object | null, credential = ADMIN): Promise<Response> {
  const init: RequestInit = body === null ? {} : { method: 'POST', body: JSON.stringify({ by: 'alice@example.com', ...body }) };
  return send(gateway, new Request(`https://gw.example/.gateway/control/${action}`, { ...init, headers: { authorization: `Bearer ${credential}` } }), { GATEWAY_ADMIN_TOKEN: ADMIN });
}

const advance = (seconds: number, ...isolates: { clock: TestClock }[]) => isolates.forEach(({ clock }) => clock.advance(seconds));

describe('a revoked jti', () => {
  it('is refused by every isolate within the bound: a token-cache hit and a reusable assertion a moment before included', async () => {
    const { a, b, claims } = edge();
    const token = await sign(k1, claims());
    const other = await sign(k1, claims());
    for (const { gateway } of [a, b]) {
      // The first request verifies the token, the second keeps its assertion, the third reuses it (docs/origin.md).
      for (let i = 0; i < 3; i++) expect((await get(gateway, token)).status).toBe(200);
      expect(scene.logs.last()).toMatchObject({ token_cache: 'hit', assertion: 'reused' });
    }
    const jti = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).jti;
    const revoked = await admin(a.gateway, 'revocations', { kind: 'jti', value: jti, reason: 'leaked in a support ticket' });
    expect(revoked.status).toBe(200);
    const record = await revoked.json<{ id: string; by: string; action: string; at: number }>();
    expect(record).toMatchObject({ by: 'alice@example.com', action: 'revoke', at: START });

    // Within the poll interval an isolate answers from its copy: the change is not there yet (the bound is real)...
    advance(DENY_LIST_POLL_MS / 1000 - 1, a, b);
    expect((await get(b.gateway, token)).status).toBe(200);
    // ...and at the bound, at the latest, it is, on the hit path, without an assertion handed on.
    advance(BOUND - (DENY_LIST_POLL_MS / 1000 - 1), a, b);
    for (const { gateway } of [a, b]) {
      const origins = scene.world.originRequests.length;
      const response = await get(gateway, token);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
      expect(scene.logs.last()).toMatchObject({ outcome: 'denied', finding: 'token_revoked', token_cache: 'hit', assertion: null });
      expect(scene.world.originRequests.length).toBe(origins);
      expect((await get(gateway, other)).status).toBe(200);
    }
  });

  it('is refused on a full verification too (an isolate that never saw the token)', async () => {
    const { a, claims } = edge();
    const token = await sign(k1, claims({ jti: `fresh-${run}` }));
    expect((await admin(a.gateway, 'revocations', { kind: 'jti', value: `fresh-${run}` })).status).toBe(200);
    advance(BOUND, a);
    expect((await get(a.gateway, token)).status).toBe(401);
    expect(scene.logs.last()).toMatchObject({ finding: 'token_revoked', token_cache: 'miss' });
  });
});

describe('the isolate\'s copy', () => {
  it('costs one ask of the store for a burst of concurrent requests past the bound, and none within the poll interval', async () => {
    const { a, claims } = edge();
    let asks = 0;
    const real = (env as Env).DENY_LIST!;
    const counting = { idFromName: (name: string) => real.idFromName(name), get: (id: DurableObjectId) => (asks++, real.get(id)) };
    const tokens = await Promise.all(Array.from({ length: 20 }, () => sign(k1, claims())));
    const burst = await Promise.all(tokens.map((t) => get(a.gateway, t, { DENY_LIST: counting })));
    expect(burst.map((r) => r.status)).toEqual(tokens.map(() => 200));
    expect(asks).toBe(1);
    advance(DENY_LIST_POLL_MS / 1000 - 1, a);
    await Promise.all(tokens.map((t) => get(a.gateway, t, { DENY_LIST: counting })));
    expect(asks).toBe(1);
  });
});

describe('issued before T', () => {
  it("ends every older token of the subject and none newer, nor another subject's", async () => {
    const { a, b, claims } = edge();
    const sub = `user-cut-${run}`;
    const older = await sign(k1, claims({ sub, iat: START - 120 }));
    const noIat = await sign(k1, claims({ sub, iat: undefined }));
    const newer = await sign(k1, claims({ sub, iat: START - 10 }));
    const someoneElse = await sign(k1, claims({ sub: `other-${run}`, iat: START - 120 }));
    for (const token of [older, newer, someoneElse]) expect((await get(b.gateway, token)).status).toBe(200);
    expect((await admin(a.gateway, 'revocations', { kind: 'sub', value: sub, issued_before: START - 60 })).status).toBe(200);
    advance(BOUND, a, b);
    for (const { gateway } of [a, b]) {
      expect((await get(gateway, older)).status).toBe(401);
      expect(scene.logs.last().finding).toBe('token_revoked');
      expect((await get(gateway, noIat)).status).toBe(401);
      expect((await get(gateway, newer)).status).toBe(200);
      expect((await get(gateway, someoneElse)).status).toBe(200);
    }
  });
});

describe('a distrusted kid', () => {
  it('is refused once the isolates learn it, and each isolate refetches its issuer once, past the cooldown and the shared layers', async () => {
    const { a, b, claims, jwks, issuerId } = edge();
    scene.world.serveJwks(jwks, jwksOf(k1));
    const leaked = await sign(k1, claims());
    for (const { gateway } of [a, b]) expect((await get(gateway, leaked)).status).toBe(200);
    const fetchedBefore = scene.world.fetchCount(jwks);
    // The issuer publishes a new key (k2) but still lists the leaked one. Without the distrust, a k2 token inside the
    // 30 s cooldown is refused (kid_unknown) and the k1 token keeps verifying until the cached set expires.
    scene.world.serveJwks(jwks, jwksOf(k1, k2));
    const rotated = await sign(k2, claims());
    expect((await admin(a.gateway, 'distrust', { issuer: issuerId, kid: 'k1', reason: 'key leaked' })).status).toBe(200);
    advance(BOUND, a, b);
    for (const { gateway } of [a, b]) {
      // The first request after the isolate learns it: the set is fetched from the issuer again, and k1 refused.
      expect((await get(gateway, leaked)).status).toBe(401);
      expect(scene.logs.last()).toMatchObject({ finding: 'token_revoked', key_layer: 'network' });
      expect((await get(gateway, rotated)).status).toBe(200);
      expect(scene.logs.last().key_layer).toBe('memory');
    }
    expect(scene.world.fetchCount(jwks) - fetchedBefore).toBe(2); // one per isolate, not one per request
  });
});

describe('the store unreachable', () => {
  /** The real namespace, or, while `down`, one whose calls fail as an unreachable Durable Object's do. */
  const flaky = () => {
    const state = { down: false };
    const namespace = {
      idFromName: (name: string) => (env as Env).DENY_LIST!.idFromName(name),
      get: (id: DurableObjectId) =>
        state.down ? { fetch: () => Promise.reject(new Error('Durable Object is overloaded')) } : (env as Env).DENY_LIST!.get(id),
    };
    return { state, bindings: { DENY_LIST: namespace } };
  };

  it('serves with the last list up to its bound, says so, then fails closed (503 keys_unavailable)', async () => {
    const { a, claims } = edge();
    const { state, bindings } = flaky();
    const token = await sign(k1, claims());
    const revokedToken = await sign(k1, claims({ jti: `gone-${run}` }));
    expect((await admin(a.gateway, 'revocations', { kind: 'jti', value: `gone-${run}` })).status).toBe(200);
    expect((await get(a.gateway, token, bindings)).status).toBe(200);
    const warns = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      state.down = true;
      advance(BOUND, a);
      expect((await get(a.gateway, token, bindings)).status).toBe(200);
      expect((await get(a.gateway, revokedToken, bindings)).status).toBe(401);
      expect(warns.mock.calls.map(([line]) => JSON.parse(line as string).event)).toContain('deny_list_unreachable');
      advance(DENY_LIST_MAX_STALE_MS / 1000 - BOUND + 1, a);
      const closed = await get(a.gateway, token, bindings);
      expect(closed.status).toBe(503);
      expect(closed.headers.get('retry-after')).toBe('30');
      expect(scene.logs.last().findings).toMatchObject([{ code: 'keys_unavailable', detail: 'deny list unreachable past its bound (fail closed)' }]);
      // Back: the next ask (at most DENY_LIST_RETRY_MS later) restores service.
      state.down = false;
      advance(1, a);
      expect((await get(a.gateway, token, bindings)).status).toBe(200);
    } finally {
      warns.mockRestore();
    }
  });

  it('the admin endpoint says 503 when the store does not answer, never 500', async () => {
    const { a } = edge();
    const { state, bindings } = flaky();
    state.down = true;
    const response = await send(
      a.gateway,
      new Request('https://gw.example/.gateway/control/revocations', { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ kind: 'jti', value: 'x', by: 'alice' }) }),
      { ...bindings, GATEWAY_ADMIN_TOKEN: ADMIN },
    );
    expect(response.status).toBe(503);
    expect(scene.logs.last().error).toContain('deny list store unreachable');
  });

  it('a cold isolate that never had a list: fail closed, or open for an issuer named in DENY_LIST_FAIL_OPEN', async () => {
    const closed = edge();
    const { state, bindings } = flaky();
    state.down = true;
    const warns = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      expect((await get(closed.a.gateway, await sign(k1, closed.claims()), bindings)).status).toBe(503);
      const open = edge({ failOpen: [`idp${run + 1}`] }); // the issuer edge() is about to make
      expect((await get(open.a.gateway, await sign(k1, open.claims()), bindings)).status).toBe(200);
    } finally {
      warns.mockRestore();
    }
  });
});

describe('the admin endpoint', () => {
  it('does not exist without GATEWAY_ADMIN_TOKEN: the path is an ordinary one (no route: 404)', async () => {
    const { a } = edge();
    const response = await send(a.gateway, new Request('https://gw.example/.gateway/control/revocations', { headers: { authorization: `Bearer ${ADMIN}` } }));
    expect(response.status).toBe(404);
    expect(scene.logs.last().finding).toBe('route_not_found');
  });

  it('refuses a wrong or missing credential and a user token, and bad input with 400', async () => {
    const { a, claims } = edge();
    expect((await admin(a.gateway, 'revocations', null, 'wrong')).status).toBe(401);
    expect((await admin(a.gateway, 'revocations', null, await sign(k1, claims()))).status).toBe(401);
    expect((await send(a.gateway, new Request('https://gw.example/.gateway/control/revocations'), { GATEWAY_ADMIN_TOKEN: ADMIN })).status).toBe(401);
    expect((await admin(a.gateway, 'revocations', { kind: 'kid', value: 'k1' })).status).toBe(400);
    expect((await admin(a.gateway, 'revocations', { kind: 'jti', value: 'x', issuer: 'nope' })).status).toBe(400);
    expect((await admin(a.gateway, 'revocations', { kind: 'jti', value: 'x', ttl_seconds: 0 })).status).toBe(400);
  });

  it('lists entries and the change log (who, what, when); a lifted entry stops refusing', async () => {
    const { a, claims } = edge();
    const token = await sign(k1, claims({ jti: `lift-${run}` }));
    const added = await (await admin(a.gateway, 'revocations', { kind: 'jti', value: `lift-${run}` })).json<{ entry: { id: string } }>();
    const listing = await (await admin(a.gateway, 'revocations', null)).json<{ entries: { id: string }[]; log: { by: string; action: string; at: number }[] }>();
    expect(listing.entries.map((e) => e.id)).toContain(added.entry.id);
    expect(listing.log.at(-1)).toMatchObject({ by: 'alice@example.com', action: 'revoke', at: START });
    advance(BOUND, a);
    expect((await get(a.gateway, token)).status).toBe(401);
    expect((await admin(a.gateway, 'lift', { id: added.entry.id })).status).toBe(200);
    advance(BOUND, a);
    expect((await get(a.gateway, token)).status).toBe(200);
  });
});

describe('without the DENY_LIST binding', () => {
  it('works as before: nothing revoked, no store asked', async () => {
    const { a, claims } = edge();
    const response = await get(a.gateway, await sign(k1, claims()), { DENY_LIST: undefined });
    expect(scene.logs.last().findings).toEqual([]);
    expect(response.status).toBe(200);
  });
});
