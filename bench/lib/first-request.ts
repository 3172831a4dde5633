/** A fresh Worker's first request, as `npm run bench`'s cold-first-request and `npm run bench:cold` both measure it. */
import type { WorkerInstance } from './workers.ts';

/** How long the record, written in waitUntil after the answer, is given to land in the request's CPU figure. */
const SETTLE_MS = 50;
/** A workerd is idle once its CPU grew by less than this over one poll... */
const IDLE_GROWTH_NS = 100_000;
const IDLE_POLL_MS = 30;
/** ...and gives up waiting after this (a figure taken then is flagged by the caller's spread, not hidden). */
const IDLE_DEADLINE_MS = 3_000;

/**
 * Waits until a freshly started workerd has finished starting, and returns the CPU it spent doing so (µs).
 * workerd accepts connections before its start is over: for up to ~100 ms after it listens it goes on
 * working (0-20 ms of CPU on this machine, whether the script is the gateway or the no-op pass-through), and
 * a request sent at once was billed a random share of that. Waiting for two quiet polls in a row makes the
 * first request's figure the request's own.
 */
export async function settledStart(worker: WorkerInstance): Promise<number> {
  const deadline = performance.now() + IDLE_DEADLINE_MS;
  let last = worker.cpuNs();
  let quiet = 0;
  while (quiet < 2 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
    const now = worker.cpuNs();
    quiet = now - last < IDLE_GROWTH_NS ? quiet + 1 : 0;
    last = now;
  }
  return last / 1000;
}

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
