/**
 * `npm run bench:memory`: the gateway isolate's V8 heap, measured, with its caches filled to their bounds.
 * Starts the bench gateway alone in `workerd serve` with the V8 inspector on 127.0.0.1, and after each phase
 * forces a full GC and reads the isolate's heap (Runtime.getHeapUsage), which a Worker itself cannot see:
 *   warm          one request: Gateway built, key set loaded, one token verified and one assertion kept
 *   typical       + 12,000 distinct ordinary RS256 tokens (~700 bytes): the verified-token cache at its byte
 *                 bound (4 MiB of token text), the reused-assertion cache at its text bound (4 MiB:
 *                 ~2,700 entries of ~1.5 KB, reached before the 4,096-entry bound)
 *   pathological  + 1,500 distinct tokens near the 8 KiB cap whose payload is an array of 1,880 empty objects,
 *                 the claim shape that costs V8 the most memory per byte of JSON: both caches refilled with them
 * The difference from `warm` is what the caches hold. BENCHMARKS.md ("Memory") compares it with the bounds.
 * "heap total" is what V8 has reserved, which grows under a high allocation rate whatever the Worker keeps:
 * for scale, the pass-through Worker's, which keeps nothing, after as many requests.
 * Ports: 127.0.0.1:18701 (origin), 18702 (JWKS), 18711 (gateway), 18730 (its inspector), 18710 and 18731
 * (the pass-through and its inspector).
 */
import { parseCli, usageError } from '../scripts/cli.ts';
import { SignJWT } from 'jose';
import { claimsFor, mintPool } from './lib/fixtures.ts';
import { inspector } from './lib/inspector.ts';
import { runLoad } from './lib/load.ts';
import { rssBytes } from './lib/proc-cpu.ts';
import { INSPECTED_PORTS, startInspectedGateway } from './lib/setup.ts';
import { round, table } from './lib/stats.ts';
import type { BenchKey } from './lib/tokens.ts';
import { bundleWorker, startWorkerDirect } from './lib/workers.ts';

const PORTS = { ...INSPECTED_PORTS, passthrough: 18710, passthroughInspector: 18731 };
const ORIGIN = `http://127.0.0.1:${PORTS.origin}`;
const { values: args } = parseCli('bench:memory', { options: { 'heap-limit-mib': { type: 'string' } } });
if (args['heap-limit-mib'] !== undefined && !(Number.isInteger(Number(args['heap-limit-mib'])) && Number(args['heap-limit-mib']) > 0)) usageError('bench:memory', `--heap-limit-mib must be a whole number of MiB, not "${args['heap-limit-mib']}"`);
/** --heap-limit-mib N: V8's --max-heap-size for the gateway's workerd, to see that the caches fit a limit like the platform's. */
const heapLimit = args['heap-limit-mib'] === undefined ? [] : [`--max-heap-size=${Number(args['heap-limit-mib'])}`];
const TYPICAL_TOKENS = 12_000;
const PATHOLOGICAL_TOKENS = 1_500;
/** Keeps the token just under the gateway's 8 KiB cap (MAX_TOKEN_BYTES) with an RS256 signature. */
const EMPTY_OBJECTS = 1_880;

/** Distinct tokens whose claims parse into as many small V8 objects as 8 KiB of token can carry. */
async function pathologicalPool(key: BenchKey, count: number): Promise<string[]> {
  const { iss, aud, app } = claimsFor('rsa');
  const now = Math.floor(Date.now() / 1000);
  const pool: string[] = [];
  for (let i = 0; i < count; i++) {
    const token = await new SignJWT({ iss, aud, sub: `heavy-${i}`, app_id: app, scope: 'read', x: Array.from({ length: EMPTY_OBJECTS }, () => ({})) })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
      .setIssuedAt(now)
      .setExpirationTime(now + 3 * 3600)
      .sign(key.privateKey);
    if (token.length > 8192) throw new Error(`pathological token is ${token.length} bytes, over the gateway's cap`);
    pool.push(token);
  }
  return pool;
}

const log = (message: string) => process.stderr.write(`${message}\n`);
const stops: (() => unknown)[] = [];
try {
  const [script, passthroughScript] = await Promise.all([bundleWorker('gateway'), bundleWorker('passthrough')]);
  const { keys, tokens, gateway } = await startInspectedGateway(stops, { script, v8Flags: ['--expose-gc', ...heapLimit] });
  const typical = await mintPool(keys.rsa, claimsFor('rsa'), TYPICAL_TOKENS, 'typical');
  const heavy = await pathologicalPool(keys.rsa, PATHOLOGICAL_TOKENS);
  log(`  ${typical.length + heavy.length} tokens minted`);

  const heap = async () => {
    // gc() exists because this workerd runs with --expose-gc; workerd's inspector does not answer
    // HeapProfiler.collectGarbage, so the Worker collects on request (bench/worker/gateway.ts).
    const collected = (await (await fetch(`${gateway.url}/__bench/gc`)).json()) as { collected: boolean };
    if (!collected.collected) throw new Error('gc() is not exposed in the isolate');
    const usage = (await cdp.send('Runtime.getHeapUsage')) as { usedSize?: number; totalSize?: number };
    if (typeof usage.usedSize !== 'number') throw new Error(`the inspector gave no heap figure: ${JSON.stringify(usage)}`);
    return { used: usage.usedSize, total: usage.totalSize ?? null, rss: rssBytes(gateway.pid) };
  };
  const send = async (name: string, pool: string | string[], amount: number) => {
    log(`  ${name}: ${amount} requests`);
    const result = await runLoad(gateway, { path: '/rsa/items/1', tokens: pool, connections: Math.min(8, amount), amount, seconds: 120 }, 200);
    if (result.unexpected > 0 || result.requests < amount) throw new Error(`${name}: answered ${JSON.stringify(result.statuses)} to ${result.requests} of ${amount} requests`);
  };

  const phases: { phase: string; used: number; total: number | null; rss: number }[] = [];
  await send('warm', tokens.rsa, 1);
  // Connected after the first request: workerd lists the isolate as an inspector target once it exists.
  const cdp = await inspector(PORTS.inspector);
  stops.push(() => cdp.close());
  phases.push({ phase: 'warm', ...(await heap()) });
  await send('typical', typical, TYPICAL_TOKENS);
  phases.push({ phase: `typical (+${TYPICAL_TOKENS.toLocaleString('en')} tokens of ~${typical[0]!.length} bytes)`, ...(await heap()) });
  await send('pathological', heavy, PATHOLOGICAL_TOKENS);
  phases.push({ phase: `pathological (+${PATHOLOGICAL_TOKENS.toLocaleString('en')} tokens of ${heavy[0]!.length} bytes)`, ...(await heap()) });
  await new Promise((resolve) => setTimeout(resolve, 5000));
  await heap();
  phases.push({ phase: 'the same, 5 s idle and two more collections later', ...(await heap()) });

  // For scale: the pass-through, which keeps nothing, after as many requests (its heap is not collected first).
  const passthrough = await startWorkerDirect({ scriptPath: passthroughScript, port: PORTS.passthrough, inspectorPort: PORTS.passthroughInspector, bindings: { ORIGIN } });
  stops.push(() => passthrough.dispose());
  log(`  pass-through: ${TYPICAL_TOKENS + PATHOLOGICAL_TOKENS} requests`);
  const through = await runLoad(passthrough, { path: '/rsa/items/1', connections: 8, amount: TYPICAL_TOKENS + PATHOLOGICAL_TOKENS, seconds: 120 }, 200);
  if (through.unexpected > 0) throw new Error(`pass-through answered ${JSON.stringify(through.statuses)}`);
  const passthroughCdp = await inspector(PORTS.passthroughInspector);
  stops.push(() => passthroughCdp.close());
  const passthroughUsage = (await passthroughCdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
  phases.push({ phase: `pass-through, after ${(TYPICAL_TOKENS + PATHOLOGICAL_TOKENS).toLocaleString('en')} requests (not collected)`, used: passthroughUsage.usedSize, total: passthroughUsage.totalSize, rss: rssBytes(passthrough.pid) });

  const mib = (bytes: number | null) => (bytes === null ? null : round(bytes / 2 ** 20, 1));
  console.log('gateway isolate heap after a full GC (V8 inspector), MiB');
  console.log(
    table(
      ['phase', 'heap used', 'over warm', 'heap total', 'workerd RSS'],
      phases.map((p) => [p.phase, mib(p.used), p.phase.startsWith('pass-through') ? '' : mib(p.used - phases[0]!.used), mib(p.total), mib(p.rss)]),
    ),
  );
} finally {
  for (const stop of stops.reverse()) await stop();
}
