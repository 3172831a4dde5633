/**
 * The end of `npm run bench`: the run's figures as one report, written to latest.json (a full run), partial.json
 * (a --quick or --only run) or --out, and printed as tables. BENCHMARKS.md ("latest.json") describes every field.
 */
import { execSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measureWorkerBundle } from './bundle-size.ts';
import type { Breakdowns, Micro, RequestCost } from './in-isolate.ts';
import type { PeerFigures } from './peers.ts';
import { args, CONNECTIONS, failures, only, PROFILE, ROUNDS, started } from './run-options.ts';
import type { KeyImportCount, ScenarioResult } from './scenario-rounds.ts';
import { round, table } from './stats.ts';
import { ROOT } from './workers.ts';

/** What one run measured, as bench/run.ts gathered it. */
export interface RunFigures {
  results: ScenarioResult[];
  /** Per peer scenario, per Worker. */
  peerResults: Record<string, Record<string, PeerFigures>>;
  microResults: Micro;
  requestCosts: RequestCost;
  breakdowns: Breakdowns;
  steadyImports: KeyImportCount;
  gatewayRss: number;
  passthroughRss: number;
  loadBefore: number[];
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

/** Writes the report (latest.json's shape) and prints its tables. */
export async function reportRun(figures: RunFigures): Promise<void> {
  const report = buildReport(figures, (await measureWorkerBundle(ROOT)).gzipBytes);
  // Only a full run replaces latest.json (BENCHMARKS.md cites it): a --quick or --only run writes beside it.
  const out = args.out ?? join(ROOT, 'bench', 'results', args.quick || only !== null ? 'partial.json' : 'latest.json');
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  printTables(figures, report, out);
}

function buildReport({ results, peerResults, microResults, requestCosts, breakdowns, steadyImports, gatewayRss, passthroughRss, loadBefore }: RunFigures, bundle: number) {
  return {
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
}

function printTables({ results, peerResults, microResults, requestCosts, steadyImports }: RunFigures, report: ReturnType<typeof buildReport>, out: string): void {
  const bundle = report.details.bundle_gzip_bytes;
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
