/**
 * What `npm run bench` and `npm run bench:profile` both start: the origin process, and the gateway Worker's
 * bindings (its policy, the micro-benchmark's and request-cost fixtures, the assertion secrets).
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { benchConfig, type BenchTokens } from './fixtures.ts';
import { ROOT } from './workers.ts';

/** Starts bench/lib/origin.ts on 127.0.0.1:<port> in its own process; resolves once it listens. */
export async function startOrigin(port: number): Promise<{ pid: number; stop: () => void }> {
  const child = spawn(process.execPath, [join(ROOT, 'bench', 'lib', 'origin.ts'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`origin exited with ${code}`)));
    child.stdout!.once('data', () => resolve());
  });
  return { pid: child.pid!, stop: () => child.exitCode === null && child.kill('SIGTERM') };
}

/** The gateway's assertion secrets for one run (Worker secrets in production): signed mode (EdDSA) and HMAC mode. */
export const gatewaySecrets = () => ({
  GATEWAY_SIGNING_KEY: JSON.stringify({ ...generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }), kid: 'bench' }),
  GATEWAY_ASSERTION_SECRET: randomBytes(32).toString('base64url'),
});

export interface GatewayBindingsInput {
  routes: number;
  jwks: string;
  origin: string;
  tokens: BenchTokens;
  micro: unknown;
  secrets: ReturnType<typeof gatewaySecrets>;
}

/**
 * bench/worker/gateway.ts's bindings: the bench policy with `routes` filler routes, and, on the 10-route
 * gateway, the same policy with 1,000 routes for the in-isolate 10-vs-1,000 comparison. Every forwarded
 * request carries the signed assertion (EdDSA), as in production; the HMAC secret serves the request-cost
 * variant that signs in HMAC mode instead.
 */
export function gatewayBindings({ routes, jwks, origin, tokens, micro, secrets }: GatewayBindingsInput): Record<string, unknown> {
  return {
    CONFIG: benchConfig(routes, jwks, origin),
    MICRO: micro,
    REQUEST_COST: {
      path: '/rsa/items/1',
      token: tokens.rsa,
      origin,
      config1000: routes === 10 ? benchConfig(1000, jwks, origin) : null,
      lastRoute10: '/svc9/items/1',
      lastRoute1000: '/svc999/items/1',
    },
    ALLOW_LOOPBACK_HTTP: 'true',
    ...secrets,
  };
}
