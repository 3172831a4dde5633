import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { generateKeyPairSync } from 'node:crypto';
import { defineConfig } from 'vitest/config';

// The gateway's assertion signing key in tests, made fresh per run like `npm start` makes its own (a Worker secret in production).
const testSigningKey = JSON.stringify({ ...generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }), kid: 'test-gateway' });

/**
 * A passing run stays quiet: these console lines are what tests provoke on purpose (the gateway's warnings about
 * an issuer that is down or a Worker secret that is missing or short, the origin example refusing a tampered
 * assertion) or a test dependency's development mode (oidc-provider). Tests that check them spy on the console;
 * this only keeps them off the terminal. Any other line still shows.
 */
const EXPECTED_CONSOLE = [/^\{"(event|assertion_rejected)":"/, /^oidc-provider WARNING: a quick start development-only /];
/** A body whose pieces come `gapMs` apart: the first at once. */
function slowBody(pieces: string[], gapMs: number): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let next = 0;
  return new ReadableStream({
    async pull(controller) {
      if (next > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
      if (next === pieces.length) return controller.close();
      controller.enqueue(encoder.encode(pieces[next++]!));
    },
  });
}

const quietExpected = (log: string) => (EXPECTED_CONSOLE.some((line) => line.test(log)) ? false : undefined);

// workerd exposes gc() to the tests, so a test can tell what a cache keeps alive (test/unit/verify/bounded-map-retention.test.ts);
// miniflare takes workerd's V8 flags from this variable alone.
const v8Flags = (process.env.MINIFLARE_WORKERD_V8_FLAGS ?? '').split(' ').filter(Boolean);
if (!v8Flags.includes('--expose-gc')) process.env.MINIFLARE_WORKERD_V8_FLAGS = [...v8Flags, '--expose-gc'].join(' ');

export default defineConfig({
  test: {
    onConsoleLog: quietExpected,
    projects: [
      {
        // Unit, integration and security tests run inside workerd, with real KV and Cache API.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            // The demo policies fetch keys from the demo issuer on 127.0.0.1 over http, as `npm start` allows.
            miniflare: {
              bindings: { ALLOW_LOOPBACK_HTTP: 'true', GATEWAY_SIGNING_KEY: testSigningKey },
              // The optional analytics binding (commented out in wrangler.toml), so tests write through miniflare's local one.
              analyticsEngineDatasets: { GATEWAY_ANALYTICS: { dataset: 'jwt_gateway_decisions' } },
              // An origin reached through a service binding (test/integration/forwarding.test.ts): echoes what it got.
              serviceBindings: {
                TEST_ORIGIN_SERVICE: async (request: Request) =>
                  Response.json({ url: request.url, method: request.method, headers: Object.fromEntries(request.headers), body: await request.text() }),
                // Real origins behind workerd's own fetch for the origin deadline (test/integration/origin-deadline.test.ts):
                // headers at once and a body that streams for 600 ms; headers only after 1.5 s.
                TEST_SLOW_BODY_ORIGIN: () => new Response(slowBody(['first;', 'second;', 'last'], 300)),
                TEST_SLOW_HEADERS_ORIGIN: () => new Promise<Response>((resolve) => setTimeout(() => resolve(new Response('late')), 1500)),
              },
            },
          }),
        ],
        test: {
          name: 'workerd',
          include: ['test/{unit,integration,security}/**/*.test.ts'],
          // Runs per fuzz property (test/security/fuzz.test.ts); FUZZ_RUNS=20000 npm test for a long run.
          provide: { fuzzRuns: Number(process.env.FUZZ_RUNS ?? 0) },
        },
      },
      {
        // End-to-end tests start real processes on 127.0.0.1 from Node.
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], environment: 'node', testTimeout: 60_000, hookTimeout: 60_000 },
      },
    ],
  },
});
