import { cloudflareTest } from '@cloudflare/vitest-plugin';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        // Unit, integration and security tests run inside workerd, with real KV and Cache API.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            // The demo policies fetch keys from the demo issuer on 127.0.0.1 over http, as `npm start` allows.
            miniflare: {
              bindings: { ALLOW_LOOPBACK_HTTP: 'true' },
              // The optional analytics binding (commented out in wrangler.toml), so tests write through miniflare's local one.
              analyticsEngineDatasets: { GATEWAY_ANALYTICS: { dataset: 'jwt_gateway_decisions' } },
            },
          }),
        ],
        test: { name: 'workerd', include: ['test/{unit,integration,security}/**/*.test.ts'] },
      },
      {
        // End-to-end tests start real processes on 127.0.0.1 from Node.
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], environment: 'node', testTimeout: 60_000, hookTimeout: 60_000 },
      },
    ],
  },
});
