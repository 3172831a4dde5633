/**
 * The cooldown shared by the isolates of one data centre: the key set's Cache API entry says when an isolate
 * here last looked at the issuer (docs/keys.md, "The data centre's cooldown"). Each isolate is a new Gateway
 * sharing the test's Cache API and KV; the clock is the scenario's.
 */
import { describe, expect, it, vi } from 'vitest';
import { KEY_CACHE_URL_BASE } from '../../src/config/constants.ts';
import { heldCacheReads, kv, useKeyScenario } from '../helpers/key-scenario.ts';
import { jwksOf, makeKey } from '../helpers/keys.ts';

const t = useKeyScenario();

const failures = () => t.warnings.map((w) => JSON.parse(w) as { event: string; reason?: string }).filter((w) => w.event === 'jwks_fetch_failed');
const keyCacheCalls = (spy: { mock: { calls: unknown[][] } }) => spy.mock.calls.filter(([request]) => String(request instanceof Request ? request.url : request).startsWith(KEY_CACHE_URL_BASE));

/** A cold isolate's first request whose look at the issuer is held until `answer` (the look is under way on return). */
async function coldLookHanging(): Promise<{ first: Promise<Response>; answer: (response: Response) => void }> {
  const { answer } = t.s.world.hold(t.s.jwksUrl);
  const first = t.s.call(t.s.token());
  await t.s.untilFetched(1);
  return { first, answer };
}

const cronOfThisIsolate = () => t.s.cron();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the data centre's cooldown", () => {
  it('a cold load reads the Cache API once and writes it once (the set, marked tried): no call of its own for the cooldown', async () => {
    const reads = vi.spyOn(caches.default, 'match');
    const writes = vi.spyOn(caches.default, 'put');
    expect((await t.s.call(t.s.token())).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('network');
    expect(keyCacheCalls(reads)).toHaveLength(1);
    expect(keyCacheCalls(writes)).toHaveLength(1);
    // The written entry is what the next isolate of this data centre reads: the set, and when it was tried.
    const stored = (await (await caches.default.match(String(keyCacheCalls(writes)[0]![0])))!.json()) as { keys: object[]; triedAt: number; fetchedAt: number };
    expect(stored).toMatchObject({ keys: [{ kid: 'k1' }], triedAt: t.s.clock.seconds, fetchedAt: t.s.clock.seconds });
  });

  it('after a failed cold look, the other isolates here answer 503 without a fetch, saying why, until the cooldown is over; then one looks', async () => {
    t.s.world.serve(t.s.jwksUrl, () => new Response('down', { status: 500 }));
    expect((await t.s.call(t.s.token())).status).toBe(503);
    expect(t.s.fetches()).toBe(1);
    t.s.clock.advance(29);
    for (let i = 0; i < 3; i++) expect((await t.s.call(t.s.token(), t.s.newIsolate())).status).toBe(503);
    expect(t.s.fetches()).toBe(1);
    expect(failures().at(-1)).toMatchObject({ reason: 'not fetched: this data centre tried the issuer within the cooldown' });
    t.s.serveKeys([t.s.key]);
    t.s.clock.advance(1);
    expect((await t.s.call(t.s.token(), t.s.newIsolate())).status).toBe(200);
    expect(t.s.fetches()).toBe(2);
  });

  it('after a failed look with a stale set, the other isolates here are served the stale set without a fetch', async () => {
    const second = t.s.newIsolate();
    expect((await t.s.call(t.s.token())).status).toBe(200);
    expect((await t.s.call(t.s.token(), second)).status).toBe(200); // from the Cache API
    t.s.world.serve(t.s.jwksUrl, () => new Response('down', { status: 500 }));
    t.s.clock.advance(301); // expired: the first isolate looks and fails
    expect((await t.s.call(t.s.token())).status).toBe(200);
    expect(t.s.fetches()).toBe(2);
    for (const isolate of [second, t.s.newIsolate()]) {
      expect((await t.s.call(t.s.token(), isolate)).status).toBe(200);
      expect(t.logs.last().key_layer).toBe('stale');
    }
    expect(t.s.fetches()).toBe(2);
    t.s.clock.advance(30); // the cooldown is over: one look, and the issuer is back
    t.s.serveKeys([t.s.key]);
    expect((await t.s.call(t.s.token(), second)).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('network');
    expect(t.s.fetches()).toBe(3);
  });

  it("a new kid within the cooldown of another isolate's look costs no fetch here, and gets its look when the cooldown ends", async () => {
    const second = t.s.newIsolate();
    await t.s.call(t.s.token());
    await t.s.call(t.s.token(), second);
    t.s.clock.advance(31);
    const ghost = await makeKey('RS256', 'ghost');
    expect((await t.s.call(t.s.token(ghost))).status).toBe(401); // the first isolate looks for a kid nobody publishes
    expect(t.s.fetches()).toBe(2);
    const rotated = await makeKey('RS256', 'k2');
    t.s.serveKeys([t.s.key, rotated]);
    expect((await t.s.call(t.s.token(rotated), second)).status).toBe(401); // this data centre looked 0 s ago
    expect(t.s.fetches()).toBe(2);
    t.s.clock.advance(30);
    expect((await t.s.call(t.s.token(rotated), second)).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('network');
    expect(t.s.fetches()).toBe(3);
  });

  it('a cold look that fails after another isolate stored a set takes that set and leaves it there, not its mark alone', async () => {
    const { first, answer } = await coldLookHanging();
    t.s.serveKeys([t.s.key]);
    expect((await t.s.call(t.s.token(), t.s.newIsolate())).status).toBe(200); // cold too, at once: stores the set
    answer(new Response('down', { status: 500 }));
    expect((await first).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('cache');
    expect(await t.s.cacheEntry()).toMatchObject({ keys: [{ kid: 'k1' }] });
    expect(t.s.fetches()).toBe(2);
  });

  it('a failed cold look that takes an unmarked set (a KV copy) from the Cache API marks it: the data centre keeps its cooldown', async () => {
    const { first, answer } = await coldLookHanging();
    const now = t.s.clock.seconds;
    // Fresh for 20 s more: past that, a cold isolate must look at the issuer unless this data centre looked lately.
    await t.s.putInCache(t.s.storedSet(10, 20)); // no triedAt
    answer(new Response('down', { status: 500 }));
    expect((await first).status).toBe(200);
    expect(await t.s.cacheEntry()).toMatchObject({ fetchedAt: now - 10, triedAt: now });
    t.s.world.serve(t.s.jwksUrl, () => new Response('down', { status: 500 }));
    t.s.clock.advance(29); // the set has expired; this data centre looked 29 s ago
    // A cold isolate reads the mark and serves the set stale without a look of its own (without the mark it would look).
    expect((await t.s.call(t.s.token(), t.s.newIsolate())).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('stale');
    expect(t.s.fetches()).toBe(1);
  });

  it('a request of the same isolate waiting on that failed cold look is answered with the adopted set too', async () => {
    t.s.gateway = t.s.newIsolate(60_000); // the waiter's wait ends with the look, never with the clock
    const { first, answer } = await coldLookHanging();
    t.s.serveKeys([t.s.key]);
    expect((await t.s.call(t.s.token(), t.s.newIsolate())).status).toBe(200); // stores the set
    const waiting = t.s.call(t.s.token()); // same isolate: polls memory while the first looks
    await sleep(50);
    const read = heldCacheReads(); // the failed look's second Cache API read takes a while: the waiter must not stop polling before it ends
    answer(new Response('down', { status: 500 }));
    while (!read.answered) await sleep(5);
    await sleep(100);
    read.release();
    expect((await first).status).toBe(200);
    expect((await waiting).status).toBe(200);
    expect(t.s.fetches()).toBe(2);
  });

  // Whatever the entry held when the failed look read it again (another isolate's older set, or the mark of an
  // earlier look, past its cooldown), the cron's set answers and stays the data centre's.
  const entriesBeforeTheCron = {
    "another isolate's older set": () => t.s.storedSet(10, 290),
    'the mark of a look past its cooldown': () => t.s.markAlone(t.s.clock.seconds - 31),
  };
  it.each(Object.entries(entriesBeforeTheCron))("a failed cold look answers with the set its isolate's cron brought while it read %s from the Cache API, and leaves that set there", async (_name, entry) => {
    const { first, answer } = await coldLookHanging();
    await t.s.putInCache(entry());
    const rotated = await makeKey('RS256', 'k2');
    t.s.serveKeys([t.s.key, rotated]);
    // The failed look's read of the Cache API has answered but not returned when the cron runs.
    const read = heldCacheReads();
    answer(new Response('down', { status: 500 }));
    while (!read.answered) await sleep(5);
    await cronOfThisIsolate(); // the newer set, into memory and the Cache API
    read.release();
    expect((await first).status).toBe(200);
    // The cron's set, fresh: not `stale`; nor `network`, this request fetched nothing (docs/keys.md).
    expect(t.logs.last().key_layer).toBe('memory');
    expect(await t.s.cacheEntry()).toMatchObject({ keys: [{ kid: 'k1' }, { kid: 'k2' }], triedAt: t.s.clock.seconds });
    expect((await t.s.call(t.s.token(rotated))).status).toBe(200); // from memory: the cron's set
    expect(t.logs.last().key_layer).toBe('memory');
    expect(t.s.fetches()).toBe(2);
  });

  it("a mark a second ahead of the request's clock (another isolate marked after this request began) holds the cooldown", async () => {
    await t.s.putInCache(t.s.markAlone(t.s.clock.seconds + 1));
    expect((await t.s.call(t.s.token(), t.s.newIsolate())).status).toBe(503);
    expect(failures().at(-1)).toMatchObject({ reason: 'not fetched: this data centre tried the issuer within the cooldown' });
    expect(t.s.fetches()).toBe(0);
  });

  it('a mark from the future (a poisoned or skewed entry) is no mark: the isolate looks, and a KV write-back drops it', async () => {
    const names = await t.s.jwksNames();
    const now = t.s.clock.seconds;
    await t.s.putInCache(t.s.markAlone(now + 3600));
    expect((await t.s.call(t.s.token(), t.s.newIsolate())).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('network');
    expect(t.s.fetches()).toBe(1);

    await kv().put(names.kv, JSON.stringify(t.s.storedSet(10, 290)));
    await t.s.putInCache(t.s.markAlone(now + 3600));
    expect((await t.s.call(t.s.token(), t.s.newIsolate())).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('kv');
    const stored = await t.s.cacheEntry();
    expect(stored?.fetchedAt).toBe(now - 10);
    expect(stored?.triedAt).toBeUndefined();
  });

  it("a set taken from KV into the Cache API keeps the data centre's mark", async () => {
    const now = t.s.clock.seconds;
    await kv().put((await t.s.jwksNames()).kv, JSON.stringify(t.s.storedSet(10, 290))); // fetched by another data centre
    await t.s.putInCache(t.s.markAlone(now - 5)); // a failed look here
    expect((await t.s.call(t.s.token(), t.s.newIsolate())).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('kv');
    expect(await t.s.cacheEntry()).toMatchObject({ keys: [{ kid: 'k1' }], fetchedAt: now - 10, triedAt: now - 5 });
    expect(t.s.fetches()).toBe(0);
  });
});

describe("a request's look that fails after its isolate's cron brought a set during the fetch", () => {
  it('a cold look answers with the set, from memory (not stale), and leaves the set the cron stored, not its mark alone', async () => {
    const { first, answer } = await coldLookHanging();
    t.s.serveKeys([t.s.key]);
    await cronOfThisIsolate(); // during the request's fetch
    const cronStored = await t.s.cacheEntry();
    answer(new Response('down', { status: 500 }));
    expect((await first).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('memory');
    expect(cronStored).toMatchObject({ keys: [{ kid: 'k1' }], triedAt: t.s.clock.seconds });
    expect(await t.s.cacheEntry()).toEqual(cronStored);
    expect(t.s.fetches()).toBe(2);
  });

  it("leaves the breaker closed: the cron's success is later news of the issuer than the failure, so peers wait for the next look", async () => {
    t.s.gateway = t.s.newIsolate(60_000); // the peer's wait ends with the leader's look, never with the clock
    const { first, answer } = await coldLookHanging();
    t.s.serveKeys([t.s.key]);
    await cronOfThisIsolate();
    answer(new Response('down', { status: 500 }));
    expect((await first).status).toBe(200);
    t.s.clock.advance(31);
    const rotated = await makeKey('RS256', 'k2');
    const held = t.s.world.hold(t.s.jwksUrl);
    const leader = t.s.call(t.s.token(rotated)); // looks for k2
    await t.s.untilFetched(3);
    // A breaker left open would make the leader's look a probe: this request would not wait for it (401 at once).
    const peer = t.s.call(t.s.token(rotated));
    await sleep(50);
    held.answer(Response.json(jwksOf(t.s.key, rotated), { headers: { 'cache-control': 'max-age=300' } }));
    expect((await leader).status).toBe(200);
    expect((await peer).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('memory');
    expect(t.s.fetches()).toBe(3);
  });
});
