/**
 * The HTTP-level scenarios of `npm run bench`: each one's Workers (the pass-through, the gateway and, in the peer
 * scenarios, the peers) loaded in interleaved rounds, the order reversed every other round, and reported as
 * medians of the rounds with ratios paired by round; and the cold first request, a fresh workerd per round.
 * Each gives one row of `scenarios` in latest.json (and the peer scenarios one entry of `peers`).
 */
import { measuredRequest, settledStart } from './first-request.ts';
import { runLoad, type LoadResult, type LoadSpec } from './load.ts';
import { peerFigures, type Peer, type PeerFigures } from './peers.ts';
import { CONNECTIONS, elapsed, failures, log, ORIGIN, PORTS, PROFILE, ROUNDS, start } from './run-options.ts';
import { median, round } from './stats.ts';
import type { WorkerInstance } from './workers.ts';

export interface Scenario {
  name: string;
  gateway: WorkerInstance;
  spec: Omit<LoadSpec, 'tokens' | 'connections' | 'amount' | 'seconds'> & { amount?: number };
  /** The gateway's tokens for round r (r = -1 for the warm-up); the pass-through gets the same. */
  tokens: (round: number) => string | string[];
  expected: number;
  /**
   * Other Workers run in the same rounds, in turn with the pass-through and the gateway (the peer scenarios),
   * so each one's figure over the gateway's is paired round by round rather than taken from other rounds.
   */
  peers?: Peer[];
}

export interface ScenarioResult {
  name: string;
  rps: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  cpu_us_per_request: number | null;
  passthrough_rps: number | null;
  ratio_vs_passthrough: number | null;
  passthrough_cpu_us_per_request: number | null;
  /** Pass-through CPU per request over the gateway's, per round, median: the steadier twin of the throughput ratio. */
  cpu_ratio_vs_passthrough: number | null;
}

/** A failed scenario's row: it keeps its place in the table, every figure empty. */
export const emptyResult = (name: string): ScenarioResult => ({
  name,
  rps: null,
  p50_ms: null,
  p99_ms: null,
  cpu_us_per_request: null,
  passthrough_rps: null,
  ratio_vs_passthrough: null,
  passthrough_cpu_us_per_request: null,
  cpu_ratio_vs_passthrough: null,
});

/** Key imports counted by the gateway over the measured requests of every scenario (`details.key_imports_per_request_steady_state`). */
export interface KeyImportCount {
  requests: number;
  imports: number;
}

async function stats(gateway: WorkerInstance): Promise<{ requests: number; key_imports: number }> {
  return (await fetch(`${gateway.url}/__bench/stats`)).json() as Promise<{ requests: number; key_imports: number }>;
}

/** One scenario's rounds: its row, and in a peer scenario each Worker's figures (`peers` of latest.json), else null. */
export async function measureScenario(scenario: Scenario, passthrough: WorkerInstance, steadyImports: KeyImportCount): Promise<{ result: ScenarioResult; peers: Record<string, PeerFigures> | null }> {
  const spec = (round: number): LoadSpec => ({
    ...scenario.spec,
    tokens: scenario.tokens(round),
    connections: CONNECTIONS,
    amount: scenario.spec.amount ?? PROFILE.amount,
    seconds: PROFILE.seconds,
  });
  // Warm the gateway for this scenario (JIT, its key set, its token cache); not counted. The pass-through was warmed once at start.
  const warm = { ...spec(-1), amount: Math.min(PROFILE.warmAmount, scenario.spec.amount ?? Infinity) };
  const warmGateway = await runLoad(scenario.gateway, warm, scenario.expected);
  if (warmGateway.unexpected > 0) throw new Error(`${scenario.name}: gateway answered ${JSON.stringify(warmGateway.statuses)}, expected ${scenario.expected}`);
  const peers = scenario.peers ?? [];
  for (const peer of peers) {
    const warmed = await runLoad(peer.worker, warm, peer.expected);
    if (warmed.unexpected > 0) throw new Error(`${scenario.name}: ${peer.name} answered ${JSON.stringify(warmed.statuses)}, expected ${peer.expected}`);
  }

  const gw: LoadResult[] = [];
  const pt: LoadResult[] = [];
  const beside: LoadResult[][] = peers.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    // Reversed every other round, so a drift of the machine's load hits every side alike: each pair (the
    // gateway and the peers included) runs in either order equally often over two rounds. Hence an even
    // number of rounds by default: with an odd one the forward order runs once more, and under a rising load
    // the Workers it runs last came out 3-20% dearer against the gateway than in the isolate (session 18).
    const sides: (number | 'pt' | 'gw')[] = ['pt', 'gw', ...peers.map((_, i) => i)];
    const order = r % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      if (typeof side === 'number') {
        const peer = peers[side]!;
        const result = await runLoad(peer.worker, spec(r), peer.expected);
        if (result.unexpected > 0) failures.push(`${scenario.name} round ${r}: ${peer.name} answered ${JSON.stringify(result.statuses)}, expected ${peer.expected}`);
        beside[side]!.push(result);
      } else if (side === 'pt') {
        const result = await runLoad(passthrough, spec(r), 200);
        if (result.unexpected > 0) failures.push(`${scenario.name} round ${r}: pass-through answered ${JSON.stringify(result.statuses)}`);
        pt.push(result);
      } else {
        const before = await stats(scenario.gateway);
        const result = await runLoad(scenario.gateway, spec(r), scenario.expected);
        const after = await stats(scenario.gateway);
        steadyImports.requests += after.requests - before.requests;
        steadyImports.imports += after.key_imports - before.key_imports;
        // A run with any unexpected answer measured something else: the scenario still reports, the command fails.
        if (result.unexpected > 0) failures.push(`${scenario.name} round ${r}: gateway answered ${JSON.stringify(result.statuses)}, expected ${scenario.expected}`);
        gw.push(result);
      }
    }
  }
  const ratios = gw.map((g, i) => g.rps / pt[i]!.rps);
  let peerRows: Record<string, PeerFigures> | null = null;
  if (peers.length > 0) {
    const rows: Record<string, PeerFigures> = { passthrough: peerFigures(pt, pt, gw), gateway: peerFigures(gw, pt, gw) };
    peers.forEach((peer, i) => (rows[peer.name] = peerFigures(beside[i]!, pt, gw)));
    peerRows = rows;
    log(`  ${elapsed()} ${scenario.name} peers (CPU us/req, x gateway): ${Object.entries(rows).map(([name, f]) => `${name} ${f.cpu_us_per_request} (${f.cpu_vs_gateway})`).join(', ')}`);
  }
  const result: ScenarioResult = {
    name: scenario.name,
    rps: round(median(gw.map((g) => g.rps)), 0),
    p50_ms: round(median(gw.map((g) => g.p50_ms)), 2),
    p99_ms: round(median(gw.map((g) => g.p99_ms)), 2),
    cpu_us_per_request: round(median(gw.map((g) => g.cpu_us_per_request))),
    passthrough_rps: round(median(pt.map((p) => p.rps)), 0),
    ratio_vs_passthrough: round(median(ratios), 3),
    passthrough_cpu_us_per_request: round(median(pt.map((p) => p.cpu_us_per_request))),
    cpu_ratio_vs_passthrough: round(median(gw.map((g, i) => pt[i]!.cpu_us_per_request / g.cpu_us_per_request)), 3),
  };
  log(`  ${elapsed()} ${scenario.name}: ${result.rps} rps (pass-through ${result.passthrough_rps}), ratio ${result.ratio_vs_passthrough}, cpu ${result.cpu_us_per_request} vs ${result.passthrough_cpu_us_per_request} us/req`);
  return { result, peers: peerRows };
}

/** A fresh workerd per round: the first request's latency and CPU (Gateway construction, JWKS fetch, key import, verify). */
export async function measureColdStart(gatewayScript: string, passthroughScript: string, bindings: Record<string, unknown>, token: string): Promise<ScenarioResult> {
  const first = async (script: string, port: number, extra: Record<string, unknown>) => {
    const worker = await start({ scriptPath: script, port, bindings: extra });
    try {
      // workerd goes on starting after it listens: its first request is measured once that is over.
      await settledStart(worker);
      const { status, ms, cpuUs } = await measuredRequest(worker, '/rsa/items/1', token);
      if (status !== 200) throw new Error(`cold start answered ${status}`);
      return { ms, cpuUs };
    } finally {
      await worker.dispose();
    }
  };
  const gw: { ms: number; cpuUs: number }[] = [];
  const pt: { ms: number; cpuUs: number }[] = [];
  for (let r = 0; r < PROFILE.coldRounds; r++) {
    if (r % 2 === 0) pt.push(await first(passthroughScript, PORTS.coldPassthrough, { ORIGIN }));
    gw.push(await first(gatewayScript, PORTS.coldGateway, bindings));
    if (r % 2 === 1) pt.push(await first(passthroughScript, PORTS.coldPassthrough, { ORIGIN }));
  }
  const result: ScenarioResult = {
    name: 'cold-first-request',
    rps: null,
    p50_ms: round(median(gw.map((g) => g.ms)), 2),
    p99_ms: round(Math.max(...gw.map((g) => g.ms)), 2),
    cpu_us_per_request: round(median(gw.map((g) => g.cpuUs))),
    passthrough_rps: null,
    // For one request there is no throughput: the ratio is pass-through latency over gateway latency.
    ratio_vs_passthrough: round(median(pt.map((p) => p.ms)) / median(gw.map((g) => g.ms)), 3),
    passthrough_cpu_us_per_request: round(median(pt.map((p) => p.cpuUs))),
    cpu_ratio_vs_passthrough: round(median(pt.map((p) => p.cpuUs)) / median(gw.map((g) => g.cpuUs)), 3),
  };
  log(`  ${elapsed()} cold-first-request: ${result.p50_ms} ms (pass-through ${round(median(pt.map((p) => p.ms)), 2)} ms), cpu ${result.cpu_us_per_request} us`);
  return result;
}
