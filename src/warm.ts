/**
 * Runs the gateway's request path once when the isolate loads the script, instead of during its first
 * request. V8 compiles a function on its first call, and a cold isolate's first request spent more CPU
 * compiling code (the gateway's, workerd's own log formatter) than running it (BENCHMARKS.md, "Cold
 * start"). A Worker's global scope runs when the isolate starts, before any request (on Cloudflare this can
 * happen while the client's TLS handshake is still under way). It allows no fetch, Cache API, KV, timers,
 * random values or `new Response`, but it does allow WebCrypto that needs no randomness (key import, verify,
 * Ed25519 signing, digests).
 *
 * So the warm-up is no copy of the path: it sends a synthetic request through a throwaway Gateway's own
 * `handle`, on a policy of this file's own, with what load forbids stood in for its own work (`standIns`):
 * fetch answers the issuer's JWKS (a real Ed25519 key, and the token is one it really signed), the origin is a
 * service binding answered here, the timers do nothing, the log line is formatted but not printed, and the
 * assertion's signing key is a throwaway one. Every stage the gateway runs on an accepted bearer token, a new
 * one included, runs here too (and node's timer code: compileTimers). What stays cold: the Cache API and KV
 * layers of the key store, the origin's real fetch and native timer, an RSA key's import and verification
 * (native), and what the synthetic
 * policy does not use (token sources other than the Authorization header, multi-tenant issuers, rate limits,
 * origin by claim, CORS, a deny list in a store).
 *
 * Nothing it produces is kept, with deliberate exceptions: the shape gate's judged-header map holds the
 * synthetic header (a pure function of its text, bounded), and the assertion keys' import
 * (src/forward/signing-keys.ts, per isolate) holds the synthetic signing key until readyAtLoad imports the
 * Worker's own, or (no assertion in the policy, or readyAtLoad failed) until a request's secrets, which
 * differ, replace it: it is only ever handed out for the warm-up's own secrets.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { formatWithOptions } from 'node:util';
import type { CompiledConfig, CompiledIssuer, CompiledRoute } from './config/types.ts';
import type { Env } from './env.ts';
import { signingSetup } from './forward/signing-keys.ts';
import { Gateway, type GatewayOptions } from './gateway.ts';
import { base64UrlEncode } from './origin/binding.ts';
import { WARM_CLAIMS, WARM_HEADER, WARM_NOW } from './warm-token.ts';

/**
 * A throwaway Ed25519 key (made by scripts/warm-keys.ts; nothing trusts it but this file's policy): the
 * synthetic issuer's key, whose EdDSA token below really verifies at WARM_NOW_MS, so every check after the
 * signature runs too; and the assertion's signing key, imported and signing once, at load. Not an RSA key:
 * a real modulus and signature would cost ~0.5 KiB of the bundle's gzip budget (see WARM_RSA_N).
 */
const WARM_NOW_MS = WARM_NOW * 1000;
const WARM_SIGNATURE = '2fYa_hl2zPjRP-MUonXjEMOtZe3qubL4cA3pMyQTaQzb0hmpD1Fxo1JyslhYPbE0C2H2FClZIPDYSXFio1ddDA';
const WARM_TOKEN = `${base64UrlEncode(JSON.stringify(WARM_HEADER))}.${base64UrlEncode(JSON.stringify(WARM_CLAIMS))}.${WARM_SIGNATURE}`;
const WARM_SIGNING_KEY = '{"kty":"OKP","crv":"Ed25519","d":"B1rF4yNj6O15B_c-2QTTEsV9YUwgjBz8L9ciB_TV4ZY","x":"tVtT9zNvBDCas7_ckJfzWI1XmOIGGSFcoggmGiEnJEs"}';
/** The public half of WARM_SIGNING_KEY, as the synthetic issuer publishes it. */
const WARM_PUBLIC_X = (JSON.parse(WARM_SIGNING_KEY) as { x: string }).x;

const ISSUER: CompiledIssuer = {
  id: 'warm',
  issuer: 'https://i.invalid',
  keySource: { kind: 'jwks', url: 'https://i.invalid/jwks' },
  algorithms: ['EdDSA'],
  appClaim: ['app_id'],
  clockSkewSeconds: 60,
  maxLifetimeSeconds: 86_400,
  typ: 'at+jwt',
  claims: [{ path: ['token_use'], test: { kind: 'equals', value: 'access' } }],
};

const ROUTE: CompiledRoute = {
  id: 'warm',
  file: 'warm',
  host: null,
  path: { kind: 'prefix', value: '/warm' },
  methods: null,
  mode: 'enforce',
  issuers: ['warm'],
  audiences: ['https://a.invalid'],
  app: 'warm',
  scopes: ['read'],
  origin: 'warm',
  forwardAuthorization: false,
  forward: {
    origin: { kind: 'service', binding: 'WARM_ORIGIN', stripPathPrefix: '/warm' },
    timeoutMs: 10_000,
    claimHeaders: [{ header: 'x-verified-roles', claim: ['roles'], format: 'join' }],
    assertionAudience: 'https://o.invalid',
  },
  claims: [{ path: ['roles'], test: { kind: 'contains', value: 'reader' } }],
};

const CONFIG: CompiledConfig = {
  version: 1,
  settings: {
    realm: 'warm',
    identityHeaderPrefix: 'x-verified-',
    assertion: { header: 'x-verified-assertion', issuer: 'warm', mode: 'signed', jwksPath: '/.well-known/warm-jwks.json', ttlSeconds: 60, reuseSeconds: 30 },
    requestIdHeader: 'x-request-id',
  },
  issuers: { warm: ISSUER },
  routes: [ROUTE],
};

/** What the origin and the log saw of one synthetic request. */
interface Seen {
  forwarded: Headers | null;
  records: Record<string, unknown>[];
}

/** The origin's answer: workerd allows no `new Response` at load, and the gateway only reads its status. */
const ORIGIN_ANSWER = { status: 200 } as Response;
/**
 * The synthetic issuer also publishes an RSA key, so that an RSA key's own checks (validate-jwk.ts: the
 * modulus decoded and sized; roca.ts) are compiled at load, not on a cold isolate's first RSA key set. It is
 * judged like any key of the set, never imported: no token names it. Its modulus is 2^2048 - 1, spelled out
 * at load rather than stored (a real one is ~0.3 KiB of gzip): 2048 bits, odd, e = 65537; divisible by 3, so
 * the ROCA test leaves at its first prime (a random modulus leaves within the first few). test/unit/warm.test.ts
 * holds it accepted: a check that refused it would fail the warm-up, one that skipped it would take this warmth away.
 */
const WARM_RSA_N = `${'_'.repeat(341)}w`;
export const WARM_JWKS = JSON.stringify({
  keys: [
    { kty: 'OKP', crv: 'Ed25519', kid: 'warm', use: 'sig', alg: 'EdDSA', x: WARM_PUBLIC_X },
    { kty: 'RSA', kid: 'warm-rsa', use: 'sig', n: WARM_RSA_N, e: 'AQAB' },
  ],
});

/** The issuer's JWKS as fetch would answer it (status, headers and a body stream are what the key store reads). */
async function warmFetch(url: URL | string): Promise<Response> {
  if (String(url) !== (ISSUER.keySource as { url: string }).url) throw new TypeError('no network at load');
  const bytes = new TextEncoder().encode(WARM_JWKS);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  return { status: 200, headers: new Headers({ 'content-type': 'application/json', 'cache-control': 'max-age=300', 'content-length': String(bytes.length) }), body } as Response;
}

/** Set inside the warm-up's own work (its async context): what its stand-ins answer to, and nothing else. */
const warmUp = new AsyncLocalStorage<true>();

/**
 * Stands `value` in for `target[name]` (its own property or one it inherits) in the warm-up's work only:
 * read from anywhere else, the property is what it was. The returned function puts the property back as it was
 * (nothing assigns these globals; an assignment meanwhile would not outlive the warm-up).
 */
function standIn(target: object, name: string, value: unknown): () => void {
  const own = Object.getOwnPropertyDescriptor(target, name);
  let real: unknown = Reflect.get(target, name);
  Object.defineProperty(target, name, { get: () => (warmUp.getStore() ? value : real), set: (next) => void (real = next), configurable: true });
  return () => void (own ? Object.defineProperty(target, name, own) : delete (target as Record<string, unknown>)[name]);
}

/**
 * One synthetic request through the gateway, settled: its answer, what the origin got, its record, and the
 * work it left to waitUntil (the key set's caching; awaited here as workerd awaits it).
 */
async function send(gateway: Gateway, path: string): Promise<{ response: Response; seen: Seen }> {
  const seen: Seen = { forwarded: null, records: [] };
  const pending: Promise<unknown>[] = [];
  const origin = { fetch: async (_url: unknown, init?: RequestInit) => ((seen.forwarded = new Headers(init?.headers)), ORIGIN_ANSWER) };
  const env = { GATEWAY_SIGNING_KEY: WARM_SIGNING_KEY, WARM_ORIGIN: origin } as unknown as Env;
  const ctx = { waitUntil: (work: Promise<unknown>) => void pending.push(work), passThroughOnException: () => undefined } as unknown as ExecutionContext;
  const headers = { authorization: `Bearer ${WARM_TOKEN}`, 'cf-ray': '0123456789abcdef-AMS', 'x-request-id': 'warm', 'x-verified-sub': 'forged' };
  const response = await standIns(seen, async () => {
    const answer = await gateway.handle(new Request(`https://a.invalid${path}`, { headers }), env, ctx);
    await Promise.all(pending);
    return answer;
  });
  return { response, seen };
}

/** Whether a warm-up's stand-ins are in place. */
let running = false;

/**
 * Runs `work` with what load forbids stood in for: the network (fetch answers the issuer's JWKS, and there
 * is no Cache API, as on workers.dev), timers (setTimeout, clearTimeout and AbortSignal.timeout do nothing),
 * and console.log, which formats what it is given as workerd's console.log does (its formatLog:
 * formatWithOptions, colours off) and keeps the value instead of printing a line that would belong to no
 * invocation. The stand-ins answer `work` alone (standIn), until it settles, then are put back whatever
 * happens. So a warm-up that outlives the load (it settles during the load; one that waited on something
 * that never comes would not) stays inert: a request meanwhile meets the real globals, and the warm-up's own
 * rest meets only its stand-ins: no fetch, no timer, no line printed on the real ones. (Until it settles, a
 * read of those six globals asks the async context which to answer: all a hang still costs the requests.)
 */
async function standIns<T>(seen: Seen, work: () => Promise<T>): Promise<T> {
  // Nested, the first would put back, when it settles, the globals the second still needs stood in.
  if (running) throw new Error('a warm-up is already running');
  running = true;
  // Each undoing kept as its stand-in is made: one that cannot be made (a global the runtime will not let be
  // redefined) fails the warm-up, and the finally puts back those made before it.
  const undo: (() => void)[] = [];
  try {
    undo.push(standIn(globalThis, 'fetch', warmFetch));
    undo.push(standIn(globalThis, 'caches', undefined));
    undo.push(standIn(globalThis, 'setTimeout', () => 0));
    undo.push(standIn(globalThis, 'clearTimeout', () => undefined));
    undo.push(standIn(AbortSignal, 'timeout', () => new AbortController().signal));
    undo.push(
      standIn(console, 'log', (...values: unknown[]) => {
        formatWithOptions({ colors: false }, ...values);
        seen.records.push(values[0] as Record<string, unknown>);
      }),
    );
    return await warmUp.run(true, work);
  } finally {
    for (const putBack of undo.reverse()) putBack();
    running = false;
  }
}

/**
 * Node's timers (nodejs_compat) are JavaScript the origin timer runs (src/forward/origin.ts), which the stand-ins
 * leave cold. Load forbids arming a timer, but workerd refuses only at the native end of node's setTimeout,
 * so asking for one compiles the way there; during a request (tests) the timer is armed and cleared at once.
 */
function compileTimers(): void {
  try {
    clearTimeout(setTimeout(() => undefined, 0));
  } catch {
    clearTimeout(undefined);
  }
}

/**
 * One request through a throwaway Gateway: its key store fetches, judges and imports the issuer's (Ed25519)
 * key, the token is verified in full, the assertion minted, the record written. Each
 * is checked for the answer it must give, so that none stops early and leaves the code after it cold.
 * Rejects at the first that does not. (A second request, the token cache's hit, was measured too: it cost
 * more at load than it saved on a cold isolate's second request.)
 */
export async function warmStages(): Promise<void> {
  const check = (holds: boolean, detail: string): void => {
    if (!holds) throw new Error(`unexpected answer: ${detail}`);
  };
  compileTimers();
  const gateway = new Gateway(CONFIG, { allowLoopbackHttp: false, now: () => WARM_NOW_MS });
  // Escapes and an upper-case letter: the slow path of canonicalization and the case-folded reading.
  const { response, seen } = await send(gateway, '/warm/%49tems?x=1');
  const record = seen.records[0] ?? {};
  check(response === ORIGIN_ANSWER, `status ${response.status}, ${String(record.codes || record.error)}`);
  const forwarded = seen.forwarded!;
  check(forwarded.get('x-verified-sub') === 'warm' && forwarded.get('x-verified-roles') === 'reader' && forwarded.has('x-verified-assertion') && !forwarded.has('authorization'), 'identity headers');
  check(seen.records.length === 1 && record.outcome === 'allowed' && record.key_layer === 'network' && record.assertion === 'minted' && typeof record.token_fp === 'string', `record ${JSON.stringify(record)}`);
}

/**
 * warmStages at load, never failing the load: a warm-up that fails costs its warmth, nothing else. Resolves
 * to null, or how it failed, for the entry point to report once (src/index.ts). It settles during the load
 * itself (its awaits are WebCrypto calls and stand-ins, answered without I/O). `stages` is warmStages; tests
 * pass one that fails.
 */
export async function warmRequestPath(stages: () => Promise<void> = warmStages): Promise<string | null> {
  try {
    await stages();
    return null;
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}` : 'unknown';
  }
}

/**
 * After the warm-up, at load too: this isolate's own Gateway built (its route table compiled) and its
 * assertion keys imported from the Worker's secrets (signing-keys.ts keeps them per isolate and checks them
 * against the secrets' values on every request), so a cold isolate's first request finds both ready instead
 * of doing them itself. workerd gives the global scope the bindings a request gets (`env` of
 * `cloudflare:workers`), and neither step needs more than WebCrypto without randomness. Null if anything
 * throws: the first request then builds and imports as it always did, and meets the error there.
 */
export async function readyAtLoad(setup: () => { config: CompiledConfig; options: GatewayOptions }, env: Env): Promise<Gateway | null> {
  try {
    const { config, options } = setup();
    const gateway = new Gateway(config, options);
    if (config.settings.assertion) await signingSetup(config.settings.assertion, env);
    return gateway;
  } catch {
    return null;
  }
}

/**
 * The load's last step: no object it made is left in V8's young generation. Whatever the load made (the
 * modules, the warm-up's leftovers, the Gateway) is young until the first scavenge, which copies every
 * survivor; on a cold isolate that scavenge came during the first request (~1.2 MiB copied, 1.2-3 ms,
 * `--trace-gc` in bench:cold's workerd), or, with the Gateway built at load, during a first request that
 * only answers 401. Short-lived garbage allocated here (~4 MiB) brings the scavenges to the load instead:
 * the second promotes the survivors to the old generation, and the first request starts with an empty
 * young generation. The price is paid at load, and it is larger: ~10 ms of CPU (bench:cold's load figure),
 * the scavenges and the old-generation marking the promotion starts, for ~1.7 ms off the first request:
 * bought because the first request is what a plan's CPU limit meets. JavaScript has no other way to ask
 * for a collection (gc() needs a V8 flag). The arrays go through a small ring so that no compiler can
 * prove them unused and leave them out.
 */
export function settleHeap(): void {
  const ring: unknown[][] = [];
  for (let i = 0; i < 16_000; i++) ring[i & 7] = new Array(62);
}
