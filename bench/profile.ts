/**
 * `npm run bench:profile [-- --distinct] [--seconds N]`: where the gateway's CPU goes under load. Starts the
 * bench's gateway Worker (bundled readable: names kept) alone in `workerd serve`, as the benchmark runs it,
 * with the V8 inspector on 127.0.0.1,
 * the bench's origin and JWKS on loopback, warms it, then records a CPU profile (50 µs sampling) while
 * autocannon sends one repeated RS256 token (or distinct tokens) through it; `--cold` profiles the
 * isolate's first request alone; `--micro verify` (or floor, cached) the RS256 verify path of bench/worker/micro.ts; `--request handle` (or any request-cost variant) whole
 * requests inside one isolate, without the HTTP server. Prints the top functions by
 * self and inclusive time per request and writes bench/.build/profile-<kind>.cpuprofile (open it in Chrome
 * DevTools). The sampler counts wall time on the isolate's thread (a blocked write counts), and the
 * profiler slows the isolate down: use it to rank costs, and `npm run bench` to measure them.
 * Ports: 18701 (origin), 18702 (JWKS), 18711 (gateway), 18730 (inspector), all 127.0.0.1.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCli, usageError } from '../scripts/cli.ts';
import { claimsFor, microFixtures, mintPool } from './lib/fixtures.ts';
import { inspector } from './lib/inspector.ts';
import { runLoad } from './lib/load.ts';
import { INSPECTED_PORTS, startInspectedGateway } from './lib/setup.ts';
import { BUILD_DIR, bundleWorker } from './lib/workers.ts';

const { values: args } = parseCli('bench:profile', {
  options: { distinct: { type: 'boolean', default: false }, cold: { type: 'boolean', default: false }, micro: { type: 'string' }, request: { type: 'string' }, seconds: { type: 'string', default: '6' } },
});
const kind = args.request ? `request-${args.request}` : args.micro ? `micro-${args.micro}` : args.cold ? 'cold' : args.distinct ? 'distinct' : 'repeated';
const seconds = Number(args.seconds);
if (!(seconds > 0 && seconds <= 120)) usageError('bench:profile', `--seconds must be a number from 0 to 120, not "${args.seconds}"`);
const PORTS = INSPECTED_PORTS;

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self and inclusive sampled time per function (name, file, line), in µs per request. */
function summarize(profile: CpuProfile, requests: number): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const name = (node: ProfileNode) => `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.split('/').pop()}:${node.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((sample, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    total += delta;
    const node = byId.get(sample)!;
    self.set(name(node), (self.get(name(node)) ?? 0) + delta);
    const counted = new Set<string>();
    for (let id: number | undefined = sample; id !== undefined; id = parentOf.get(id)) {
      const key = name(byId.get(id)!);
      if (counted.has(key)) continue;
      counted.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + delta);
    }
  });
  const top = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, us]) => `${(us / requests).toFixed(1).padStart(8)} µs/req ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`)
      .join('\n');
  return [`sampled ${(total / requests).toFixed(1)} µs per request over ${requests} requests`, '-- self', top(self, 30), '-- inclusive', top(inclusive, 30)].join('\n');
}

/**
 * --micro <variant> (bench/worker/micro.ts, RS256: 20 calls of 2,000 iterations) or --request <variant>
 * (bench/worker/request-cost.ts, whole requests inside one isolate: 20 calls of 200). A request variant
 * whose requests were not all answered 200 fails the profile: it would profile the wrong path.
 */
async function endpointLoad(url: string, endpoint: 'micro' | 'request', variant: string): Promise<number> {
  const n = endpoint === 'micro' ? 2000 : 200;
  const query = `${endpoint === 'micro' ? 'alg=RS256&' : ''}variant=${encodeURIComponent(variant)}`;
  for (let i = 0; i < 20; i++) {
    const response = await fetch(`${url}/__bench/${endpoint}?${query}&n=${n}`);
    const body = (await response.json()) as { statuses?: number[] };
    if (!response.ok) throw new Error(`${endpoint} ${variant}: ${response.status} ${JSON.stringify(body)}`);
    if (endpoint === 'request' && !variant.startsWith('stage-') && body.statuses?.join() !== '200') {
      throw new Error(`request ${variant}: the gateway answered ${JSON.stringify(body.statuses)}, not 200`);
    }
  }
  return 20 * n;
}

const stops: (() => unknown)[] = [];
try {
  const { keys, tokens, gateway } = await startInspectedGateway(stops, { script: await bundleWorker('gateway', { readable: true }), micro: microFixtures });
  const load = (tokensForRun: string | string[], amount: number) => runLoad(gateway, { path: '/rsa/items/1', tokens: tokensForRun, connections: args.cold ? 1 : 8, amount, seconds }, 200);
  const distinct = args.distinct ? await mintPool(keys.rsa, claimsFor('rsa'), 8000, 'rsa') : null;
  // --cold profiles the isolate's first request instead (Gateway built, keys fetched and imported, code cold).
  if (!args.cold) await load(tokens.rsa, 2000);

  const cdp = await inspector(PORTS.inspector);
  stops.push(() => cdp.close());
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: args.cold ? 20 : 50 });
  await cdp.send('Profiler.start');
  // Under --micro and --request, "requests" are the endpoint's iterations: no load, so no throughput to print.
  const endpoint: { name: 'micro' | 'request'; variant: string } | null = args.request
    ? { name: 'request', variant: args.request }
    : args.micro
      ? { name: 'micro', variant: args.micro }
      : null;
  const measured = endpoint ? null : await load(distinct ?? tokens.rsa, args.cold ? 1 : 8000);
  const requests = endpoint ? await endpointLoad(gateway.url, endpoint.name, endpoint.variant) : measured!.requests;
  const { profile } = (await cdp.send('Profiler.stop')) as { profile: CpuProfile };
  const out = join(BUILD_DIR, `profile-${kind}.cpuprofile`);
  writeFileSync(out, JSON.stringify(profile));
  if (measured) console.log(`${kind} RS256 token: ${Math.round(measured.rps)} rps, ${Math.round(measured.cpu_us_per_request)} µs CPU per request (profiler on)`);
  console.log(summarize(profile, requests));
  console.log(`wrote ${out}`);
} finally {
  for (const stop of stops.reverse()) await stop();
}
