/**
 * What one `npm run bench` was asked for (bench/run.ts's header lists the options): the parsed options, the
 * profile that sets how long each part runs, the fixed ports, the harness each Worker runs in, and the run's
 * progress log with its list of failures. Read by bench/run.ts and the bench/lib/ parts it runs.
 */
import { parseCli, usageError } from '../../scripts/cli.ts';
import { startWorker, startWorkerDirect, type StartOptions, type WorkerInstance } from './workers.ts';

export const PORTS = {
  origin: 18701, jwks: 18702, passthrough: 18710, gateway: 18711, gatewayRecordAsDeployed: 18712, passthroughLog: 18713,
  jose: 18714, honoUri: 18715, honoKeys: 18716, gatewayNoAssertion: 18717, gatewaySampled: 18718, passthroughLogAsDeployed: 18719,
  coldGateway: 18720, coldPassthrough: 18721, gatewayBaseline: 18722, requestCostBaseline: 18723,
};
export const ORIGIN = `http://127.0.0.1:${PORTS.origin}`;
export const JWKS = `http://127.0.0.1:${PORTS.jwks}`;

const USAGE = 'npm run bench -- [--quick] [--rounds N] [--only names] [--peers names] [--breakdown [--stages names]] [--baseline rev] [--harness workerd|miniflare] [--note text] [--out file]';

/** What --only, --peers and --stages accept: a misspelt name is a usage error, never a run that silently measures nothing. */
export const SCENARIO_NAMES = [
  'rs256-repeated', 'rs256-distinct', 'rejected', 'es256-distinct', 'eddsa-distinct', 'jwks-1', 'jwks-100', 'body-1mib',
  'routes-10', 'routes-100', 'routes-1000', 'micro', 'request-cost', 'cold-first-request',
];
export const PEER_NAMES = [
  'jose', 'hono-jwks-uri', 'hono-keys', 'log-line', 'log-line-record-as-deployed', 'gateway-record-as-deployed',
  'gateway-no-assertion', 'gateway-no-allowed-record', 'gateway-baseline',
];
/** request-cost's --breakdown variants, in the order they run (bench/worker/request-cost.ts). */
export const REQUEST_STAGES = [
  'stage-noop', 'stage-url', 'stage-canonical', 'stage-route', 'stage-origin', 'stage-sanitize', 'stage-identity',
  'stage-headersafe', 'stage-mint', 'stage-sign-raw', 'stage-log-hit', 'stage-log-hit-json',
  'stage-deny-empty', 'stage-deny', // issue 24: the deny-list check on an accepted token (empty list; 1,000 entries, no match)
  // Whole requests: a plain fetch, then the forward path's own pieces (the origin timer's controller, the timer, eight identity headers).
  'fetch', 'fetch-controller', 'fetch-signal', 'fetch-set8',
];

export const { values: args } = parseCli('bench', {
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
}, USAGE);
if (args.harness !== 'workerd' && args.harness !== 'miniflare') usageError('bench', `--harness is workerd (the default) or miniflare, not "${args.harness}"`);
if (args.rounds !== undefined && !(Number.isInteger(Number(args.rounds)) && Number(args.rounds) >= 1)) usageError('bench', `--rounds must be a whole number of at least 1, not "${args.rounds}"`);
for (const [option, known] of [['only', SCENARIO_NAMES], ['peers', PEER_NAMES], ['stages', REQUEST_STAGES]] as const) {
  const unknown = (args[option] ?? '').split(',').filter((name) => name !== '' && !known.includes(name));
  if (unknown.length > 0) usageError('bench', `--${option} does not know ${unknown.join(', ')} (it knows ${known.join(', ')}; usage: ${USAGE})`);
}
/** workerd serve with the Worker alone (default), or Miniflare's entry Worker in front of it (bench/lib/workers.ts). */
export const start: (options: StartOptions) => Promise<WorkerInstance> = args.harness === 'miniflare' ? startWorker : startWorkerDirect;

/** How long each run lasts and how many there are; --quick keeps the whole command to a few minutes. */
export const PROFILE = args.quick
  ? { rounds: 4, seconds: 0.5, amount: 6000, distinctPerRun: 600, bodyAmount: 60, warmAmount: 150, microN: 400, microRounds: 4, coldRounds: 2, requestN: 100 }
  : { rounds: 6, seconds: 3, amount: 30000, distinctPerRun: 6000, bodyAmount: 500, warmAmount: 1000, microN: 2000, microRounds: 9, coldRounds: 9, requestN: 400 };
export const ROUNDS = args.rounds ? Number(args.rounds) : PROFILE.rounds;
export const CONNECTIONS = 8;
export const only = args.only ? new Set(args.only.split(',')) : null;
export const wanted = (name: string) => only === null || only.has(name);

/** Every failed part or unexpected answer of the run: the report keeps them and the command exits non-zero. */
export const failures: string[] = [];

export const log = (message: string) => process.stderr.write(`${message}\n`);
export const started = Date.now();
export const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;

/** Runs one part of the benchmark; a failure is recorded and the rest goes on. */
export async function attempt<T>(name: string, part: () => Promise<T>): Promise<T | null> {
  try {
    return await part();
  } catch (error) {
    failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    log(`  ${name} FAILED: ${failures.at(-1)}`);
    return null;
  }
}
