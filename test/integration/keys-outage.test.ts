/** A down, slow or hostile issuer: the last good set is kept for the stale window, then the gateway fails closed. */
import type { JWK } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { KeyScenario, useKeyScenario } from '../helpers/key-scenario.ts';
import { makeKey, type TestKey } from '../helpers/keys.ts';

const t = useKeyScenario();

const refreshFailures = () => t.warnings.map((w) => JSON.parse(w) as { event: string; reason?: string }).filter((w) => w.event === 'jwks_fetch_failed');

describe('issuer down', () => {
  it('keeps verifying with the last good set inside the stale window, then answers 503 + Retry-After, and recovers', async () => {
    expect((await t.s.call(t.s.token())).status).toBe(200); // set valid 300 s
    t.s.world.down(t.s.jwksUrl);
    t.s.clock.advance(301);
    expect((await t.s.call(t.s.token())).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('stale');
    expect(refreshFailures()).toEqual([expect.objectContaining({ reason: 'network error' })]);

    t.s.clock.advance(3600 - 2); // 299 s + 1 h - 1 s after the fetch... still inside expiry + 3600 s
    expect((await t.s.call(t.s.token())).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('stale');

    t.s.clock.advance(2); // expiry + 3600 s: the window is over
    const closed = await t.s.call(t.s.token());
    expect(closed.status).toBe(503);
    expect(closed.headers.get('retry-after')).toBe('30');
    expect(t.logs.last().findings[0]).toMatchObject({ code: 'keys_unavailable' });

    t.s.serveKeys([t.s.key]); // back
    t.s.clock.advance(31);
    expect((await t.s.call(t.s.token())).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('network');
  });

  it('a stale window set by the issuer policy (stale_if_error_seconds: 0) fails closed at expiry', async () => {
    const strict = await KeyScenario.create({ issuer: { key_cache: { stale_if_error_seconds: 0 } } });
    try {
      await strict.call(strict.token());
      strict.world.down(strict.jwksUrl);
      strict.clock.advance(301);
      expect((await strict.call(strict.token())).status).toBe(503);
    } finally {
      strict.restore();
    }
  });

  it('a cold isolate finds the last good set in the layers while the issuer is down', async () => {
    await t.s.call(t.s.token());
    t.s.world.down(t.s.jwksUrl);
    t.s.clock.advance(400);
    expect((await t.s.call(t.s.token(), t.s.newIsolate())).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('stale');
  });

  it('a slow issuer times out (5 s): the previous set keeps verifying', { timeout: 20_000 }, async () => {
    await t.s.call(t.s.token());
    t.s.world.hang(t.s.jwksUrl);
    t.s.clock.advance(301);
    expect((await t.s.call(t.s.token())).status).toBe(200);
    expect(t.logs.last().key_layer).toBe('stale');
    expect(refreshFailures()).toEqual([expect.objectContaining({ reason: 'timed out' })]);
  });

  it('while one request waits for a hanging issuer, the others are served the stale set at once', { timeout: 20_000 }, async () => {
    await t.s.call(t.s.token());
    t.s.world.hang(t.s.jwksUrl);
    t.s.clock.advance(301);
    const leader = t.s.call(t.s.token());
    await new Promise((resolve) => setTimeout(resolve, 50)); // the leader is now inside its fetch
    const others = await Promise.all(Array.from({ length: 5 }, () => t.s.call(t.s.token())));
    expect(others.map((r) => r.status)).toEqual(Array(5).fill(200));
    const loggedBeforeLeader = t.logs.records.length;
    expect((await leader).status).toBe(200);
    // The warm-up and the five others, all before the leader's record, written as it answered after its 1 s bound: none waited.
    expect(loggedBeforeLeader).toBe(6);
    expect(t.logs.records.slice(1).every((r) => r.key_layer === 'stale')).toBe(true);
    expect(t.s.fetches()).toBe(2);
  });
});

describe('hostile or broken key set responses', () => {
  let k2: TestKey;
  beforeEach(async () => {
    k2 = await makeKey('RS256', 'k2');
  });
  const json = (body: unknown) => () => Response.json(body, { headers: { 'cache-control': 'max-age=300' } });
  const cases: [string, () => () => Response, string][] = [
    ['oversized', () => json({ keys: [k2.publicJwk], pad: 'x'.repeat(70_000) }), 'larger than 65536 bytes'],
    ['HTML', () => () => new Response('<html>sign in</html>', { headers: { 'content-type': 'text/html' } }), 'not JSON'],
    ['a redirect', () => () => new Response(null, { status: 302, headers: { location: 'https://evil.example/jwks' } }), 'redirect (302) refused'],
    ['private key material', () => json({ keys: [{ ...k2.publicJwk, d: 'AQAB' }] }), 'keys[0]: key carries private or secret member "d"'],
    ['a duplicate kid', () => json({ keys: [k2.publicJwk, { ...k2.publicJwk }] }), 'keys[1]: duplicate kid'],
    ['use: enc only', () => json({ keys: [{ ...k2.publicJwk, use: 'enc' }] }), 'no usable signature key'],
    ['a mismatched alg', () => json({ keys: [{ ...k2.publicJwk, alg: 'ES256' }] }), 'keys[0]: alg "ES256" does not fit a RSA key'],
    ['RSA-1024', () => json({ keys: [{ ...k2.publicJwk, n: 'w' + 'A'.repeat(170) } as JWK] }), 'keys[0]: RSA modulus under 2048 bits'],
  ];

  it.each(cases)('%s: refused and logged, the previous set kept, clean 401 for the new kid', async (_name, responder, reason) => {
    await t.s.call(t.s.token());
    t.s.world.serve(t.s.jwksUrl, responder());
    t.s.clock.advance(301);
    expect((await t.s.call(t.s.token())).status).toBe(200); // k1 from the kept set
    expect(t.logs.last().key_layer).toBe('stale');
    t.s.clock.advance(31);
    expect((await t.s.call(t.s.token(k2))).status).toBe(401); // the hostile set's key never became trusted
    expect(t.logs.last().findings).toEqual([{ code: 'kid_unknown', actual: 'k2' }]);
    expect(refreshFailures()[0]).toMatchObject({ reason });
    expect(t.warnings.join('\n')).not.toContain(k2.publicJwk.n!.slice(0, 40));
  });

  it.each(cases)('%s on a cold start: 503 + Retry-After, never open', async (_name, responder) => {
    t.s.world.serve(t.s.jwksUrl, responder());
    const response = await t.s.call(t.s.token(k2));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('30');
  });
});
