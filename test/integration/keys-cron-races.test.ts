/**
 * Looks of one isolate that overlap its cron: whatever order they end in, a fresh set the cron brought answers
 * as `memory` (never `stale`, never a needless fetch), and an older look's late answer never replaces a newer
 * set, in memory or in the shared layers (docs/keys.md). The clock is the scenario's.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import type { Env as AppEnv } from '../../src/env.ts';
import { bearer } from '../helpers/gateway.ts';
import { heldCacheReads, kv, useKeyScenario } from '../helpers/key-scenario.ts';
import { jwksOf, makeKey, type TestKey } from '../helpers/keys.ts';

const t = useKeyScenario();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const keysOf = (...keys: TestKey[]) => Response.json(jwksOf(...keys), { headers: { 'cache-control': 'max-age=300' } });

describe('a request waiting on a peer while the cron brings a fresh set', () => {
  it('a cold waiter is answered from memory, not as stale, before the held look ends', async () => {
    t.s.gateway = t.s.newIsolate(60_000); // the wait ends with the set in memory, never with the clock
    const { answer } = t.s.world.hold(t.s.jwksUrl);
    const first = t.s.call(t.s.token()); // a cold look: it hangs
    await t.s.untilFetched(1);
    const waiter = t.s.call(t.s.token()); // polls memory while the first loads
    await sleep(50);
    t.s.serveKeys([t.s.key]);
    await t.s.cron();
    expect((await waiter).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('memory');
    answer(keysOf(t.s.key));
    expect((await first).status).toBe(200);
  });

  it('a waiter for a new kid is served the key the cron brought (200 memory, not 401), before the held look ends', async () => {
    t.s.gateway = t.s.newIsolate(60_000);
    expect((await t.s.call(t.s.token())).status).toBe(200);
    t.s.clock.advance(31);
    const rotated = await makeKey('RS256', 'k2');
    const { answer } = t.s.world.hold(t.s.jwksUrl);
    const leader = t.s.call(t.s.token(rotated)); // its look for k2 hangs
    await t.s.untilFetched(2);
    const waiter = t.s.call(t.s.token(rotated));
    await sleep(50);
    t.s.serveKeys([t.s.key, rotated]);
    await t.s.cron();
    expect((await waiter).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('memory');
    answer(new Response('down', { status: 500 }));
    expect((await leader).status).toBe(200);
    expect(t.s.fetches()).toBe(3);
  });
});

describe("a probe whose wait ends while its look is under way, after the cron's", () => {
  it('is answered with the fresh set from memory, not as stale', async () => {
    // The probe waits for its own look 2.5 s, not the default 1 s: the cron must land first even on a loaded machine.
    t.s.gateway = t.s.newIsolate(2_500);
    expect((await t.s.call(t.s.token())).status).toBe(200);
    t.s.clock.advance(301); // expired, inside the stale window: a request probes, waiting for its look at most the bound
    const { answer } = t.s.world.hold(t.s.jwksUrl);
    const ctx = createExecutionContext();
    const probe = t.s.gateway.handle(new Request('https://gw.example/x', { headers: bearer(await t.s.token()) }), env as unknown as AppEnv, ctx);
    await t.s.untilFetched(2);
    t.s.serveKeys([t.s.key]);
    await t.s.cron();
    expect((await probe).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('memory');
    answer(new Response('down', { status: 500 }));
    await waitOnExecutionContext(ctx);
  });
});

describe('a look during whose shared-layer reads the cron brings a set', () => {
  const entriesBefore = {
    'nothing (a cold data centre)': null,
    "the mark of another isolate's look within the cooldown": () => t.s.markAlone(t.s.clock.seconds - 5),
  };
  it.each(Object.entries(entriesBefore))('answers with that set from memory and fetches nothing itself; the Cache API held %s', async (_name, entry) => {
    if (entry) await t.s.putInCache(entry());
    const read = heldCacheReads();
    const first = t.s.call(t.s.token()); // a cold look: its Cache API read is held
    while (!read.answered) await sleep(5);
    await t.s.cron(); // the cron of a cold isolate reads no Cache API entry
    read.release();
    expect((await first).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('memory');
    expect(t.s.fetches()).toBe(1); // the cron's
  });
});

describe('a look that started earlier and succeeds later', () => {
  it('answers with its own set, but memory and the stored entries keep the newer set of a later look', async () => {
    const { answer } = t.s.world.hold(t.s.jwksUrl);
    const first = t.s.call(t.s.token()); // an earlier look, held
    await t.s.untilFetched(1);
    const rotated = await makeKey('RS256', 'k2');
    t.s.serveKeys([t.s.key, rotated]);
    await t.s.cron(); // a later look: the set with the new kid
    answer(keysOf(t.s.key)); // the earlier look's older answer
    expect((await first).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('network');
    expect(await t.s.cacheEntry()).toMatchObject({ keys: [{ kid: 'k1' }, { kid: 'k2' }] });
    expect(await kv().get((await t.s.jwksNames()).kv, 'json')).toMatchObject({ keys: [{ kid: 'k1' }, { kid: 'k2' }] });
    expect((await t.s.call(t.s.token(rotated))).status).toBe(200); // from memory: the cron's set
    expect(t.logs.last().key_layer).toBe('memory');
    expect(t.s.fetches()).toBe(2);
  });

  // Whatever the request's own look then gets (a failure, or an older set without the kid), memory's set answers.
  it.each([
    ['fails', () => new Response('down', { status: 500 })],
    ['answers an older set without it', () => keysOf(t.s.key)],
  ])("a look for a new kid that %s after the cron brought a set with the kid is served the kid from memory (200, not 401)", async (_, ownAnswer) => {
    expect((await t.s.call(t.s.token())).status).toBe(200);
    t.s.clock.advance(31);
    const rotated = await makeKey('RS256', 'k2');
    const { answer } = t.s.world.hold(t.s.jwksUrl);
    const request = t.s.call(t.s.token(rotated)); // its look for k2, held
    await t.s.untilFetched(2);
    t.s.serveKeys([t.s.key, rotated]);
    await t.s.cron(); // a later look: the set with k2
    answer(ownAnswer());
    expect((await request).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('memory');
    expect(t.s.fetches()).toBe(3);
  });
});
