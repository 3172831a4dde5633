/**
 * What one `npm run bench` was asked for (bench/run.ts's header lists the options): the parsed options, the
 * profile that sets how long each part runs, the fixed ports, the harness each Worker runs in, and the run's
 * progress log with its list of failures. Read by bench/run.ts and the bench/lib/ parts it runs.
 */
import { parseArgs } from 'node:util';
import { startWorker, startWorkerDirect, type StartOptions, type WorkerInstance } from './workers.ts';

export const PORTS = {
  origin: 18701, jwks: 18702, passthrough: 18710, gateway: 18711, gatewayRecordAsDeployed: 18712, passthroughLog: 18713,
  jose: 18714, honoUri: 18715, honoKeys: 18716, gatewayNoAssertion: 18717, gatewaySampled: 18718, passthroughLogAsDeployed: 18719,
  coldGateway: 18720, coldPassthrough: 18721, gatewayBaseline: 18722, requestCostBaseline: 18723,
};
export const ORIGIN = `http://127.0.0.1:${PORTS.origin}`;
export const JWKS = `http://127.0.0.1:${PORTS.jwks}`;

export const { values: args } = parseArgs({
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
