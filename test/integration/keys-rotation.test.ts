/** Rotation, the unknown-kid cooldown and what an attacker's tokens can cost: fetches are bounded per issuer. */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { base64UrlEncode } from '../../src/token/base64url.ts';
import { spyKvReads, useKeyScenario } from '../helpers/key-scenario.ts';
import { jwksOf, makeKey, type TestKey } from '../helpers/keys.ts';

const t = useKeyScenario();

/** A signed token with another header (and, when given, another signature): what an attacker sends to make the gateway look for keys. */
async function reheaded(header: { alg: string; kid: string }, signature?: string): Promise<string> {
  const [, payload, original] = (await t.s.token()).split('.');
  return `${base64UrlEncode(new TextEncoder().encode(JSON.stringify(header)))}.${payload}.${signature ?? original}`;
}

/** The scenario's token, its header naming another kid. */
const withKid = (kid: string): Promise<string> => reheaded({ alg: 'RS256', kid });

async function sendAll(tokens: string[]): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < tokens.length; i += 100) statuses.push(...(await Promise.all(tokens.slice(i, i + 100).map((token) => t.s.call(token)))).map((r) => r.status));
  return statuses;
}

describe('rotation', () => {
  let k2: TestKey;
  beforeEach(async () => {
    k2 = await makeKey('RS256', 'k2');
  });

  it('accepts a new kid after at most one refresh, and stops accepting a retired key once the cached set expires', async () => {
    expect((await t.s.call(t.s.token())).status).toBe(200);
    t.s.serveKeys([t.s.key, k2]);
    t.s.clock.advance(31); // past the cooldown of the first fetch
    expect((await t.s.call(t.s.token(k2))).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('network');
    expect(t.s.fetches()).toBe(2);

    t.s.serveKeys([k2]); // k1 retired at the issuer
    expect((await t.s.call(t.s.token(t.s.key))).status).toBe(200); // the cached set still holds it
    expect(t.logs.last().key_layer).toBe('memory');
    t.s.clock.advance(301); // the set fetched at +31 s has expired
    expect((await t.s.call(t.s.token(k2))).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('network');
    const retired = await t.s.call(t.s.token(t.s.key));
    expect(retired.status).toBe(401);
    expect(t.logs.last().findings).toEqual([{ code: 'kid_unknown', actual: 'k1' }]);
    expect(t.s.fetches()).toBe(3);
  });

  it('a new kid within the cooldown of the last fetch is refused without a fetch, and accepted after it', async () => {
    await t.s.call(t.s.token());
    t.s.serveKeys([t.s.key, k2]);
    t.s.clock.advance(10);
    expect((await t.s.call(t.s.token(k2))).status).toBe(401);
    expect(t.s.fetches()).toBe(1);
    // Refused by the cooldown alone, the kid is not remembered as unknown: once the cooldown is over it gets its look.
    t.s.clock.advance(21);
    expect((await t.s.call(t.s.token(k2))).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('network');
    expect(t.s.fetches()).toBe(2);
  });

  it('a new kid whose look failed (500) is not remembered: it gets its look when the cooldown ends', async () => {
    await t.s.call(t.s.token());
    t.s.world.serve(t.s.jwksUrl, () => new Response('oops', { status: 500 }));
    t.s.clock.advance(31);
    expect((await t.s.call(t.s.token(k2))).status).toBe(401);
    expect(t.s.fetches()).toBe(2);
    // That look found nothing missing: it found nothing. The kid is looked for again once the cooldown is over.
    t.s.serveKeys([t.s.key, k2]);
    t.s.clock.advance(31);
    expect((await t.s.call(t.s.token(k2))).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('network');
    expect(t.s.fetches()).toBe(3);
  });

  it('a new kid whose probe was still under way when its request stopped waiting, then failed, is not remembered', { timeout: 20_000 }, async () => {
    await t.s.call(t.s.token());
    t.s.world.serve(t.s.jwksUrl, () => new Response('oops', { status: 500 }));
    t.s.clock.advance(31);
    expect((await t.s.call(t.s.token(await makeKey('RS256', 'ghost')))).status).toBe(401); // the breaker opens
    t.s.world.hang(t.s.jwksUrl);
    t.s.clock.advance(31);
    // The breaker is half-open: this request probes, waits for it 1 s and answers; the probe times out after.
    expect((await t.s.call(t.s.token(k2))).status).toBe(401);
    expect(t.s.fetches()).toBe(3);
    t.s.serveKeys([t.s.key, k2]);
    t.s.clock.advance(31);
    expect((await t.s.call(t.s.token(k2))).status).toBe(200);
    expect(t.s.fetches()).toBe(4);
  });

  it('a new kid that waited on a look started before its request (the cron) is not remembered when that set lacks it', async () => {
    await t.s.call(t.s.token());
    const { answer } = t.s.world.hold(t.s.jwksUrl);
    t.s.clock.advance(31);
    const ctx = createExecutionContext();
    const cron = t.s.gateway.refreshKeys(env, ctx); // its fetch hangs: the issuer is busy in this isolate
    await t.s.untilFetched(2);
    // In the same second as the cron's look began: only the order of the two tells that the look came first.
    let settled = false;
    const waiting = t.s.call(t.s.token(k2)).finally(() => (settled = true)); // k2 is published now
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(settled).toBe(false); // it waits on the cron's look
    answer(Response.json(jwksOf(t.s.key), { headers: { 'cache-control': 'public, max-age=300' } })); // fetched before k2
    await cron;
    await waitOnExecutionContext(ctx);
    expect((await waiting).status).toBe(401);
    t.s.serveKeys([t.s.key, k2]);
    t.s.clock.advance(30); // the cooldown is over: k2 gets its look
    expect((await t.s.call(t.s.token(k2))).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('network');
    expect(t.s.fetches()).toBe(3);
  });
});

describe('unknown kids', () => {
  it('1,000 tokens with random unknown kids within one cooldown cost at most one fetch and one KV read', { timeout: 60_000 }, async () => {
    await t.s.call(t.s.token());
    t.s.clock.advance(31);
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => withKid(crypto.randomUUID())));
    const kvReads = spyKvReads();
    const statuses = await sendAll(tokens);
    expect(new Set(statuses)).toEqual(new Set([401]));
    expect(t.s.fetches()).toBe(2);
    expect(kvReads.mock.calls.length).toBeLessThanOrEqual(1);
    expect(t.logs.records.slice(-1000).every((r) => r.findings[0]?.code === 'kid_unknown')).toBe(true);
    // The real key still verifies from memory all along.
    expect((await t.s.call(t.s.token())).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('memory');
  });

  it('the same while the issuer answers 500: one fetch and one KV read per cooldown, and the known key keeps working', { timeout: 60_000 }, async () => {
    await t.s.call(t.s.token());
    t.s.world.serve(t.s.jwksUrl, () => new Response('oops', { status: 500 }));
    const kvReads = spyKvReads();
    for (let round = 1; round <= 2; round++) {
      t.s.clock.advance(31);
      const statuses = await sendAll(await Promise.all(Array.from({ length: 1000 }, () => withKid(crypto.randomUUID()))));
      expect(new Set(statuses)).toEqual(new Set([401]));
      expect(t.s.fetches()).toBe(1 + round);
      expect(kvReads.mock.calls).toHaveLength(round); // the one look reads KV once (the Cache API holds no newer set)
    }
    expect((await t.s.call(t.s.token())).status).toBe(200);
  });

  it('remembers an unknown kid: the same kid does not refresh again for the same key set, a new one may', async () => {
    await t.s.call(t.s.token());
    t.s.clock.advance(31);
    expect((await t.s.call(withKid('ghost'))).status).toBe(401);
    expect(t.s.fetches()).toBe(2);
    t.s.clock.advance(31);
    expect((await t.s.call(withKid('ghost'))).status).toBe(401);
    expect(t.s.fetches()).toBe(2);
    expect((await t.s.call(withKid('other'))).status).toBe(401);
    expect(t.s.fetches()).toBe(3);
  });
});

describe('tokens refused before the key step', () => {
  it.each([
    ['not a JWT', 'abc.def'],
    ['alg none', `${base64UrlEncode(new TextEncoder().encode('{"alg":"none","kid":"x"}'))}.e30.`],
  ])('%s costs no fetch and no KV read', async (_name, token) => {
    const kvReads = spyKvReads();
    const response = await t.s.call(token);
    expect(response.status).toBe(401);
    expect(t.s.fetches()).toBe(0);
    expect(kvReads).not.toHaveBeenCalled();
  });

  it('a known kid whose key does not fit the token\'s alg (an RSA kid under ES256, both allowed) is refused from memory, even past the cooldown', async () => {
    expect((await t.s.call(t.s.token())).status).toBe(200);
    expect(t.s.fetches()).toBe(1);
    t.s.clock.advance(31);
    const token = await reheaded({ alg: 'ES256', kid: 'k1' }, base64UrlEncode(new Uint8Array(64)));
    const kvReads = spyKvReads();
    const cacheReads = vi.spyOn(caches.default, 'match');
    const response = await t.s.call(token);
    expect(response.status).toBe(401);
    expect(t.logs.last().findings[0]).toMatchObject({ code: 'kid_unknown', actual: 'k1' });
    expect(t.s.fetches()).toBe(1);
    expect(kvReads).not.toHaveBeenCalled();
    expect(cacheReads).not.toHaveBeenCalled();
  });

  it('an algorithm outside the issuer policy (PS256) costs no fetch', async () => {
    const ps = await makeKey('PS256', 'k1');
    expect((await t.s.call(t.s.token(ps))).status).toBe(401);
    expect(t.logs.last().findings[0]).toMatchObject({ code: 'alg_not_allowed' });
    expect(t.s.fetches()).toBe(0);
  });
});
