/**
 * `npm run bench` (about 13 minutes: the peers run in three scenarios) and `npm run bench -- --quick` (about 2 minutes): the gateway Worker
 * against a no-op pass-through Worker, both in workerd, in front of the same origin, on loopback.
 * Every scenario alternates pass-through and gateway runs and reports medians of the rounds. The three peer
 * scenarios (rs256-repeated, rs256-distinct, rejected) also run, in the same rounds, the Workers a user
 * would deploy instead (bench/worker/peer-*.ts: naive jose, Hono's jwk middleware with jwks_uri and with
 * keys supplied once), the log-line Worker (the pass-through plus one record), the gateway without its
 * assertion and with log_allowed 0, and the gateway and the log-line Worker with their record serialized as
 * the deployed runtime serializes it (LOG_FORMAT=line), each alone in its own workerd: `peers` in latest.json. CPU per request comes from each workerd
 * process's own CPU time. Prints tables, writes bench/results/latest.json (a --quick or --only run: partial.json).
 *
 * Options: --quick, --rounds <n>, --only <name,name>, --note "<machine load>", --out <file>,
 *   --baseline <git revision> (the gateway of that revision, bundled from a temporary worktree, runs as the peer
 *   `gateway-baseline` in the peer scenarios and beside this tree's in request-cost's rounds: a before/after of a change),
 *   --peers <name,name> (only these peers in the peer scenarios; default all), --stages <name,name> (only these
 *   --breakdown variants of request-cost, e.g. fetch-signal,fetch-timeout-relay),
 *   --harness workerd|miniflare (how each Worker runs: bench/lib/workers.ts; default workerd),
 *   --breakdown (CPU of each stage of the verify path and of the request path, printed and kept in
 *   details.breakdown).
 * Ports: 127.0.0.1:18701-18723 only. Everything started here is stopped here, by handle or pid.
 */
import { execSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AUDIENCE, benchConfig, claimsFor, issuerUrl, jwksSets, makeBenchKeys, microFixtures, mintPool, repeatedTokens } from './lib/fixtures.ts';
import { measuredRequest, settledStart } from './lib/first-request.ts';
import { runLoad, type LoadResult, type LoadSpec } from './lib/load.ts';
import { rssBytes } from './lib/proc-cpu.ts';
import { median, round, table } from './lib/stats.ts';
import { coldGatewayBindings, gatewaySecrets, gatewayBindings, startOrigin } from './lib/setup.ts';
import { startJwksServer } from './lib/tokens.ts';
import { measureWorkerBundle } from './lib/bundle-size.ts';
import { BUILD_DIR, bundleRevision, bundleWorker, ROOT, startWorker, startWorkerDirect, type StartOptions, type WorkerInstance } from './lib/workers.ts';

/** The gateway's assertion signing key for this run (a Worker secret in production). */
const SECRETS = gatewaySecrets();

const PORTS = {
  origin: 18701, jwks: 18702, passthrough: 18710, gateway: 18711, gatewayRecordAsDeployed: 18712, passthroughLog: 18713,
  jose: 18714, honoUri: 18715, honoKeys: 18716, gatewayNoAssertion: 18717, gatewaySampled: 18718, passthroughLogAsDeployed: 18719,
  coldGateway: 18720, coldPassthrough: 18721, gatewayBaseline: 18722, requestCostBaseline: 18723,
};
const ORIGIN = `http://127.0.0.1:${PORTS.origin}`;
const JWKS = `http://127.0.0.1:${PORTS.jwks}`;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    only: { type: 'string' },
    breakdown: { type: 'boolean', default: false },
    stages: { type: 'string' },
    note: { type: 'string' },
    out: { type: 'string' },
    harness: { type: 'string', default: 'workerd' },
    baseline: { type: 'string' },
    peers: { type: 'string' },
  },
});
if (args.harness !== 'workerd' && args.harness !== 'miniflare') throw new Error('--harness is workerd (the default) or miniflare');
/** workerd serve with the Worker alone (default), or Miniflare's entry Worker in front of it (bench/lib/workers.ts). */
const start: (options: StartOptions) => Promise<WorkerInstance> = args.harness === 'miniflare' ? startWorker : startWorkerDirect;

/** How long each run lasts and how many there are; --quick keeps the whole command under 2 minutes. */
const PROFILE = args.quick
  ? { rounds: 4, seconds: 0.5, amount: 6000, distinctPerRun: 600, bodyAmount: 60, warmAmount: 150, microN: 400, microRounds: 4, coldRounds: 2, requestN: 100 }
  : { rounds: 6, seconds: 3, amount: 30000, distinctPerRun: 6000, bodyAmount: 500, warmAmount: 1000, microN: 2000, microRounds: 9, coldRounds: 9, requestN: 400 };
const ROUNDS = args.rounds ? Number(args.rounds) : PROFILE.rounds;
const CONNECTIONS = 8;
const only = args.only ? new Set(args.only.split(',')) : null;
const wanted = (name: string) => only === null || only.has(name);

interface Scenario {
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

/** A Worker measured beside the gateway; `expected` is its answer in this scenario. */
interface Peer {
  name: string;
  worker: WorkerInstance;
  expected: number;
}

/** One Worker's figures in one peer scenario: medians of the rounds, ratios paired round by round. */
interface PeerFigures {
  rps: number | null;
  cpu_us_per_request: number | null;
  /** This Worker's CPU per request over the pass-through's (and over the gateway's), per round, median. */
  cpu_vs_passthrough: number | null;
  cpu_vs_gateway: number | null;
  /** Throughput over the pass-through's (and the gateway's), per round, median. */
  rps_vs_passthrough: number | null;
  rps_vs_gateway: number | null;
}

/** latest.json's `peers`: per peer scenario, per Worker (pass-through and gateway included). */
const peerResults: Record<string, Record<string, PeerFigures>> = {};

interface ScenarioResult {
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

const failures: string[] = [];
const emptyResult = (name: string): ScenarioResult => ({
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

/** Runs one part of the benchmark; a failure is recorded and the rest goes on. */
async function attempt<T>(name: string, part: () => Promise<T>): Promise<T | null> {
  try {
    return await part();
  } catch (error) {
    failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    log(`  ${name} FAILED: ${failures.at(-1)}`);
    return null;
  }
}

const log = (message: string) => process.stderr.write(`${message}\n`);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;

async function stats(gateway: WorkerInstance): Promise<{ requests: number; key_imports: number }> {
  return (await fetch(`${gateway.url}/__bench/stats`)).json() as Promise<{ requests: number; key_imports: number }>;
}

const steadyImports = { requests: 0, imports: 0 };

async function measure(scenario: Scenario, passthrough: WorkerInstance): Promise<ScenarioResult> {
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
  if (peers.length > 0) {
    const figures = (runs: LoadResult[]): PeerFigures => ({
      rps: round(median(runs.map((x) => x.rps)), 0),
      cpu_us_per_request: round(median(runs.map((x) => x.cpu_us_per_request))),
      cpu_vs_passthrough: round(median(runs.map((x, i) => x.cpu_us_per_request / pt[i]!.cpu_us_per_request)), 3),
      cpu_vs_gateway: round(median(runs.map((x, i) => x.cpu_us_per_request / gw[i]!.cpu_us_per_request)), 3),
      rps_vs_passthrough: round(median(runs.map((x, i) => x.rps / pt[i]!.rps)), 3),
      rps_vs_gateway: round(median(runs.map((x, i) => x.rps / gw[i]!.rps)), 3),
    });
    const rows: Record<string, PeerFigures> = { passthrough: figures(pt), gateway: figures(gw) };
    peers.forEach((peer, i) => (rows[peer.name] = figures(beside[i]!)));
    peerResults[scenario.name] = rows;
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
  return result;
}

/** A fresh workerd per round: the first request's latency and CPU (Gateway construction, JWKS fetch, key import, verify). */
async function coldStart(gatewayScript: string, passthroughScript: string, bindings: Record<string, unknown>, token: string): Promise<ScenarioResult> {
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

/** With --breakdown: each stage's median CPU per call, by where it was measured (`details.breakdown`). */
const breakdowns: Record<string, Record<string, number | null>> = {};

type Micro = Record<string, { verify_us: number | null; floor_us: number | null; cached_us: number | null; verify_over_floor: number | null; runtime_clock: Record<string, number | null> }>;

/** CPU per operation from the workerd process's CPU time, minus a no-op call of the same length. */
async function micro(gateway: WorkerInstance): Promise<Micro> {
  const call = async (alg: string, variant: string, n: number) => {
    const cpu = gateway.cpuNs();
    const response = await fetch(`${gateway.url}/__bench/micro?alg=${alg}&variant=${variant}&n=${n}`);
    if (!response.ok) throw new Error(`micro ${alg} ${variant}: ${response.status} ${await response.text()}`);
    const body = (await response.json()) as { elapsed_ms: number };
    return { cpuUs: (gateway.cpuNs() - cpu) / 1000, clockMs: body.elapsed_ms };
  };
  const out: Micro = {};
  for (const alg of ['RS256', 'ES256', 'EdDSA']) {
    const n = PROFILE.microN;
    await call(alg, 'noop', 10); // prepares the fixtures (key import, cache fill)
    for (const variant of ['floor', 'verify', 'cached', 'noop']) await call(alg, variant, Math.ceil(n / 10));
    const samples: Record<string, number[]> = { floor: [], verify: [], cached: [] };
    const clock: Record<string, number[]> = { floor: [], verify: [], cached: [] };
    const variants = ['floor', 'verify', 'cached'];
    for (let r = 0; r < PROFILE.microRounds; r++) {
      const noop = await call(alg, 'noop', n);
      // Rotate the order each round so no variant always runs right after another.
      for (let i = 0; i < variants.length; i++) {
        const variant = variants[(i + r) % variants.length]!;
        const measured = await call(alg, variant, n);
        samples[variant]!.push((measured.cpuUs - noop.cpuUs) / n);
        clock[variant]!.push(((measured.clockMs - noop.clockMs) * 1000) / n);
      }
    }
    if (args.breakdown) {
      const stages: Record<string, number[]> = {
        extract: [], fingerprint: [], shape: [], resolve: [], signature: [], claims: [],
        'shape-b64-signature': [], 'shape-b64-signature-js': [],
      };
      for (let r = 0; r < PROFILE.microRounds; r++) {
        const noop = await call(alg, 'noop', n);
        for (const stage of Object.keys(stages)) stages[stage]!.push(((await call(alg, stage, n)).cpuUs - noop.cpuUs) / n);
      }
      breakdowns[`verify_${alg}`] = Object.fromEntries(Object.entries(stages).map(([stage, v]) => [`${stage}_us`, round(median(v), 2)]));
      log(`  breakdown ${alg}: ${Object.entries(stages).map(([stage, v]) => `${stage} ${round(median(v), 2)} us`).join(', ')}`);
    }
    const verify = median(samples.verify!);
    const floor = median(samples.floor!);
    out[alg] = {
      verify_us: round(verify, 2),
      floor_us: round(floor, 2),
      cached_us: round(median(samples.cached!), 2),
      verify_over_floor: round(median(samples.verify!.map((v, i) => v / samples.floor![i]!)), 3),
      runtime_clock: { verify_us: round(median(clock.verify!), 2), floor_us: round(median(clock.floor!), 2), cached_us: round(median(clock.cached!), 2) },
    };
    log(`  ${elapsed()} micro ${alg}: verify ${out[alg]!.verify_us} us, floor ${out[alg]!.floor_us} us (x${out[alg]!.verify_over_floor}), cached ${out[alg]!.cached_us} us`);
  }
  return out;
}

type RequestCost = Record<string, number | null>;

/** CPU per whole request inside the isolate: Gateway.handle against a plain fetch of the origin (what the pass-through does). */
async function requestCost(gateway: WorkerInstance, baseline: WorkerInstance | null): Promise<RequestCost> {
  const variants = ['fetch', 'handle', 'handle-nocache', 'handle-nolog', 'handle-record-as-deployed', 'handle-routes-10', 'handle-routes-1000', 'handle-rejected', 'handle-rejected-nocache'];
  const call = async (variant: string, n: number, on = gateway) => {
    const cpu = on.cpuNs();
    const response = await fetch(`${on.url}/__bench/request?variant=${variant}&n=${n}`);
    const body = (await response.json()) as { statuses: number[] };
    const expected = variant.startsWith('handle-rejected') ? '401' : '200';
    if (!response.ok || (!variant.startsWith('stage-') && body.statuses.join() !== expected)) throw new Error(`request cost ${variant}: ${response.status} ${JSON.stringify(body)}`);
    return (on.cpuNs() - cpu) / 1000 / n;
  };
  for (const variant of variants) await call(variant, 50);
  if (baseline) for (const variant of variants) await call(variant, 50, baseline);
  const samples: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v, []]));
  const before: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v, []]));
  for (let r = 0; r < PROFILE.microRounds; r++) {
    for (let i = 0; i < variants.length; i++) {
      const variant = variants[(i + r) % variants.length]!;
      // With a baseline, each variant runs on both gateways back to back, in either order equally often.
      if (baseline && r % 2 === 1) before[variant]!.push(await call(variant, PROFILE.requestN, baseline));
      samples[variant]!.push(await call(variant, PROFILE.requestN));
      if (baseline && r % 2 === 0) before[variant]!.push(await call(variant, PROFILE.requestN, baseline));
    }
  }
  const cost = Object.fromEntries(variants.map((v) => [`${v}_us`, round(median(samples[v]!))])) as RequestCost;
  const added = (v: string) => round(median(samples[v]!.map((x, i) => x - samples.fetch![i]!)));
  cost.gateway_added_us = added('handle');
  cost.gateway_added_nocache_us = added('handle-nocache');
  cost.gateway_added_nolog_us = added('handle-nolog');
  // The record serialized as Cloudflare's runtime serializes a logged object (one JSON.stringify: LOG_FORMAT=line),
  // where the two figures above have local workerd format it with its util.inspect port.
  cost.gateway_added_record_as_deployed_us = added('handle-record-as-deployed');
  // A replayed bad token, refused from the negative cache, against the same refusal verified every time (no token cache).
  cost.rejected_replay_us = cost['handle-rejected_us'] ?? null;
  cost.rejected_replay_nocache_us = cost['handle-rejected-nocache_us'] ?? null;
  // 1,000 against 10 routes, the same request to each policy's last route, measured in the same rounds of one isolate.
  cost.routes_1000_over_10 = round(median(samples['handle-routes-1000']!.map((x, i) => x / samples['handle-routes-10']![i]!)), 3);
  if (baseline) {
    // What each variant adds over a plain fetch in the baseline's isolate, and this tree's figure less the baseline's, paired by round.
    const addedBefore = (v: string) => before[v]!.map((x, i) => x - before.fetch![i]!);
    for (const v of ['handle', 'handle-nolog', 'handle-record-as-deployed', 'handle-nocache']) {
      cost[`baseline_${v}_added_us`] = round(median(addedBefore(v)));
      cost[`${v}_added_minus_baseline_us`] = round(median(samples[v]!.map((x, i) => x - samples.fetch![i]! - addedBefore(v)[i]!)));
    }
  }
  cost.routes_1000_over_10_gateway_added = round(median(samples['handle-routes-1000']!.map((x, i) => (x - samples.fetch![i]!) / (samples['handle-routes-10']![i]! - samples.fetch![i]!))), 3);
  if (args.breakdown) {
    const allStages = [
      'stage-noop', 'stage-url', 'stage-canonical', 'stage-route', 'stage-origin', 'stage-sanitize', 'stage-identity',
      'stage-headersafe', 'stage-mint', 'stage-sign-raw', 'stage-log-hit', 'stage-log-hit-json',
      'stage-deny-empty', 'stage-deny', // issue 24: the deny-list check on an accepted token (empty list; 1,000 entries, no match)
      'fetch', 'fetch-headers', 'fetch-manual', 'fetch-controller', 'fetch-signal', 'fetch-rewrap', 'fetch-timeout', 'fetch-timeout-relay', 'fetch-set8',
    ];
    // --stages a,b: only these (stage-noop always first: every stage is net of it), for a narrower, longer A/B.
    const stages = args.stages ? ['stage-noop', ...args.stages.split(',').filter((s) => s !== 'stage-noop')] : allStages;
    const perStage: Record<string, number[]> = Object.fromEntries(stages.map((v) => [v, []]));
    const perStageBefore: Record<string, number[]> = Object.fromEntries(stages.map((v) => [v, []]));
    const amount = (stage: string) => (stage.startsWith('stage-') ? PROFILE.microN : PROFILE.requestN);
    for (let r = 0; r < PROFILE.microRounds; r++) {
      for (const stage of stages) {
        if (baseline && r % 2 === 1) perStageBefore[stage]!.push(await call(stage, amount(stage), baseline));
        perStage[stage]!.push(await call(stage, amount(stage)));
        if (baseline && r % 2 === 0) perStageBefore[stage]!.push(await call(stage, amount(stage), baseline));
      }
    }
    // Each stage's figure is net of stage-noop (the loop, one await and the call's share); fetch-* are whole requests.
    const netOf = (runs: Record<string, number[]>) => (s: string) => (s.startsWith('stage-') ? round(median(runs[s]!.map((v, i) => v - runs['stage-noop']![i]!)), 2) : round(median(runs[s]!), 1));
    const net = netOf(perStage);
    breakdowns.request = Object.fromEntries(stages.slice(1).map((s) => [`${s}_us`, net(s)]));
    log(`  breakdown request: ${stages.slice(1).map((s) => `${s} ${net(s)} us`).join(', ')}`);
    if (baseline) {
      const netBefore = netOf(perStageBefore);
      breakdowns.request_baseline = Object.fromEntries(stages.slice(1).map((s) => [`${s}_us`, netBefore(s)]));
      log(`  breakdown request, baseline: ${stages.slice(1).map((s) => `${s} ${netBefore(s)} us`).join(', ')}`);
    }
  }
  log(
    `  ${elapsed()} request cost: fetch ${cost.fetch_us} us, gateway adds ${cost.gateway_added_us} us (cache hit), ${cost.gateway_added_nocache_us} us (no cache), ` +
      `${cost.gateway_added_nolog_us} us (hit, log_allowed 0), ${cost.gateway_added_record_as_deployed_us} us (hit, record serialized as deployed); ` +
      `a replayed bad token ${cost.rejected_replay_us} us (${cost.rejected_replay_nocache_us} us verified every time)`,
  );
  if (baseline) log(`  ${elapsed()} against the baseline (added over fetch, this tree less the baseline, paired by round): ${Object.entries(cost).filter(([k]) => k.endsWith('_minus_baseline_us')).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  log(`  ${elapsed()} routes: 1,000 routes cost ${cost.routes_1000_over_10}x the per-request CPU of 10 (${cost['handle-routes-1000_us']} vs ${cost['handle-routes-10_us']} us; gateway's own share ${cost.routes_1000_over_10_gateway_added}x)`);
  return cost;
}

function gitCommit(): string {
  try {
    const sha = execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
    const dirty = execSync('git status --porcelain -- src bench', { cwd: ROOT }).toString().trim() !== '';
    return dirty ? `${sha}+dirty` : sha;
  } catch {
    return 'unknown';
  }
}

/** The scenarios whose rounds also run the peers. */
const PEER_SCENARIOS = ['rs256-repeated', 'rs256-distinct', 'rejected'];

/**
 * The Workers measured beside the gateway, each alone in its own workerd, same origin, same issuer: naive jose,
 * Hono's jwk middleware (jwks_uri; keys supplied once), the log-line Worker (the pass-through plus one
 * record: the floor of any Worker that logs one record per request), the gateway without its assertion and
 * with log_allowed 0, and the gateway and the log-line Worker with the record serialized as deployed.
 * Each, the gateway too, is checked before any timing: 200 for a valid token, 401 for a bad signature and none.
 * The "-record-as-deployed" rows serialize the record as Cloudflare does (LOG_FORMAT=line: BENCHMARKS.md, "Measuring
 * inside workerd"); how each logging Worker prints it is checked first, so an ignored binding cannot mislabel a row.
 */
async function startPeers(
  cleanup: (() => unknown)[],
  scripts: { gatewayScript: string; passthroughLogScript: string; joseScript: string; honoScript: string; baselineScript: string | null },
  gatewayBindingsUsed: Record<string, unknown>,
  keys: Awaited<ReturnType<typeof makeBenchKeys>>,
  tokens: Awaited<ReturnType<typeof repeatedTokens>>,
  checkedAlso: WorkerInstance[],
): Promise<Omit<Peer, 'expected'>[]> {
  const issuer = { ORIGIN, JWKS_URI: `${JWKS}/rsa`, ISSUER: issuerUrl('rsa'), AUDIENCE };
  // The last element, where given: how the Worker must print its record (checked before it is measured).
  const specs: [string, string, number, Record<string, unknown>, RecordFormat?][] = [
    ['jose', scripts.joseScript, PORTS.jose, issuer],
    ['hono-jwks-uri', scripts.honoScript, PORTS.honoUri, issuer],
    ['hono-keys', scripts.honoScript, PORTS.honoKeys, { ...issuer, KEYS: [keys.rsa.publicJwk] }],
    ['log-line', scripts.passthroughLogScript, PORTS.passthroughLog, { ORIGIN }, 'object'],
    ['log-line-record-as-deployed', scripts.passthroughLogScript, PORTS.passthroughLogAsDeployed, { ORIGIN, LOG_FORMAT: 'line' }, 'json-line'],
    ['gateway-record-as-deployed', scripts.gatewayScript, PORTS.gatewayRecordAsDeployed, { ...gatewayBindingsUsed, LOG_FORMAT: 'line' }, 'json-line'],
    ['gateway-no-assertion', scripts.gatewayScript, PORTS.gatewayNoAssertion, { ...gatewayBindingsUsed, CONFIG: benchConfig(10, JWKS, ORIGIN, { assertion: false }) }, 'object'],
    // settings.log_allowed 0: what the record of an allowed request costs, all else equal (denials are recorded as ever).
    ['gateway-no-allowed-record', scripts.gatewayScript, PORTS.gatewaySampled, { ...gatewayBindingsUsed, CONFIG: benchConfig(10, JWKS, ORIGIN, { logAllowed: 0 }) }],
  ];
  if (scripts.baselineScript !== null) specs.push(['gateway-baseline', scripts.baselineScript, PORTS.gatewayBaseline, gatewayBindingsUsed, 'object']);
  const chosen = args.peers ? new Set(args.peers.split(',')) : null;
  const peers: Omit<Peer, 'expected'>[] = [];
  for (const [name, scriptPath, port, bindings, format] of specs) {
    if (chosen !== null && !chosen.has(name)) continue;
    if (format !== undefined) {
      const seen = await recordFormat(scriptPath, port, bindings, tokens.rsa);
      if (seen !== format) throw new Error(`${name} printed its record as ${seen}, expected ${format}`);
    }
    const worker = await start({ scriptPath, port, bindings });
    cleanup.push(() => worker.dispose());
    peers.push({ name, worker });
  }
  const answers = async (worker: WorkerInstance, token: string | null) =>
    (await fetch(`${worker.url}/rsa/items/1`, { headers: token ? { authorization: `Bearer ${token}` } : {} }).then(async (r) => (await r.arrayBuffer(), r.status)));
  for (const { name, worker } of [...checkedAlso.map((worker) => ({ name: 'gateway', worker })), ...peers]) {
    const seen = [await answers(worker, tokens.rsa), await answers(worker, tokens.rejected), await answers(worker, null)];
    const expected = name.startsWith('log-line') ? [200, 200, 200] : [200, 401, 401];
    if (seen.join() !== expected.join()) throw new Error(`${name} answered ${seen.join('/')} for a valid token, a bad signature and none; expected ${expected.join('/')}`);
  }
  log(`  ${elapsed()} peers started and checked (200 valid, 401 bad signature, 401 none): ${peers.map((p) => p.name).join(', ')}`);
  return peers;
}

type RecordFormat = 'json-line' | 'object';

const isAllowedRecordJson = (line: string): boolean => {
  try {
    return line.startsWith('{') && (JSON.parse(line) as { outcome?: unknown }).outcome === 'allowed';
  } catch {
    return false;
  }
};

/**
 * How a Worker prints the record of one allowed request on stdout: one line of JSON, or workerd's util.inspect
 * of an object. Run once in a workerd of its own whose stdout is kept (measured runs drop it), then stopped.
 */
async function recordFormat(scriptPath: string, port: number, bindings: Record<string, unknown>, token: string): Promise<RecordFormat> {
  const stdoutPath = join(BUILD_DIR, `record-format-${port}.txt`);
  const worker = await startWorkerDirect({ scriptPath, port, bindings, stdoutPath });
  try {
    const response = await fetch(`${worker.url}/rsa/items/1`, { headers: { authorization: `Bearer ${token}` } });
    await response.arrayBuffer();
    for (let waited = 0; waited < 3000; waited += 50) {
      const printed = readFileSync(stdoutPath, 'utf8');
      if (printed.split('\n').some(isAllowedRecordJson)) return 'json-line';
      if (printed.includes("outcome: 'allowed'")) return 'object';
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no record of the allowed request on stdout (${readFileSync(stdoutPath, 'utf8').slice(0, 200)})`);
  } finally {
    await worker.dispose();
  }
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  log(`bench: ${args.quick ? 'quick' : 'full'} profile, ${ROUNDS} rounds of ${PROFILE.seconds}s per side per scenario${ROUNDS % 2 === 1 ? ' (odd: the forward order runs once more than the reversed)' : ''}`);
  const [gatewayScript, passthroughScript, passthroughLogScript, joseScript, honoScript] = await Promise.all([
    bundleWorker('gateway'), bundleWorker('passthrough'), bundleWorker('passthrough-log'), bundleWorker('peer-jose'), bundleWorker('peer-hono'),
  ]);
  const keys = await makeBenchKeys();
  const tokens = await repeatedTokens(keys);
  const distinctCount = (ROUNDS + 1) * PROFILE.distinctPerRun;
  const pools: Record<string, string[]> = {};
  for (const [id, key] of [['rsa', keys.rsa], ['ec', keys.ec], ['ed', keys.ed]] as const) {
    if (wanted(`${key.alg.toLowerCase()}-distinct`)) pools[id] = await mintPool(key, claimsFor(id), distinctCount, id);
  }
  const peersWanted = PEER_SCENARIOS.some(wanted);
  log(`  ${elapsed()} keys and ${Object.values(pools).reduce((a, p) => a + p.length, 0)} distinct tokens minted`);
  const slice = (pool: string[] | undefined) => (r: number) => pool!.slice((r + 1) * PROFILE.distinctPerRun, (r + 2) * PROFILE.distinctPerRun);
  const fixtures = await microFixtures(keys);
  const baseline = args.baseline ? await bundleRevision(args.baseline) : null;
  if (baseline) log(`  ${elapsed()} baseline: the gateway of ${baseline.label}`);

  const cleanup: (() => unknown)[] = [];
  const results: ScenarioResult[] = [];
  let microResults: Micro = {};
  let requestCosts: RequestCost = {};
  let gatewayRss = 0;
  let passthroughRss = 0;
  try {
    const origin = await startOrigin(PORTS.origin);
    cleanup.push(origin.stop);
    const jwks = await startJwksServer(PORTS.jwks, jwksSets(keys));
    cleanup.push(() => jwks.close());
    const passthrough = await start({ scriptPath: passthroughScript, port: PORTS.passthrough, bindings: { ORIGIN } });
    cleanup.push(() => passthrough.dispose());
    await runLoad(passthrough, { path: '/warm', connections: CONNECTIONS, amount: PROFILE.warmAmount * 2, seconds: PROFILE.seconds * 2 }, 200);

    for (const routes of [10, 100, 1000]) {
      const names = routes === 10
        ? [...PEER_SCENARIOS, 'es256-distinct', 'eddsa-distinct', 'routes-10', 'jwks-1', 'jwks-100', 'body-1mib', 'micro', 'request-cost']
        : [`routes-${routes}`];
      // (request-cost runs on the 10-route gateway too)
      if (!names.some(wanted)) continue;
      const bindings = gatewayBindings({ routes, jwks: JWKS, origin: ORIGIN, tokens, micro: fixtures, secrets: SECRETS });
      const gateway = await start({ scriptPath: gatewayScript, port: PORTS.gateway, bindings });
      try {
        const scenarios: Scenario[] = [];
        const repeated = (name: string, path: string, token: string, expected = 200, on = gateway): Scenario => ({ name, gateway: on, spec: { path }, tokens: () => token, expected });
        if (routes === 10) {
          const peers = peersWanted ? await startPeers(cleanup, { gatewayScript, passthroughLogScript, joseScript, honoScript, baselineScript: baseline?.script ?? null }, bindings, keys, tokens, [gateway]) : [];
          // The log-line Worker forwards every request, and a refusal is recorded whatever log_allowed says:
          // those two run only where the gateway allows.
          const onlyAllowed = ['log-line', 'log-line-record-as-deployed', 'gateway-no-allowed-record'];
          const peersFor = (expected: number) => peers.filter((p) => expected === 200 || !onlyAllowed.includes(p.name)).map((p) => ({ ...p, expected }));
          scenarios.push({ ...repeated('rs256-repeated', '/rsa/items/1', tokens.rsa), peers: peersFor(200) });
          scenarios.push({ name: 'rs256-distinct', gateway, spec: { path: '/rsa/items/1' }, tokens: slice(pools.rsa), expected: 200, peers: peersFor(200) });
          scenarios.push({ ...repeated('rejected', '/rsa/items/1', tokens.rejected, 401), peers: peersFor(401) });
          scenarios.push({ name: 'es256-distinct', gateway, spec: { path: '/ec/items/1' }, tokens: slice(pools.ec), expected: 200 });
          scenarios.push({ name: 'eddsa-distinct', gateway, spec: { path: '/ed/items/1' }, tokens: slice(pools.ed), expected: 200 });
          scenarios.push(repeated('jwks-1', '/k1/items/1', tokens.k1));
          scenarios.push(repeated('jwks-100', '/k100/items/1', tokens.k100));
          scenarios.push({ name: 'body-1mib', gateway, spec: { path: '/rsa/upload', method: 'POST', body: Buffer.alloc(1024 * 1024, 97), amount: PROFILE.bodyAmount }, tokens: () => tokens.rsa, expected: 200 });
        }
        // The last filler route, so that a linear scan would have to pass every other route first.
        scenarios.push(repeated(`routes-${routes}`, `/svc${routes - 1}/items/1`, tokens.rsa));
        for (const scenario of scenarios) {
          if (!wanted(scenario.name)) continue;
          // One broken scenario must not cost the whole run: its row stays empty and the command fails at the end.
          results.push((await attempt(scenario.name, () => measure(scenario, passthrough))) ?? emptyResult(scenario.name));
        }
        if (routes === 10 && wanted('micro')) microResults = (await attempt('micro', () => micro(gateway))) ?? {};
        if (routes === 10 && wanted('request-cost')) {
          // With --baseline, that revision's gateway runs the same variants in the same rounds, in a workerd of its own.
          const before = baseline ? await start({ scriptPath: baseline.script, port: PORTS.requestCostBaseline, bindings }) : null;
          try {
            requestCosts = (await attempt('request-cost', () => requestCost(gateway, before))) ?? {};
          } finally {
            await before?.dispose();
          }
        }
        gatewayRss = Math.max(gatewayRss, rssBytes(gateway.pid));
        passthroughRss = Math.max(passthroughRss, rssBytes(passthrough.pid));
      } finally {
        await gateway.dispose();
      }
    }
    if (wanted('cold-first-request')) {
      const coldBindings = coldGatewayBindings(JWKS, ORIGIN, SECRETS.GATEWAY_SIGNING_KEY);
      results.push((await attempt('cold-first-request', () => coldStart(gatewayScript, passthroughScript, coldBindings, tokens.rsa))) ?? emptyResult('cold-first-request'));
    }
  } finally {
    for (const stop of cleanup.reverse()) await stop();
  }

  const bundle = (await measureWorkerBundle(ROOT)).gzipBytes;
  const report = {
    scenarios: results,
    // Per peer scenario, per Worker: rps, CPU us per request, and both against the pass-through and the gateway (same rounds).
    peers: peerResults,
    verify: Object.fromEntries(Object.entries(microResults).map(([alg, m]) => [alg, { verify_us: m.verify_us, floor_us: m.floor_us, cached_us: m.cached_us }])),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memory_gib: round(totalmem() / 2 ** 30, 1),
      node: process.version,
      workerd: JSON.parse(readFileSync(join(ROOT, 'node_modules', 'workerd', 'package.json'), 'utf8')).version as string,
      harness: args.harness === 'miniflare' ? 'miniflare (entry Worker in front of each Worker)' : 'workerd serve (each Worker alone)',
      load_average_before: loadBefore.map((l) => round(l, 2)),
      load_average_after: loadavg().map((l) => round(l, 2)),
      note: args.note ?? null,
    },
    date: new Date().toISOString(),
    commit: gitCommit(),
    // Beyond the fields the issue asks for: how the figures were taken, and the other targets' figures.
    details: {
      profile: args.quick ? 'quick' : 'full',
      rounds: ROUNDS,
      seconds_per_run: PROFILE.seconds,
      connections: CONNECTIONS,
      duration_seconds: Math.round((Date.now() - started) / 1000),
      key_imports_per_request_steady_state: steadyImports.requests > 0 ? steadyImports.imports / steadyImports.requests : null,
      steady_state_requests_counted: steadyImports.requests,
      verify_over_floor: Object.fromEntries(Object.entries(microResults).map(([alg, m]) => [alg, m.verify_over_floor])),
      micro_runtime_clock: Object.fromEntries(Object.entries(microResults).map(([alg, m]) => [alg, m.runtime_clock])),
      bundle_gzip_bytes: bundle,
      failures,
      request_cost_in_isolate: requestCosts,
      // Only with --breakdown: stage-* net of a no-op call, fetch-* whole requests (bench/worker/request-cost.ts).
      breakdown: args.breakdown ? breakdowns : null,
      gateway_workerd_rss_mib: round(gatewayRss / 2 ** 20, 1),
      passthrough_workerd_rss_mib: round(passthroughRss / 2 ** 20, 1),
    },
  };
  // Only a full run replaces latest.json (BENCHMARKS.md cites it): a --quick or --only run writes beside it.
  const out = args.out ?? join(ROOT, 'bench', 'results', args.quick || only !== null ? 'partial.json' : 'latest.json');
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');

  console.log(
    table(
      ['scenario', 'gw rps', 'pt rps', 'ratio', 'gw cpu us/req', 'pt cpu us/req', 'cpu ratio', 'gw p50 ms', 'gw p99 ms'],
      results.map((r) => [r.name, r.rps, r.passthrough_rps, r.ratio_vs_passthrough, r.cpu_us_per_request, r.passthrough_cpu_us_per_request, r.cpu_ratio_vs_passthrough, r.p50_ms, r.p99_ms]),
    ),
  );
  if (Object.keys(microResults).length > 0) {
    console.log();
    console.log(
      table(
        ['verify (CPU per op)', 'verify us', 'floor us', 'verify/floor', 'cached us'],
        Object.entries(microResults).map(([alg, m]) => [alg, m.verify_us, m.floor_us, m.verify_over_floor, m.cached_us]),
      ),
    );
  }
  console.log();
  if (Object.keys(requestCosts).length > 0) {
    console.log(
      `CPU per request inside the isolate: plain fetch ${requestCosts.fetch_us} us; the gateway adds ${requestCosts.gateway_added_us} us (cache hit, record formatted by local workerd), ` +
        `${requestCosts.gateway_added_record_as_deployed_us} us (hit, record serialized as deployed: LOG_FORMAT=line), ` +
        `${requestCosts.gateway_added_nocache_us} us (RS256 verified every time), ${requestCosts.gateway_added_nolog_us} us (hit, record not written)`,
    );
  }
  for (const [scenario, rows] of Object.entries(peerResults)) {
    console.log();
    console.log(
      table(
        [`${scenario} (same rounds)`, 'rps', 'cpu us/req', 'cpu x pass-through', 'cpu x gateway'],
        Object.entries(rows).map(([name, f]) => [name, f.rps, f.cpu_us_per_request, f.cpu_vs_passthrough, f.cpu_vs_gateway]),
      ),
    );
  }
  console.log(`key imports per request (steady state): ${report.details.key_imports_per_request_steady_state} over ${steadyImports.requests} requests`);
  console.log(`bundle (src/index.ts, minified, gzip): ${(bundle / 1024).toFixed(1)} KiB`);
  console.log(`load average before ${report.machine.load_average_before.join(' ')}, after ${report.machine.load_average_after.join(' ')}; ${report.details.duration_seconds}s; wrote ${out}`);
}

await main();
if (failures.length > 0) {
  console.error(`\n${failures.length} scenario(s) failed:\n  ${failures.join('\n  ')}`);
  process.exitCode = 1;
}
