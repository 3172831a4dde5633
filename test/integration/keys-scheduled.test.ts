/** The cron: every issuer's keys fetched into KV and the Cache API, so requests find them without a fetch. */
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from 'cloudflare:test';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import compiledPolicies from '../../.generated/policies.json' with { type: 'json' };
import { loadCompiledConfig } from '../../src/config/load.ts';
import { Gateway } from '../../src/gateway.ts';
import worker from '../../src/index.ts';
import { docNames } from '../../src/keys/stored-doc.ts';
import { bearer, send } from '../helpers/gateway.ts';
import { KeyScenario, kv } from '../helpers/key-scenario.ts';
import { demoClaims, jwksOf, makeKey, sign } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';
import { RecordCapture } from '../helpers/records.ts';

let logs: RecordCapture;
beforeEach(() => {
  logs = new RecordCapture();
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => {
  logs.restore();
  vi.restoreAllMocks();
});

async function cron(gateway: Gateway) {
  const ctx = createExecutionContext();
  const reports = await gateway.refreshKeys(env, ctx);
  await waitOnExecutionContext(ctx);
  return reports;
}

describe('the scheduled handler', () => {
  it("refreshes the compiled policies' issuers into KV and the Cache API; a cold isolate then needs no fetch", async () => {
    const key = await makeKey('RS256', 'demo-rs256');
    const jwksUrl = 'http://127.0.0.1:8788/.well-known/jwks.json';
    const world = new OutsideWorld().serveJwks(jwksUrl, jwksOf(key)).origin('127.0.0.1:8789').install();
    try {
      const ctx = createExecutionContext();
      await worker.scheduled!(createScheduledController({ cron: '*/5 * * * *' }), env, ctx);
      await waitOnExecutionContext(ctx);
      expect(world.fetchCount(jwksUrl)).toBe(1);
      const config = loadCompiledConfig(compiledPolicies);
      const names = await docNames('jwks', config.issuers.demo!);
      expect(await kv().get(names.kv, 'json')).toMatchObject({ kind: 'jwks', issuer: 'http://127.0.0.1:8788', keys: [{ kid: 'demo-rs256' }] });
      expect(await caches.default.match(names.cache)).not.toBeUndefined();

      const isolate = new Gateway(config, { allowLoopbackHttp: true });
      const token = await sign(key, demoClaims({ app_id: 'billing' }), { header: { typ: 'at+jwt' } });
      expect((await send(isolate, new Request('http://gateway.test/billing/x', { headers: bearer(token) }))).status).toBe(200);
      expect(logs.last().key_layer).toBe('cache');
      expect(world.fetchCount(jwksUrl)).toBe(1);
    } finally {
      world.restore();
    }
  });
});

describe('Gateway.refreshKeys', () => {
  let s: KeyScenario;
  beforeEach(async () => {
    s = await KeyScenario.create();
  });
  afterEach(() => s.restore());

  it('keeps cold isolates off the network across the key-set lifetime', async () => {
    expect(await cron(s.gateway)).toEqual([{ issuer: s.id, ok: true, expiresAt: s.clock.seconds + 300 }]);
    s.clock.advance(240);
    await cron(s.gateway);
    s.clock.advance(160); // the first set expired 100 s ago; the second is fresh
    expect((await s.call(s.token(), s.newIsolate())).status).toBe(200);
    expect(logs.last().key_layer).toBe('cache');
    expect(s.fetches()).toBe(2);
  });

  it("marks the data centre's entry with the newest set, not an older one from its memory over another isolate's", async () => {
    const start = s.clock.seconds;
    await cron(s.gateway); // this isolate holds the set fetched at start
    s.clock.advance(301);
    expect((await s.call(s.token(), s.newIsolate())).status).toBe(200); // another isolate fetches and stores a newer set
    s.clock.advance(1);
    s.world.down(s.jwksUrl);
    expect(await cron(s.gateway)).toEqual([{ issuer: s.id, ok: false, expiresAt: null }]);
    const names = await s.jwksNames();
    // The cron's look is marked (the data centre's cooldown), on the newer set.
    expect(await (await caches.default.match(names.cache))!.json()).toMatchObject({ fetchedAt: start + 301, triedAt: start + 302 });
    const fetches = s.fetches();
    expect((await s.call(s.token(), s.newIsolate())).status).toBe(200);
    expect(logs.last().key_layer).toBe('cache');
    expect(s.fetches()).toBe(fetches);
  });

  it('a failed refresh keeps the last good set in KV, which still serves within the stale window', async () => {
    await cron(s.gateway);
    const names = await s.jwksNames();
    const before = await kv().get(names.kv, 'text');
    s.world.down(s.jwksUrl);
    s.clock.advance(400);
    expect(await cron(s.gateway)).toEqual([{ issuer: s.id, ok: false, expiresAt: null }]);
    expect(await kv().get(names.kv, 'text')).toBe(before);
    expect((await s.call(s.token(), s.newIsolate())).status).toBe(200);
    expect(logs.last().key_layer).toBe('stale');
  });
});
