/**
 * One bounded load run with autocannon on loopback: stops at `amount` requests or `seconds`, whichever
 * comes first, and reports throughput, latency and the target workerd process's CPU per request.
 */
import autocannon from 'autocannon';
import type { WorkerInstance } from './workers.ts';

export interface LoadSpec {
  path: string;
  method?: 'GET' | 'POST';
  /** One token for every request, or a list handed out in order (never reused within the run). */
  tokens?: string | string[];
  body?: Buffer;
  connections: number;
  amount: number;
  seconds: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  cpu_us_per_request: number;
  /** Answers whose status differed from the one expected: a run with any is invalid. */
  unexpected: number;
  statuses: Record<string, number>;
}

export async function runLoad(target: WorkerInstance, spec: LoadSpec, expectedStatus: number): Promise<LoadResult> {
  const tokens = spec.tokens;
  const amount = Array.isArray(tokens) ? Math.min(spec.amount, tokens.length) : spec.amount;
  let next = 0;
  const headers: Record<string, string> = {};
  if (typeof tokens === 'string') headers.authorization = `Bearer ${tokens}`;
  if (spec.body) headers['content-type'] = 'application/octet-stream';
  const statuses: Record<string, number> = {};
  const cpuBefore = target.cpuNs();
  const started = performance.now();
  const instance = autocannon({
    url: target.url + spec.path,
    method: spec.method ?? 'GET',
    headers,
    body: spec.body,
    connections: spec.connections,
    amount,
    // A second bound besides `amount`: no run outlives its time budget, whatever the machine does.
    duration: spec.seconds * 4,
    timeout: 10,
    requests: Array.isArray(tokens)
      ? [{ setupRequest: (req: { headers: Record<string, string> }) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` } }) }]
      : undefined,
  });
  // Throughput runs to the last answer: autocannon may resolve up to a second after reaching `amount`.
  let lastAnswer = started;
  instance.on('response', (_client: unknown, status: number) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
    lastAnswer = performance.now();
  });
  const stop = setTimeout(() => instance.stop(), spec.seconds * 1000);
  const result = await instance;
  clearTimeout(stop);
  const elapsed = (lastAnswer - started) / 1000;
  const cpu = target.cpuNs() - cpuBefore;
  const requests = Object.values(statuses).reduce((a, b) => a + b, 0);
  return {
    requests,
    rps: requests / elapsed,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    cpu_us_per_request: requests > 0 ? cpu / 1000 / requests : NaN,
    unexpected: requests - (statuses[expectedStatus] ?? 0) + result.errors + result.timeouts,
    statuses,
  };
}
