/**
 * The in-isolate parts of `npm run bench`, run on the 10-route gateway after its scenarios: `micro` (the verify
 * path of each algorithm against the bare crypto.subtle.verify floor and a cache hit, bench/worker/micro.ts) and
 * `request-cost` (whole requests through Gateway.handle against a plain fetch, bench/worker/request-cost.ts),
 * each a loop inside one isolate timed by the workerd process's CPU time; with --breakdown, each stage of both.
 */
import { args, elapsed, log, PROFILE, REQUEST_STAGES } from './run-options.ts';
import { median, round } from './stats.ts';
import type { WorkerInstance } from './workers.ts';

/** With --breakdown: each stage's median CPU per call, by where it was measured (`details.breakdown`). */
export type Breakdowns = Record<string, Record<string, number | null>>;

export type Micro = Record<string, { verify_us: number | null; floor_us: number | null; cached_us: number | null; verify_over_floor: number | null; runtime_clock: Record<string, number | null> }>;

/** CPU per operation from the workerd process's CPU time, minus a no-op call of the same length; stages into `breakdowns` with --breakdown. */
export async function measureMicro(gateway: WorkerInstance, breakdowns: Breakdowns): Promise<Micro> {
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

export type RequestCost = Record<string, number | null>;

/** CPU per whole request inside the isolate: Gateway.handle against a plain fetch of the origin (what the pass-through does); stages into `breakdowns` with --breakdown. */
export async function measureRequestCost(gateway: WorkerInstance, baseline: WorkerInstance | null, breakdowns: Breakdowns): Promise<RequestCost> {
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
    // --stages a,b: only these (stage-noop always first: every stage is net of it), for a narrower, longer A/B.
    const stages = args.stages ? ['stage-noop', ...args.stages.split(',').filter((s) => s !== 'stage-noop')] : REQUEST_STAGES;
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
