/**
 * Under faults, answer fast: a bounded wait for a peer's load, a bounded number of waiters, a circuit breaker
 * after a failed look, and refresh ahead at the shortest lifetime the schema allows. The clock the gateway
 * reads is the scenario's; order is asserted, never time: "before the hanging fetch was aborted" means within
 * the 5 s fetch timeout, which the 1 s wait bound is well inside.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { Env as AppEnv } from '../../src/env.ts';
import type { Gateway } from '../../src/gateway.ts';
import { KeyStore, type KeyStoreOptions } from '../../src/keys/key-store.ts';
import { bearer, compileOrThrow, gatewayFor } from '../helpers/gateway.ts';
import { KeyScenario, useKeyScenario } from '../helpers/key-scenario.ts';
import { jwksOf } from '../helpers/keys.ts';

const t = useKeyScenario();

/** One request whose answer is seen as soon as it is given; `background` is its waitUntil work (a probe may go on there). */
async function answer(token: Promise<string>, gateway: Gateway = t.s.gateway) {
  const ctx = createExecutionContext();
  const response = await gateway.handle(new Request('https://gw.example/x', { headers: bearer(await token) }), env as unknown as AppEnv, ctx);
  return { response, background: waitOnExecutionContext(ctx) };
}

/** An issuer that never answers and says when the gateway's timeout aborted the fetch. */
function hangingIssuer(scenario: KeyScenario) {
  const state = { aborted: false };
  scenario.world.serve(
    scenario.jwksUrl,
    (request) =>
      new Promise<Response>((_resolve, reject) => {
        request.signal.addEventListener('abort', () => {
          state.aborted = true;
          reject(request.signal.reason as Error);
        });
      }),
  );
  return state;
}

/** A KeyStore of its own, as an isolate has, asked for the scenario's k1 by one request at a time. */
function storeOf(options: Partial<KeyStoreOptions>) {
  const store = new KeyStore({ allowLoopbackHttp: false, ...options });
  const issuer = compileOrThrow(JSON.stringify(t.s.policy)).issuers[t.s.id]!;
  const resolve = () => Promise.resolve(store.forRequest(env as unknown as AppEnv, createExecutionContext()).resolve(issuer, 'k1', 'RS256', t.s.clock.seconds));
  const cron = async () => {
    const ctx = createExecutionContext();
    const reports = await store.refreshAll([issuer], env as unknown as AppEnv, ctx, t.s.clock.seconds);
    await waitOnExecutionContext(ctx);
    return reports;
  };
  return { resolve, cron };
}

const keysAnswer = () => Response.json(jwksOf(t.s.key), { headers: { 'cache-control': 'max-age=300' } });

const expectKeysUnavailable = (response: Response) => {
  expect(response.status).toBe(503);
  expect(response.headers.get('retry-after')).toBe('30');
};

describe('fail fast when keys cannot be had', () => {
  it('while a cold load hangs, the other requests wait at most the bound, then 503 + Retry-After; one fetch', { timeout: 20_000 }, async () => {
    const issuer = hangingIssuer(t.s);
    const leader = answer(t.s.token());
    await t.s.untilFetched(1);
    const others = await Promise.all(Array.from({ length: 5 }, () => answer(t.s.token())));
    expect(issuer.aborted).toBe(false); // answered while the leader's fetch still hung
    for (const { response } of others) expectKeysUnavailable(response);
    await Promise.all(others.map((o) => o.background)); // their records are written after the answer
    expect(t.logs.records.map((r) => r.findings[0]?.code)).toEqual(Array(5).fill('keys_unavailable'));
    for (const record of t.logs.records) expect(record.findings[0]).toMatchObject({ detail: expect.stringContaining('another request is loading it') });
    expectKeysUnavailable((await leader).response); // the leader, a cold start, waited for its own fetch's timeout
    expect(issuer.aborted).toBe(true);
    expect(t.s.fetches()).toBe(1);
  });

  it('a request with no key to look for (a public route, a malformed token) never waits for keys', { timeout: 20_000 }, async () => {
    const scenario = await KeyScenario.create({});
    const policy = scenario.policy as { routes: Record<string, object> };
    policy.routes = { open: { path: '/public/*', mode: 'public', origin: 'https://origin.example' }, ...policy.routes };
    try {
      // A wait for the leader's load would last until its fetch is aborted: answered before that, neither waited.
      const gateway = gatewayFor(policy, { allowLoopbackHttp: false, now: scenario.clock.now, peerWaitMs: 60_000 });
      const issuer = hangingIssuer(scenario);
      const leader = answer(scenario.token(), gateway);
      await scenario.untilFetched(1);
      const ctx = createExecutionContext();
      const open = await gateway.handle(new Request('https://gw.example/public/x'), env as unknown as AppEnv, ctx);
      const malformed = await answer(Promise.resolve('not.a-token'), gateway);
      expect(issuer.aborted).toBe(false);
      expect(open.status).toBe(200);
      expect(malformed.response.status).toBe(401);
      await (await leader).background;
    } finally {
      scenario.restore();
    }
  });
});

describe('waiters are bounded', () => {
  it(`beyond the cap, a request that would wait for a peer's load is refused at once; the waiters get the keys`, async () => {
    const issuer = t.s.world.hold(t.s.jwksUrl);
    const { resolve } = storeOf({ peerWaitMs: 60_000, maxWaitersPerIssuer: 3 });
    const leader = resolve();
    await t.s.untilFetched(1);
    let settled = 0;
    const waiters = Array.from({ length: 3 }, () => resolve().finally(() => settled++));
    const refused = await resolve();
    expect(refused).toMatchObject({ ok: false, finding: { code: 'keys_unavailable' } });
    expect(settled).toBe(0); // refused while the three waiters still waited
    issuer.answer(keysAnswer());
    expect(await leader).toMatchObject({ ok: true, layer: 'network' });
    for (const waiter of await Promise.all(waiters)) expect(waiter).toMatchObject({ ok: true, layer: 'memory' });
    expect(t.s.fetches()).toBe(1);
  });

  it("a load that ends while another is under way leaves the issuer busy: the cron's failed look does not end a request's wait for the held one", async () => {
    const issuer = t.s.world.hold(t.s.jwksUrl);
    const { resolve, cron } = storeOf({ peerWaitMs: 60_000 });
    const leader = resolve(); // a cold load: its look hangs
    await t.s.untilFetched(1);
    let settled = false;
    const waiter = resolve().finally(() => (settled = true)); // polls memory while the leader loads
    t.s.world.serve(t.s.jwksUrl, () => new Response('down', { status: 500 }));
    expect(await cron()).toEqual([{ issuer: t.s.id, ok: false, expiresAt: null }]); // started after the leader's look, ended before it
    await new Promise((resolve) => setTimeout(resolve, 100)); // five polls
    expect(settled).toBe(false); // still waiting: the leader's look is under way
    issuer.answer(keysAnswer());
    expect(await leader).toMatchObject({ ok: true, layer: 'network' });
    expect(await waiter).toMatchObject({ ok: true, layer: 'memory' });
    expect(t.s.fetches()).toBe(2);
  });
});

describe('circuit breaker', () => {
  it('opens after a failed look (no fetch, no wait for the cooldown), probes once with a bounded wait, closes when the issuer answers', { timeout: 30_000 }, async () => {
    const strict = await KeyScenario.create({ issuer: { key_cache: { stale_if_error_seconds: 0 } } });
    try {
      const call = (token = strict.token()) => answer(token, strict.gateway);
      expect((await call()).response.status).toBe(200);
      strict.world.serve(strict.jwksUrl, () => new Response('down', { status: 500 }));
      strict.clock.advance(301); // expired, no stale window: the next look decides
      expectKeysUnavailable((await call()).response);
      expect(strict.fetches()).toBe(2);

      // Open: for the cooldown nobody looks.
      strict.clock.advance(10);
      const open = await Promise.all(Array.from({ length: 5 }, () => call()));
      for (const { response } of open) expectKeysUnavailable(response);
      await Promise.all(open.map((o) => o.background));
      expect(t.logs.last().findings[0]).toMatchObject({ detail: expect.stringContaining('issuer down: a look failed within the cooldown') });
      expect(strict.fetches()).toBe(2);

      // Half-open: one request probes a hanging issuer, answers 503 without waiting for the fetch's timeout, and
      // the requests meanwhile answer at once.
      const issuer = hangingIssuer(strict);
      strict.clock.advance(21);
      let probeAnswered = false;
      const probe = call().finally(() => (probeAnswered = true));
      await strict.untilFetched(3);
      const during = await Promise.all(Array.from({ length: 5 }, () => call()));
      expect(probeAnswered).toBe(false); // at once: a wait for the probe would end with its bound, after the probe's own
      const probed = await probe;
      expect(issuer.aborted).toBe(false);
      expectKeysUnavailable(probed.response);
      for (const { response } of during) expectKeysUnavailable(response);
      expect(strict.fetches()).toBe(3);
      await probed.background; // the probe's fetch times out in the background: open again
      expect(issuer.aborted).toBe(true);
      strict.clock.advance(10);
      expectKeysUnavailable((await call()).response);
      expect(strict.fetches()).toBe(3);

      // Closed: the issuer is back, the next probe after the cooldown brings the keys.
      strict.serveKeys([strict.key]);
      strict.clock.advance(21);
      const back = await call();
      expect(back.response.status).toBe(200);
      await back.background;
      expect(t.logs.last().key_layer).toBe('network');
      const warm = await call();
      expect(warm.response.status).toBe(200);
      await warm.background;
      expect(t.logs.last().key_layer).toBe('memory');
      expect(strict.fetches()).toBe(4);
    } finally {
      strict.restore();
    }
  });
});

describe('refresh ahead at the shortest lifetime (30 s, the schema minimum)', () => {
  const shortest = { issuer: { key_cache: { min_seconds: 30, max_seconds: 30 } } };

  it('refreshes every set at 80% of its lifetime in the background: no request waits for an expiry', async () => {
    const s = await KeyScenario.create(shortest);
    try {
      expect((await s.call(s.token())).status).toBe(200);
      for (let cycle = 1; cycle <= 3; cycle++) {
        s.clock.advance(24); // 80% of 30 s: served from memory, the refresh runs after the answer
        expect((await s.call(s.token())).status).toBe(200);
        expect(t.logs.last().key_layer).toBe('memory');
        expect(s.fetches()).toBe(1 + cycle);
        s.clock.advance(1); // a second request at the same point starts no second refresh
        await s.call(s.token());
        expect(s.fetches()).toBe(1 + cycle);
      }
      s.clock.advance(6); // past the previous set's expiry, inside the refreshed one: still memory, no fetch
      expect((await s.call(s.token())).status).toBe(200);
      expect(t.logs.last().key_layer).toBe('memory');
      expect(s.fetches()).toBe(4);
    } finally {
      s.restore();
    }
  });

  it('a failed refresh ahead opens the breaker: no retry until the cooldown, the set serves stale meanwhile', async () => {
    const s = await KeyScenario.create(shortest);
    try {
      await s.call(s.token());
      s.world.serve(s.jwksUrl, () => new Response('down', { status: 500 }));
      s.clock.advance(24);
      expect((await s.call(s.token())).status).toBe(200);
      expect(s.fetches()).toBe(2);
      s.clock.advance(7); // expired: stale, and no look within the cooldown of the failed refresh
      expect((await s.call(s.token())).status).toBe(200);
      expect(t.logs.last().key_layer).toBe('stale');
      expect(s.fetches()).toBe(2);
      s.serveKeys([s.key], 30);
      s.clock.advance(23); // 30 s after the failed refresh: the next look
      expect((await s.call(s.token())).status).toBe(200);
      expect(s.fetches()).toBe(3);
      expect(t.logs.last().key_layer).toBe('network');
    } finally {
      s.restore();
    }
  });
});
