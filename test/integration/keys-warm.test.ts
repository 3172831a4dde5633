/**
 * The key store's warm path: once a key set is in memory and its key imported, a lookup is answered
 * synchronously (no promise, so authenticate() awaits nothing) with the very same CryptoKey. Whatever needs
 * work (a first import, a refresh due, an expired set, an unknown kid) still goes the asynchronous way.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CompiledConfig } from '../../src/config/types.ts';
import { KEY_REFRESH_AHEAD_FRACTION } from '../../src/config/constants.ts';
import { KeyStore } from '../../src/keys/key-store.ts';
import { detachedKeys } from '../../src/keys/detached-keys.ts';
import { compileOrThrow } from '../helpers/gateway.ts';
import { jwksOf, makeKey, nowSeconds, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';

const JWKS = 'https://idp.example/jwks';
let key: TestKey;
let config: CompiledConfig;
let world: OutsideWorld | undefined;

beforeAll(async () => {
  key = await makeKey('ES256', 'k1');
  config = compileOrThrow(
    JSON.stringify({
      issuers: { fetched: { issuer: 'https://idp.example/', jwks_uri: JWKS, algorithms: ['ES256'] }, inline: { issuer: 'https://inline.example/', keys: [key.publicJwk], algorithms: ['ES256'] } },
      routes: { r: { path: '/*', issuers: ['fetched', 'inline'], audiences: ['api'], origin: 'https://origin.example' } },
    }),
  );
});
afterEach(() => world?.restore());

describe('warm key lookups', () => {
  it('a fetched key: the first lookup loads and imports (a promise), the next ones answer synchronously with the same key', async () => {
    world = new OutsideWorld().serveJwks(JWKS, jwksOf(key), 3600).install();
    const store = detachedKeys(new KeyStore({ allowLoopbackHttp: false }));
    const now = nowSeconds();
    const first = store.resolve(config.issuers.fetched!, 'k1', 'ES256', now);
    expect(first).toBeInstanceOf(Promise);
    const loaded = await first;
    expect(loaded).toMatchObject({ ok: true, layer: 'network' });
    const warm = store.resolve(config.issuers.fetched!, 'k1', 'ES256', now);
    expect(warm).not.toBeInstanceOf(Promise);
    expect(warm).toMatchObject({ ok: true, layer: 'memory' });
    expect((warm as { key: CryptoKey }).key).toBe((loaded as { key: CryptoKey }).key);
    // An unknown kid is not answered from the warm path: it may be a rotation.
    const unknown = store.resolve(config.issuers.fetched!, 'k2', 'ES256', now);
    expect(unknown).toBeInstanceOf(Promise);
    expect(await unknown).toMatchObject({ ok: false, finding: { code: 'kid_unknown' } });
    // A refresh due goes the full way, which starts the refresh ahead and still answers from memory.
    const due = store.resolve(config.issuers.fetched!, 'k1', 'ES256', now + Math.ceil(3600 * KEY_REFRESH_AHEAD_FRACTION) + 1);
    expect(due).toBeInstanceOf(Promise);
    expect(await due).toMatchObject({ ok: true, layer: 'memory' });
    // An expired set goes the full way too.
    const expired = store.resolve(config.issuers.fetched!, 'k1', 'ES256', now + 3700);
    expect(expired).toBeInstanceOf(Promise);
    expect(await expired).toMatchObject({ ok: true, layer: 'network' });
  });

  it('an inline key: imported on first use, then answered synchronously', async () => {
    const store = detachedKeys(new KeyStore({ allowLoopbackHttp: false }));
    const first = store.resolve(config.issuers.inline!, 'k1', 'ES256', nowSeconds());
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toMatchObject({ ok: true, layer: 'inline' });
    const warm = store.resolve(config.issuers.inline!, 'k1', 'ES256', nowSeconds());
    expect(warm).not.toBeInstanceOf(Promise);
    expect(warm).toMatchObject({ ok: true, layer: 'inline' });
    expect((warm as { key: CryptoKey }).key).toBe(((await first) as { key: CryptoKey }).key);
  });
});
