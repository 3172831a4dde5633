import { afterEach, describe, expect, it, vi } from 'vitest';
import { signingKeyImports, signingSetup } from '../../src/forward/signing-keys.ts';
import { Gateway } from '../../src/gateway.ts';
import { judgeJwks } from '../../src/keys/validate-jwk.ts';
import { readyAtLoad, WARM_JWKS, warmRequestPath, warmStages } from '../../src/warm.ts';
import { compileOrThrow } from '../helpers/gateway.ts';
import { gatewaySigningKey } from '../helpers/gateway-keys.ts';

describe('warm-up at load (src/warm.ts)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('sends its request through the whole gateway: verified, forwarded with the identity and a minted assertion, the record written', async () => {
    await expect(warmStages()).resolves.toBeUndefined();
  });

  it("publishes an RSA key beside its Ed25519 key, accepted, so an RSA key's own checks (size, ROCA) run to the end at load", () => {
    const verdict = judgeJwks(JSON.parse(WARM_JWKS));
    expect(verdict).toMatchObject({ ok: true, skipped: [] });
    expect(verdict.ok && verdict.keys.map((key) => key.kty)).toEqual(['OKP', 'RSA']);
  });

  it('puts back what it stood in for, and prints nothing: a line logged at load belongs to no invocation', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const warn = vi.spyOn(console, 'warn');
    await warmStages();
    expect(log).not.toHaveBeenCalled();
    expect(warn).not.toHaveBeenCalled();
    // The test runner rewraps the console and the timers across awaits, so what was put back is judged by behaviour:
    // console.log reaches the console again, and a timer is a real one (the stand-in answers 0).
    console.log('after');
    expect(log).toHaveBeenCalledWith('after');
    const timer = setTimeout(() => undefined, 60_000);
    expect(timer).not.toBe(0);
    clearTimeout(timer);
  });

  it('a warm-up still running when a request comes stays inert: the request meets the real globals, the rest of the warm-up only its stand-ins', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const fetch = vi.spyOn(globalThis, 'fetch').mockRejectedValue(new TypeError('offline'));
    // Its stand-ins are in place from its first step until it settles; it has not fetched its issuer's keys yet.
    const running = warmRequestPath();
    // A request meanwhile: its line is printed, its fetch and timer are the real ones (here the network is down).
    console.log('request');
    await expect(globalThis.fetch('https://i.invalid/jwks')).rejects.toThrow('offline');
    const timer = setTimeout(() => undefined, 60_000);
    expect(timer).not.toBe(0);
    clearTimeout(timer);
    expect(caches.default).toBeDefined();
    // The warm-up, resumed meanwhile, ran through on its own stand-ins: no real fetch, no line printed.
    expect(await running).toBeNull();
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(log.mock.calls).toEqual([['request']]);
  });

  it('refuses a second warm-up while one runs: the first would put back, when it settles, what the second still needs', async () => {
    const running = warmRequestPath();
    expect(await warmRequestPath()).toBe('Error: a warm-up is already running');
    expect(await running).toBeNull();
  });

  it('a stand-in that cannot be put in place costs the warm-up, and leaves none of the others in place', async () => {
    // A global the runtime would not let be redefined (here AbortSignal.timeout, the fifth of six): the four
    // before it, fetch among them, must not stay stood in for the isolate's real requests.
    const names = ['fetch', 'caches', 'setTimeout', 'clearTimeout'] as const;
    const before = names.map((name) => Object.getOwnPropertyDescriptor(globalThis, name));
    const define = Object.defineProperty;
    vi.spyOn(Object, 'defineProperty').mockImplementation((target, name, descriptor) => {
      if (target === AbortSignal && name === 'timeout') throw new TypeError('Cannot redefine property: timeout');
      return define(target, name, descriptor);
    });
    const failure = await warmRequestPath();
    vi.restoreAllMocks();
    const after = names.map((name) => Object.getOwnPropertyDescriptor(globalThis, name));
    // Put back by hand whatever was left, so the tests after this one run with the real globals either way.
    names.forEach((name, i) => void (before[i] ? Object.defineProperty(globalThis, name, before[i]) : delete (globalThis as Record<string, unknown>)[name]));
    expect(failure).toBe('TypeError: Cannot redefine property: timeout');
    expect(after).toEqual(before);
  });

  it('reports success as null (here in an isolate that has run the stages already, as a second Gateway would)', async () => {
    expect(await warmRequestPath()).toBeNull();
  });

  it('never rejects: a warm-up that fails is reported with its error, for the entry point to log once', async () => {
    const failing = async () => {
      throw new TypeError('Disallowed operation called within global scope');
    };
    expect(await warmRequestPath(failing)).toBe('TypeError: Disallowed operation called within global scope');
    expect(await warmRequestPath(async () => Promise.reject('not an Error'))).toBe('unknown');
  });

  it("readies the isolate's own Gateway at load: built, and its assertion key imported, so the first request imports none", async () => {
    const config = compileOrThrow(
      JSON.stringify({
        settings: { assertion: { issuer: 'https://gw.example' } },
        issuers: { idp: { issuer: 'https://idp.example/', jwks_uri: 'https://idp.example/jwks', algorithms: ['ES256'] } },
        routes: { orders: { path: '/orders/*', issuers: ['idp'], audiences: ['orders-api'], app: 'shop', origin: 'https://origin.example' } },
      }),
    );
    const env = { GATEWAY_SIGNING_KEY: await gatewaySigningKey('EdDSA', 'at-load') };
    const before = signingKeyImports();
    const gateway = await readyAtLoad(() => ({ config, options: { allowLoopbackHttp: false } }), env);
    expect(gateway).toBeInstanceOf(Gateway);
    expect(signingKeyImports() - before).toBe(1);
    // What a request asks: answered synchronously (no import left to await), with the key imported at load.
    const setup = signingSetup(config.settings.assertion!, env);
    expect(setup).not.toBeInstanceOf(Promise);
    expect(setup).toMatchObject({ ok: true, setup: { signer: { alg: 'EdDSA', kid: 'at-load' } } });
    expect(signingKeyImports() - before).toBe(1);
  });

  it('a Gateway that cannot be readied at load costs only that: null, never a rejection, and the first request builds it', async () => {
    const broken = () => {
      throw new Error('compiled policies have version 0, expected 1: run npm run check');
    };
    expect(await readyAtLoad(broken, {})).toBeNull();
  });
});
