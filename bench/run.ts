/**
 * `npm run bench` (about 15 minutes: the peers run in three scenarios) and `npm run bench -- --quick` (a few minutes): the gateway Worker
 * against a no-op pass-through Worker, both in workerd, in front of the same origin, on loopback.
 * Every scenario alternates pass-through and gateway runs and reports medians of the rounds. The three peer
 * scenarios (rs256-repeated, rs256-distinct, rejected) also run, in the same rounds, the Workers a user
 * would deploy instead (bench/worker/peer-*.ts: naive jose, Hono's jwk middleware with jwks_uri and with
 * keys supplied once), the log-line Worker (the pass-through plus one record), the gateway without its
 * assertion and with log_allowed 0, and the gateway and the log-line Worker with their record serialized as
 * the deployed runtime serializes it (LOG_FORMAT=line), each alone in its own workerd: `peers` in latest.json. CPU per request comes from each workerd
 * process's own CPU time. Prints tables, writes bench/results/latest.json (a --quick or --only run: partial.json).
 *
 * The sequence, as main() runs it: the Workers bundled, keys and tokens minted, the origin, the issuers' JWKS and
 * the pass-through started; then per gateway (10, 100, 1,000 routes) its scenarios, the peers in the same rounds
 * (bench/lib/scenario-rounds.ts, bench/lib/peers.ts), and on the 10-route gateway micro and request-cost inside
 * the isolate (bench/lib/in-isolate.ts); the cold first request; the tables and the JSON (bench/lib/report.ts).
 * The options, the profile and the ports are read in bench/lib/run-options.ts.
 *
 * Options: --quick, --rounds <n>, --only <name,name>, --note "<machine load>", --out <file>,
 *   --baseline <git revision> (the gateway of that revision, bundled from a temporary worktree, runs as the peer
 *   `gateway-baseline` in the peer scenarios and beside this tree's in request-cost's rounds: a before/after of a change),
 *   --peers <name,name> (only these peers in the peer scenarios; default all), --stages <name,name> (only these
 *   --breakdown variants of request-cost, e.g. fetch-signal,fetch-controller),
 *   --harness workerd|miniflare (how each Worker runs: bench/lib/workers.ts; default workerd),
 *   --breakdown (CPU of each stage of the verify path and of the request path, printed and kept in
 *   details.breakdown).
 * Ports: 127.0.0.1:18701-18723 only. Everything started here is stopped here, by handle or pid.
 */
import { loadavg } from 'node:os';
import { claimsFor, jwksSets, makeBenchKeys, microFixtures, mintPool, repeatedTokens } from './lib/fixtures.ts';
import { measureMicro, measureRequestCost, type Breakdowns, type Micro, type RequestCost } from './lib/in-isolate.ts';
import { runLoad } from './lib/load.ts';
import { PEER_SCENARIOS, startPeers, type PeerFigures } from './lib/peers.ts';
import { rssBytes } from './lib/proc-cpu.ts';
import { reportRun } from './lib/report.ts';
import { args, attempt, CONNECTIONS, elapsed, failures, JWKS, log, ORIGIN, PORTS, PROFILE, ROUNDS, start, wanted } from './lib/run-options.ts';
import { emptyResult, measureColdStart, measureScenario, type KeyImportCount, type Scenario, type ScenarioResult } from './lib/scenario-rounds.ts';
import { coldGatewayBindings, gatewaySecrets, gatewayBindings, startOrigin } from './lib/setup.ts';
import { startJwksServer } from './lib/tokens.ts';
import { bundleRevision, bundleWorker } from './lib/workers.ts';

/** The gateway's assertion signing key for this run (a Worker secret in production). */
const SECRETS = gatewaySecrets();

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
  const peerResults: Record<string, Record<string, PeerFigures>> = {};
  const steadyImports: KeyImportCount = { requests: 0, imports: 0 };
  const breakdowns: Breakdowns = {};
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
          const measured = await attempt(scenario.name, () => measureScenario(scenario, passthrough, steadyImports));
          results.push(measured?.result ?? emptyResult(scenario.name));
          if (measured?.peers) peerResults[scenario.name] = measured.peers;
        }
        if (routes === 10 && wanted('micro')) microResults = (await attempt('micro', () => measureMicro(gateway, breakdowns))) ?? {};
        if (routes === 10 && wanted('request-cost')) {
          // With --baseline, that revision's gateway runs the same variants in the same rounds, in a workerd of its own.
          const before = baseline ? await start({ scriptPath: baseline.script, port: PORTS.requestCostBaseline, bindings }) : null;
          try {
            requestCosts = (await attempt('request-cost', () => measureRequestCost(gateway, before, breakdowns))) ?? {};
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
      results.push((await attempt('cold-first-request', () => measureColdStart(gatewayScript, passthroughScript, coldBindings, tokens.rsa))) ?? emptyResult('cold-first-request'));
    }
  } finally {
    for (const stop of cleanup.reverse()) await stop();
  }

  await reportRun({ results, peerResults, microResults, requestCosts, breakdowns, steadyImports, gatewayRss, passthroughRss, loadBefore });
}

await main();
if (failures.length > 0) {
  console.error(`\n${failures.length} scenario(s) failed:\n  ${failures.join('\n  ')}`);
  process.exitCode = 1;
}
