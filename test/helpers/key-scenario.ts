/**
 * One fetched issuer behind the fake outside world, a gateway with a clock the test moves, and tokens
 * signed for that clock: the setting of the key-layer tests. Every scenario gets its own issuer id and
 * URLs, so KV and Cache API entries never leak between tests.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import type { JWK } from 'jose';
import { afterEach, beforeEach, vi } from 'vitest';
import type { Env as AppEnv } from '../../src/env.ts';
import { docNames, type DocNames } from '../../src/keys/stored-doc.ts';
import type { Gateway } from '../../src/gateway.ts';
import { bearer, compileOrThrow, gatewayFor, send } from './gateway.ts';
import { jwksOf, makeKey, sign, type TestKey } from './keys.ts';
import { OutsideWorld } from './outside-world.ts';
import { RecordCapture } from './records.ts';

let counter = 0;

export class TestClock {
  seconds: number;
  constructor(seconds = 1_900_000_000) {
    this.seconds = seconds;
  }
  readonly now = () => this.seconds * 1000;
  advance(seconds: number): void {
    this.seconds += seconds;
  }
}

export interface ScenarioOptions {
  /** Issuer fields added or replaced (key_cache; discovery with jwks_uri: undefined). */
  issuer?: Record<string, unknown>;
  maxAgeSeconds?: number;
}

export class KeyScenario {
  readonly id: string;
  readonly iss: string;
  readonly jwksUrl: string;
  readonly clock = new TestClock();
  readonly world: OutsideWorld;
  readonly policy: object;
  gateway: Gateway;

  readonly key: TestKey;

  private constructor(key: TestKey, options: ScenarioOptions) {
    this.key = key;
    this.id = `idp${++counter}-${crypto.randomUUID().slice(0, 8)}`;
    this.iss = `https://${this.id}.example`;
    this.jwksUrl = `${this.iss}/jwks`;
    this.world = new OutsideWorld().origin('origin.example').serveJwks(this.jwksUrl, jwksOf(key), options.maxAgeSeconds ?? 300).install();
    this.policy = {
      issuers: { [this.id]: { issuer: this.iss, jwks_uri: this.jwksUrl, ...options.issuer, algorithms: ['RS256', 'ES256'] } },
      routes: { r: { path: '/*', issuers: [this.id], audiences: ['api'], origin: 'https://origin.example' } },
    };
    this.gateway = this.newIsolate();
  }

  static async create(options: ScenarioOptions = {}): Promise<KeyScenario> {
    return new KeyScenario(await makeKey('RS256', 'k1'), options);
  }

  /** The names of this issuer's key set in the Cache API and KV. */
  jwksNames(): Promise<DocNames> {
    return docNames('jwks', compileOrThrow(JSON.stringify(this.policy)).issuers[this.id]!);
  }

  /**
   * A new Gateway: what a fresh isolate has (empty memory), sharing KV and the Cache API. `peerWaitMs`: a long
   * wait for a test that asserts order, so a stalled event loop cannot end a wait the test relies on.
   */
  newIsolate(peerWaitMs?: number): Gateway {
    return gatewayFor(this.policy, { allowLoopbackHttp: false, now: this.clock.now, peerWaitMs });
  }

  /** The isolate's cron, run to its end: the issuer's set fetched into memory, KV and the Cache API (marked). */
  async cron(gateway = this.gateway): Promise<void> {
    const ctx = createExecutionContext();
    await gateway.refreshKeys(env as unknown as AppEnv, ctx);
    await waitOnExecutionContext(ctx);
  }

  token(key: TestKey = this.key, header: Record<string, unknown> = {}): Promise<string> {
    const now = this.clock.seconds;
    return sign(key, { iss: this.iss, aud: 'api', sub: 'u', iat: now, exp: now + 300 }, { header });
  }

  async call(token: string | Promise<string>, gateway = this.gateway): Promise<Response> {
    return send(gateway, new Request('https://gw.example/x', { headers: bearer(await token) }));
  }

  serveKeys(keys: TestKey[] | { keys: JWK[] }, maxAgeSeconds = 300): void {
    this.world.serveJwks(this.jwksUrl, Array.isArray(keys) ? jwksOf(...keys) : keys, maxAgeSeconds);
  }

  fetches(url = this.jwksUrl): number {
    return this.world.fetchCount(url);
  }

  /** Returns once the issuer has been asked `count` times in all (a held fetch is then under way). */
  async untilFetched(count: number): Promise<void> {
    while (this.fetches() < count) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** The issuer's key set as the shared layers store it: fetched `age` s ago, expiring `freshFor` s from now. */
  storedSet(age: number, freshFor: number, keys: TestKey[] = [this.key]) {
    const now = this.clock.seconds;
    return { v: 1, kind: 'jwks', issuer: this.iss, source: this.jwksUrl, fetchedAt: now - age, expiresAt: now + freshFor, keys: keys.map((k) => k.publicJwk) };
  }

  /** The Cache API entry a failed look leaves when it had no set: the mark of this data centre's look alone. */
  markAlone(triedAt: number) {
    return { v: 1, kind: 'jwks', issuer: this.iss, triedAt };
  }

  /** Puts `entry` where this data centre keeps the issuer's key set, as another isolate here would. */
  async putInCache(entry: object): Promise<void> {
    await caches.default.put((await this.jwksNames()).cache, Response.json(entry, { headers: { 'cache-control': 'max-age=300' } }));
  }

  /** What this data centre keeps for the issuer's key set now (null: nothing). */
  async cacheEntry(): Promise<Record<string, unknown> | null> {
    return ((await (await caches.default.match((await this.jwksNames()).cache))?.json()) ?? null) as Record<string, unknown> | null;
  }

  restore(): void {
    this.world.restore();
  }
}

/** Caches.default.match answering as it would, then returning only once the test calls `release`; `answered` says it did. */
export function heldCacheReads() {
  const match = caches.default.match.bind(caches.default);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const state = { answered: false, release };
  vi.spyOn(caches.default, 'match').mockImplementation(async (request) => {
    const hit = await match(request);
    state.answered = true;
    await released;
    return hit;
  });
  return state;
}

/** Observes (never replaces) KV reads of the JWKS_CACHE binding. */
export function spyKvReads() {
  return vi.spyOn(kv(), 'get');
}

export function kv(): KVNamespace {
  return (env as unknown as AppEnv).JWKS_CACHE!;
}

export interface ScenarioHooks {
  s: KeyScenario;
  logs: RecordCapture;
  /** Lines the gateway wrote with console.warn (refused key sets and the like). */
  warnings: string[];
}

/** A fresh scenario per test, its verification records and warnings captured, everything restored after. */
export function useKeyScenario(options: ScenarioOptions = {}): ScenarioHooks {
  const hooks = { warnings: [] } as unknown as ScenarioHooks;
  beforeEach(async () => {
    hooks.s = await KeyScenario.create(options);
    hooks.logs = new RecordCapture();
    hooks.warnings = [];
    vi.spyOn(console, 'warn').mockImplementation((line: unknown) => void hooks.warnings.push(String(line)));
  });
  afterEach(() => {
    hooks.s.restore();
    hooks.logs.restore();
    vi.restoreAllMocks();
  });
  return hooks;
}
