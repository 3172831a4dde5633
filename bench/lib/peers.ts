/**
 * The peers of `npm run bench`: the Workers measured beside the gateway in the rounds of the peer scenarios
 * (bench/worker/peer-*.ts, the log-line Worker, gateway variants), how each is started and checked before any
 * timing, and each one's figures in `peers` of latest.json (medians of the rounds, ratios paired by round).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIENCE, benchConfig, issuerUrl, type BenchKeys, type BenchTokens } from './fixtures.ts';
import type { LoadResult } from './load.ts';
import { args, elapsed, JWKS, log, ORIGIN, PORTS, start } from './run-options.ts';
import { median, round } from './stats.ts';
import { BUILD_DIR, startWorkerDirect, type WorkerInstance } from './workers.ts';

/** The scenarios whose rounds also run the peers. */
export const PEER_SCENARIOS = ['rs256-repeated', 'rs256-distinct', 'rejected'];

/** A Worker measured beside the gateway; `expected` is its answer in this scenario. */
export interface Peer {
  name: string;
  worker: WorkerInstance;
  expected: number;
}

/** One Worker's figures in one peer scenario: medians of the rounds, ratios paired round by round. */
export interface PeerFigures {
  rps: number | null;
  cpu_us_per_request: number | null;
  /** This Worker's CPU per request over the pass-through's (and over the gateway's), per round, median. */
  cpu_vs_passthrough: number | null;
  cpu_vs_gateway: number | null;
  /** Throughput over the pass-through's (and the gateway's), per round, median. */
  rps_vs_passthrough: number | null;
  rps_vs_gateway: number | null;
}

/** One Worker's runs (`runs`) against the pass-through's (`pt`) and the gateway's (`gw`) of the same rounds. */
export const peerFigures = (runs: LoadResult[], pt: LoadResult[], gw: LoadResult[]): PeerFigures => ({
  rps: round(median(runs.map((x) => x.rps)), 0),
  cpu_us_per_request: round(median(runs.map((x) => x.cpu_us_per_request))),
  cpu_vs_passthrough: round(median(runs.map((x, i) => x.cpu_us_per_request / pt[i]!.cpu_us_per_request)), 3),
  cpu_vs_gateway: round(median(runs.map((x, i) => x.cpu_us_per_request / gw[i]!.cpu_us_per_request)), 3),
  rps_vs_passthrough: round(median(runs.map((x, i) => x.rps / pt[i]!.rps)), 3),
  rps_vs_gateway: round(median(runs.map((x, i) => x.rps / gw[i]!.rps)), 3),
});

/**
 * The Workers measured beside the gateway, each alone in its own workerd, same origin, same issuer: naive jose,
 * Hono's jwk middleware (jwks_uri; keys supplied once), the log-line Worker (the pass-through plus one
 * record: the floor of any Worker that logs one record per request), the gateway without its assertion and
 * with log_allowed 0, and the gateway and the log-line Worker with the record serialized as deployed.
 * Each, the gateway too, is checked before any timing: 200 for a valid token, 401 for a bad signature and none.
 * The "-record-as-deployed" rows serialize the record as Cloudflare does (LOG_FORMAT=line: BENCHMARKS.md, "Measuring
 * inside workerd"); how each logging Worker prints it is checked first, so an ignored binding cannot mislabel a row.
 */
export async function startPeers(
  cleanup: (() => unknown)[],
  scripts: { gatewayScript: string; passthroughLogScript: string; joseScript: string; honoScript: string; baselineScript: string | null },
  gatewayBindingsUsed: Record<string, unknown>,
  keys: BenchKeys,
  tokens: BenchTokens,
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
