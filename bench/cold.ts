/**
 * `npm run bench:cold [-- --rounds N] [--v8-flags=--no-lazy]` (several flags: `--v8-flags="--a --b"`): where a cold isolate's first request goes.
 * Each round starts a fresh `workerd serve` per variant (as `npm run bench`'s cold-first-request does) and
 * reads the process's CPU time around each request:
 *   passthrough        the no-op Worker's first request (the runtime's own cold cost)
 *   passthrough-log    the same plus one record-sized console.log (workerd's log formatting, cold)
 *   gateway-401        the gateway's first request without a token: its code on the refusal path, and the record
 *   gateway-first      the gateway's first request with a valid token: Gateway built, JWKS fetched, key imported,
 *                      token verified, assertion signed, origin fetched, record written
 *   gateway-second     the same token again right after: the same code, compiled now but not yet optimized
 *   passthrough-log (line), gateway-first (line)   the same with the record logged as one JSON string
 *                      (LOG_FORMAT=line), as the deployed runtime serializes a logged object: the first request as deployed
 * `--baseline <git revision>` (repeatable) adds baseline-first: the gateway of that revision (bundled from a temporary git
 * worktree under bench/.build), its first request interleaved with this tree's, for a before/after of a change.
 * Every row also says its CPU over the pass-through's in the same round (the machine's load moves both), and
 * the CPU its workerd spent starting (workerd's own start and the script's load, where src/warm.ts runs),
 * waited out before the first request (bench/lib/first-request.ts settledStart).
 * `--v8-flags=--no-lazy` compiles every function when the script loads instead of on its first call: the
 * difference in gateway-first says how much of a first request is V8 compiling the gateway's code. A
 * diagnosis only; a deployed Worker cannot set V8 flags.
 * Ports: 127.0.0.1:18701 (origin), 18702 (JWKS), 18720 (the Worker under test).
 */
import { parseCli, usageError } from '../scripts/cli.ts';
import { jwksSets, makeBenchKeys, repeatedTokens } from './lib/fixtures.ts';
import { measuredRequest, settledStart } from './lib/first-request.ts';
import { coldGatewayBindings, gatewaySecrets, startOrigin } from './lib/setup.ts';
import { median, round, table } from './lib/stats.ts';
import { startJwksServer } from './lib/tokens.ts';
import { bundleRevision, bundleWorker, startWorkerDirect } from './lib/workers.ts';

const { values: args } = parseCli('bench:cold', { options: { rounds: { type: 'string', default: '9' }, 'v8-flags': { type: 'string', default: '' }, baseline: { type: 'string', multiple: true, default: [] } } });
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1) usageError('bench:cold', `--rounds must be a whole number of at least 1, not "${args.rounds}"`);
const v8Flags = args['v8-flags'].split(' ').filter(Boolean);
const ORIGIN = 'http://127.0.0.1:18701';
const JWKS = 'http://127.0.0.1:18702';

const [gateway, passthrough, passthroughLog] = await Promise.all([bundleWorker('gateway'), bundleWorker('passthrough'), bundleWorker('passthrough-log')]);
const baselines: { label: string; script: string }[] = [];
// One at a time: git refuses two worktree additions at once.
for (const revision of args.baseline) baselines.push(await bundleRevision(revision));

const keys = await makeBenchKeys();
const tokens = await repeatedTokens(keys);
const gatewayEnv = coldGatewayBindings(JWKS, ORIGIN, gatewaySecrets().GATEWAY_SIGNING_KEY);

/** One variant: a Worker and the requests sent to a fresh instance of it, in order, each named for the table. */
const variants: { script: string; env: Record<string, unknown>; requests: { name: string; token: string | null }[] }[] = [
  { script: passthrough, env: { ORIGIN }, requests: [{ name: 'passthrough', token: null }] },
  { script: passthroughLog, env: { ORIGIN }, requests: [{ name: 'passthrough-log', token: null }] },
  { script: gateway, env: gatewayEnv, requests: [{ name: 'gateway-401', token: null }] },
  { script: gateway, env: gatewayEnv, requests: [{ name: 'gateway-first', token: tokens.rsa }, { name: 'gateway-second', token: tokens.rsa }] },
  // The record as one JSON string (LOG_FORMAT=line): the serialization the deployed runtime gives a logged object,
  // where local workerd formats the object with util.inspect, ~3 ms on its first use (BENCHMARKS.md).
  { script: passthroughLog, env: { ORIGIN, LOG_FORMAT: 'line' }, requests: [{ name: 'passthrough-log (line)', token: null }] },
  { script: gateway, env: { ...gatewayEnv, LOG_FORMAT: 'line' }, requests: [{ name: 'gateway-first (line)', token: tokens.rsa }] },
  ...baselines.map((baseline) => ({ script: baseline.script, env: gatewayEnv, requests: [{ name: `baseline-first (${baseline.label})`, token: tokens.rsa }] })),
];
const gatewayScripts = new Set([gateway, ...baselines.map((baseline) => baseline.script)]);
/** Per request name, one entry per round: its CPU, its latency, and the CPU its workerd spent loading (start to listening). */
const seen = new Map<string, { cpuUs: number; ms: number; loadUs: number }[]>();
const record = (name: string, figures: { cpuUs: number; ms: number; loadUs: number }) => seen.set(name, [...(seen.get(name) ?? []), figures]);

const stops: (() => unknown)[] = [];
try {
  const origin = await startOrigin(18701);
  stops.push(() => origin.stop());
  const jwks = await startJwksServer(18702, jwksSets(keys));
  stops.push(() => jwks.close());
  for (let r = 0; r < rounds; r++) {
    for (const variant of variants) {
      const worker = await startWorkerDirect({ scriptPath: variant.script, port: 18720, bindings: variant.env, v8Flags });
      // What the process spent starting: workerd's own start and the script's load (src/warm.ts runs there).
      const loadUs = await settledStart(worker);
      try {
        for (const { name, token } of variant.requests) {
          const { status, ms, cpuUs } = await measuredRequest(worker, '/rsa/items/1', token);
          const expected = token === null && gatewayScripts.has(variant.script) ? 401 : 200;
          if (status !== expected) throw new Error(`${name}: answered ${status}, expected ${expected}`);
          record(name, { cpuUs, ms, loadUs });
        }
        if (gatewayScripts.has(variant.script)) {
          // Asked after the measured requests: a warm-up that failed at load would make this tree look colder than it is.
          const stats = (await (await fetch(`${worker.url}/__bench/stats`)).json()) as { warm_failure?: string | null };
          if (stats.warm_failure) throw new Error(`the gateway's warm-up at load failed: ${stats.warm_failure}`);
        }
      } finally {
        await worker.dispose();
      }
    }
  }
} finally {
  for (const stop of stops.reverse()) await stop();
}

// The machine's load moves every figure together (up to 3x): each round's CPU over the pass-through's of the same round moves far less.
const passthroughRuns = seen.get('passthrough')!;
const overPassthrough = (runs: { cpuUs: number; loadUs: number }[], field: 'cpuUs' | 'loadUs') => round(median(runs.map((run, i) => run[field] / passthroughRuns[i]![field])), 2);
console.log(`cold first requests, ${rounds} rounds, medians${v8Flags.length > 0 ? `, V8 flags ${v8Flags.join(' ')}` : ''}; x pass-through: the median over rounds of the ratio to the pass-through's figure in the same round`);
console.log(
  table(
    ['variant', 'CPU µs', 'min', 'max', 'x pass-through', 'wall ms', 'load CPU µs', 'load x pass-through'],
    [...seen].map(([name, runs]) => [
      name,
      round(median(runs.map((r) => r.cpuUs))),
      round(Math.min(...runs.map((r) => r.cpuUs))),
      round(Math.max(...runs.map((r) => r.cpuUs))),
      overPassthrough(runs, 'cpuUs'),
      round(median(runs.map((r) => r.ms)), 2),
      round(median(runs.map((r) => r.loadUs))),
      overPassthrough(runs, 'loadUs'),
    ]),
  ),
);
// Paired within each round: the change's own effect, with the load of the moment divided out.
const gatewayFirst = seen.get('gateway-first')!;
for (const { label } of baselines) {
  const runs = seen.get(`baseline-first (${label})`)!;
  console.log(`gateway-first over baseline-first (${label}), median of per-round ratios: ${round(median(gatewayFirst.map((run, i) => run.cpuUs / runs[i]!.cpuUs)), 3)}`);
}
