/** The key layers: memory -> Cache API -> KV -> issuer, each written back, and what a cold burst costs. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { docNames } from '../../src/keys/stored-doc.ts';
import { compileOrThrow } from '../helpers/gateway.ts';
import { KeyScenario, kv, spyKvReads } from '../helpers/key-scenario.ts';
import { RecordCapture } from '../helpers/records.ts';

let s: KeyScenario;
let logs: RecordCapture;
beforeEach(async () => {
  s = await KeyScenario.create();
  logs = new RecordCapture();
});
afterEach(() => {
  s.restore();
  logs.restore();
  vi.restoreAllMocks();
});

const namesOf = (scenario: KeyScenario) => docNames('jwks', compileOrThrow(JSON.stringify(scenario.policy)).issuers[scenario.id]!);

describe('key layers', () => {
  it('cold: fetches once and writes KV and the Cache API back; warm: no fetch, no KV read, no cache read', async () => {
    expect((await s.call(s.token())).status).toBe(200);
    expect(logs.last().key_layer).toBe('network');
    expect(s.fetches()).toBe(1);
    const names = await namesOf(s);
    expect(await kv().get(names.kv, 'json')).toMatchObject({ v: 1, kind: 'jwks', issuer: s.iss, keys: [{ kid: 'k1' }] });
    expect(await caches.default.match(names.cache)).not.toBeUndefined();

    const kvReads = spyKvReads();
    const cacheReads = vi.spyOn(caches.default, 'match');
    for (let i = 0; i < 5; i++) {
      expect((await s.call(s.token())).status).toBe(200);
      expect(logs.last().key_layer).toBe('memory');
    }
    expect(s.fetches()).toBe(1);
    expect(kvReads).not.toHaveBeenCalled();
    expect(cacheReads).not.toHaveBeenCalled();
  });

  it('a cold isolate takes the keys from the Cache API, without a fetch or a KV read', async () => {
    await s.call(s.token());
    const kvReads = spyKvReads();
    const isolate = s.newIsolate();
    expect((await s.call(s.token(), isolate)).status).toBe(200);
    expect(logs.last().key_layer).toBe('cache');
    expect(s.fetches()).toBe(1);
    expect(kvReads).not.toHaveBeenCalled();
  });

  it('a cold isolate in another data centre (empty Cache API) takes them from KV and writes the Cache API back', async () => {
    await s.call(s.token());
    const names = await namesOf(s);
    expect(await caches.default.delete(names.cache)).toBe(true);
    const isolate = s.newIsolate();
    expect((await s.call(s.token(), isolate)).status).toBe(200);
    expect(logs.last().key_layer).toBe('kv');
    expect(s.fetches()).toBe(1);
    expect(await caches.default.match(names.cache)).not.toBeUndefined();
    // And the next cold isolate of this data centre finds it in the Cache API.
    await s.call(s.token(), s.newIsolate());
    expect(logs.last().key_layer).toBe('cache');
  });

  it('refreshes ahead of expiry in the background while requests are served from memory', async () => {
    await s.call(s.token());
    s.clock.advance(250); // 83% of the 300 s lifetime
    expect((await s.call(s.token())).status).toBe(200);
    expect(logs.last().key_layer).toBe('memory');
    expect(s.fetches()).toBe(2); // the background refresh, finished by waitUntil
    s.clock.advance(100); // past the first set's expiry, inside the refreshed one's
    expect((await s.call(s.token())).status).toBe(200);
    expect(logs.last().key_layer).toBe('memory');
    expect(s.fetches()).toBe(2);
  });

  it('a cold burst of 50 concurrent requests on one isolate costs one fetch', async () => {
    const tokens = await Promise.all(Array.from({ length: 50 }, () => s.token()));
    const responses = await Promise.all(tokens.map((t) => s.call(t)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(s.fetches()).toBe(1);
    const layers = logs.records.map((r) => r.key_layer);
    expect(layers.filter((l) => l === 'network')).toHaveLength(1);
    expect(layers.filter((l) => l === 'memory')).toHaveLength(49);
  });

  it('clamps the lifetime to the issuer policy: max-age=5 with key_cache.min_seconds 120 keeps the set 120 s', async () => {
    const c = await KeyScenario.create({ maxAgeSeconds: 5, issuer: { key_cache: { min_seconds: 120 } } });
    try {
      await c.call(c.token());
      c.clock.advance(90); // past max-age=5, before the refresh-ahead point (96 s) of the clamped 120 s
      await c.call(c.token());
      expect(logs.last().key_layer).toBe('memory');
      expect(c.fetches()).toBe(1);
      c.clock.advance(40); // 130 s: expired, fetched again
      await c.call(c.token());
      expect(logs.last().key_layer).toBe('network');
      expect(c.fetches()).toBe(2);
    } finally {
      c.restore();
    }
  });
});
