/**
 * What the benchmark commands start: the origin process, the gateway Worker's bindings (its policy, the
 * micro-benchmark's and request-cost fixtures, the assertion secrets), and the inspected gateway of
 * bench:profile and bench:memory.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { benchConfig, jwksSets, makeBenchKeys, repeatedTokens, type BenchKeys, type BenchTokens } from './fixtures.ts';
import { startJwksServer } from './tokens.ts';
import { ROOT, startWorkerDirect } from './workers.ts';

/** Starts bench/lib/origin.ts on 127.0.0.1:<port> in its own process; resolves once it listens. */
export async function startOrigin(port: number): Promise<{ pid: number; stop: () => void }> {
  const child = spawn(process.execPath, [join(ROOT, 'bench', 'lib', 'origin.ts'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`origin exited with ${code}`)));
    child.stdout!.once('data', () => resolve());
  });
  return { pid: child.pid!, stop: () => child.exitCode === null && child.kill('SIGTERM') };
}

/** The gateway's assertion signing key for one run (a Worker secret in production): signed mode, EdDSA. */
export const gatewaySecrets = () => ({
  GATEWAY_SIGNING_KEY: JSON.stringify({ ...generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }), kid: 'bench' }),
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
 * request carries the signed assertion (EdDSA), as in production.
 */
export function gatewayBindings({ routes, jwks, origin, tokens, micro, secrets }: GatewayBindingsInput): Record<string, unknown> {
  return {
    CONFIG: benchConfig(routes, jwks, origin),
    MICRO: micro,
    REQUEST_COST: {
      path: '/rsa/items/1',
      token: tokens.rsa,
      rejected: tokens.rejected,
      origin,
      config1000: routes === 10 ? benchConfig(1000, jwks, origin) : null,
      lastRoute10: '/svc9/items/1',
      lastRoute1000: '/svc999/items/1',
    },
    ALLOW_LOOPBACK_HTTP: 'true',
    ...secrets,
  };
}

/** Ports of the inspected gateway's world (bench:profile, bench:memory), all on 127.0.0.1. */
/**
 * A cold gateway's bindings: only what its first request reads. Not gatewayBindings(): workerd deserializes
 * every JSON binding into env on the first request, and the request-cost fixture's 1,000-route policy alone
 * added ~2.8 ms of CPU to it (bench:cold, 3 rounds). Shared by npm run bench's cold-first-request and bench:cold.
 */
export const coldGatewayBindings = (jwks: string, origin: string, signingKey: string): Record<string, unknown> => ({
  CONFIG: benchConfig(10, jwks, origin),
  MICRO: {},
  ALLOW_LOOPBACK_HTTP: 'true',
  GATEWAY_SIGNING_KEY: signingKey,
});

export const INSPECTED_PORTS = { origin: 18701, jwks: 18702, gateway: 18711, inspector: 18730 };

/**
 * What `npm run bench:profile` and `npm run bench:memory` both start: the origin, the issuers' keys and their
 * JWKS server, and the gateway Worker (`script`) alone in workerd with its V8 inspector open. Everything
 * started is pushed onto `stops`, to be stopped by the caller in reverse order.
 */
export async function startInspectedGateway(stops: (() => unknown)[], options: { script: string; v8Flags?: string[]; micro?: (keys: BenchKeys) => Promise<unknown> }) {
  const { origin: originPort, jwks: jwksPort, gateway: gatewayPort, inspector } = INSPECTED_PORTS;
  const origin = await startOrigin(originPort);
  stops.push(origin.stop);
  const keys = await makeBenchKeys();
  const tokens = await repeatedTokens(keys);
  const jwksServer = await startJwksServer(jwksPort, jwksSets(keys));
  stops.push(() => jwksServer.close());
  const gateway = await startWorkerDirect({
    scriptPath: options.script,
    port: gatewayPort,
    inspectorPort: inspector,
    v8Flags: options.v8Flags ?? [],
    bindings: gatewayBindings({
      routes: 10,
      jwks: `http://127.0.0.1:${jwksPort}`,
      origin: `http://127.0.0.1:${originPort}`,
      tokens,
      micro: options.micro ? await options.micro(keys) : {},
      secrets: gatewaySecrets(),
    }),
  });
  stops.push(() => gateway.dispose());
  return { keys, tokens, gateway };
}
