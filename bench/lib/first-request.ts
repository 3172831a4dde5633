/** A fresh Worker's first request, as `npm run bench`'s cold-first-request and `npm run bench:cold` both measure it. */
import type { WorkerInstance } from './workers.ts';

/** How long the record, written in waitUntil after the answer, is given to land in the request's CPU figure. */
const SETTLE_MS = 50;

/**
 * One request to `path` (with the bearer token, if any): its status, its latency to the end of the body, and
 * the workerd process's CPU from the request until the work done after the answer has settled.
 */
export async function measuredRequest(worker: WorkerInstance, path: string, token: string | null): Promise<{ status: number; ms: number; cpuUs: number }> {
  const cpu = worker.cpuNs();
  const t0 = performance.now();
  const response = await fetch(`${worker.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  await response.arrayBuffer();
  const ms = performance.now() - t0;
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  return { status: response.status, ms, cpuUs: (worker.cpuNs() - cpu) / 1000 };
}
