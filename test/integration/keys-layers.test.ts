/** The key layers: memory -> Cache API -> KV -> issuer, each written back, and what a cold burst costs. */
import { describe, expect, it, vi } from 'vitest';
import { KeyScenario, kv, spyKvReads, useKeyScenario } from '../helpers/key-scenario.ts';

const t = useKeyScenario();

describe('key layers', () => {
  it('cold: fetches once and writes KV and the Cache API back; warm: no fetch, no KV read, no cache read', async () => {
    expect((await t.s.call(t.s.token())).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('network');
    expect(t.s.fetches()).toBe(1);
    const names = await t.s.jwksNames();
    expect(await kv().get(names.kv, 'json')).toMatchObject({ v: 1, kind: 'jwks', issuer: t.s.iss, keys: [{ kid: 'k1' }] });
    expect(await caches.default.match(names.cache)).not.toBeUndefined();

    const kvReads = spyKvReads();
    const cacheReads = vi.spyOn(caches.default, 'match');
    for (let i = 0; i < 5; i++) {
      expect((await t.s.call(t.s.token())).status).toBe(200);
      expect(t.logs.last().key_layer).toBe('memory');
    }
    expect(t.s.fetches()).toBe(1);
    expect(kvReads).not.toHaveBeenCalled();
    expect(cacheReads).not.toHaveBeenCalled();
  });

  it('a cold isolate takes the keys from the Cache API, without a fetch or a KV read', async () => {
    await t.s.call(t.s.token());
    const kvReads = spyKvReads();
    // Also shows that a spy on caches.default.match sees the key store's reads, which the "no Cache API read" checks rely on.
    const cacheReads = vi.spyOn(caches.default, 'match');
    const isolate = t.s.newIsolate();
    expect((await t.s.call(t.s.token(), isolate)).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('cache');
    expect(t.s.fetches()).toBe(1);
    expect(kvReads).not.toHaveBeenCalled();
    expect(cacheReads).toHaveBeenCalled();
  });

  it('a cold isolate in another data centre (empty Cache API) takes them from KV and writes the Cache API back', async () => {
    await t.s.call(t.s.token());
    const names = await t.s.jwksNames();
    expect(await caches.default.delete(names.cache)).toBe(true);
    const isolate = t.s.newIsolate();
    expect((await t.s.call(t.s.token(), isolate)).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('kv');
    expect(t.s.fetches()).toBe(1);
    expect(await caches.default.match(names.cache)).not.toBeUndefined();
    // And the next cold isolate of this data centre finds it in the Cache API.
    await t.s.call(t.s.token(), t.s.newIsolate());
    expect(t.logs.last().key_layer).toBe('cache');
  });

  it('a stored entry that fails its checks (private key member) is ignored, logged, and the keys fetched', async () => {
    const names = await t.s.jwksNames();
    const now = t.s.clock.seconds;
    const tampered = { v: 1, kind: 'jwks', issuer: t.s.iss, source: t.s.jwksUrl, fetchedAt: now, expiresAt: now + 300, keys: [{ ...t.s.key.publicJwk, d: 'AQAB' }] };
    await kv().put(names.kv, JSON.stringify(tampered));
    expect((await t.s.call(t.s.token())).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('network');
    expect(t.warnings.map((w) => (JSON.parse(w) as { event: string }).event)).toContain('key_layer_entry_refused');
    expect(await kv().get(names.kv, 'json')).toMatchObject({ keys: [{ kid: 'k1' }] });
    expect(((await kv().get(names.kv, 'json')) as { keys: object[] }).keys[0]).not.toHaveProperty('d');
  });

  it('refreshes ahead of expiry in the background while requests are served from memory', async () => {
    await t.s.call(t.s.token());
    t.s.clock.advance(250); // 83% of the 300 s lifetime
    expect((await t.s.call(t.s.token())).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('memory');
    expect(t.s.fetches()).toBe(2); // the background refresh, finished by waitUntil
    t.s.clock.advance(100); // past the first set's expiry, inside the refreshed one's
    expect((await t.s.call(t.s.token())).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('memory');
    expect(t.s.fetches()).toBe(2);
  });

  it('a cold burst of 50 concurrent requests on one isolate costs one fetch', async () => {
    const tokens = await Promise.all(Array.from({ length: 50 }, () => t.s.token()));
    const responses = await Promise.all(tokens.map((token) => t.s.call(token)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(t.s.fetches()).toBe(1);
    const layers = t.logs.records.map((r) => r.key_layer);
    expect(layers.filter((l) => l === 'network')).toHaveLength(1);
    expect(layers.filter((l) => l === 'memory')).toHaveLength(49);
  });

  it('the same burst over two cold isolates costs at most one fetch per isolate', async () => {
    const isolates = [t.s.gateway, t.s.newIsolate()];
    const tokens = await Promise.all(Array.from({ length: 40 }, () => t.s.token()));
    const responses = await Promise.all(tokens.map((token, i) => t.s.call(token, isolates[i % 2])));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(t.s.fetches()).toBeGreaterThanOrEqual(1);
    expect(t.s.fetches()).toBeLessThanOrEqual(2);
  });

  it('clamps the lifetime to the issuer policy: max-age=5 with key_cache.min_seconds 120 keeps the set 120 s', async () => {
    const c = await KeyScenario.create({ maxAgeSeconds: 5, issuer: { key_cache: { min_seconds: 120 } } });
    try {
      await c.call(c.token());
      c.clock.advance(90); // past max-age=5, before the refresh-ahead point (96 s) of the clamped 120 s
      await c.call(c.token());
      expect(t.logs.last().key_layer).toBe('memory');
      expect(c.fetches()).toBe(1);
      c.clock.advance(40); // 130 s: expired, fetched again
      await c.call(c.token());
      expect(t.logs.last().key_layer).toBe('network');
      expect(c.fetches()).toBe(2);
    } finally {
      c.restore();
    }
  });
});
