/**
 * Open-loop load on loopback: requests leave at a fixed rate whatever the answers, as clients of a real
 * gateway do, so a server that slows down piles requests up instead of slowing the load (autocannon's fixed
 * connections would hide that). Bounded in count (`maxInFlight`: beyond it a request is not sent and is
 * counted as skipped) and in time (`seconds`; each request gives up after `timeoutMs`).
 */
import { Agent, request } from 'node:http';

export interface Shot {
  /** Seconds since the load started, when the request left. */
  at: number;
  ms: number;
  /** The HTTP status, or 0 when the request failed or timed out on the client. */
  status: number;
  kind: string;
  retryAfter: boolean;
}

export interface OpenLoopSpec {
  base: string;
  rate: number;
  seconds: number;
  maxInFlight: number;
  timeoutMs: number;
  /** The next request: its kind (for the report), path and headers. */
  next: () => { kind: string; path: string; headers: Record<string, string> };
}

export function openLoop(spec: OpenLoopSpec) {
  const agent = new Agent({ keepAlive: true, maxSockets: spec.maxInFlight });
  const shots: Shot[] = [];
  const started = performance.now();
  let inFlight = 0;
  let skipped = 0;
  let due = 0;
  const fire = () => {
    const { kind, path, headers } = spec.next();
    if (inFlight >= spec.maxInFlight) {
      skipped++;
      return;
    }
    inFlight++;
    const sent = performance.now();
    const at = (sent - started) / 1000;
    const done = (status: number, retryAfter: boolean) => {
      inFlight--;
      shots.push({ at, ms: performance.now() - sent, status, kind, retryAfter });
    };
    const req = request(spec.base + path, { agent, headers, timeout: spec.timeoutMs }, (res) => {
      res.resume();
      res.once('end', () => done(res.statusCode ?? 0, res.headers['retry-after'] !== undefined));
      res.once('error', () => done(0, false));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', () => done(0, false));
    req.end();
  };
  const tick = 10;
  const timer = setInterval(() => {
    due += (spec.rate * tick) / 1000;
    for (; due >= 1; due--) fire();
  }, tick);
  const finished = new Promise<Shot[]>((resolve) => {
    setTimeout(() => {
      clearInterval(timer);
      const drain = setInterval(() => {
        if (inFlight > 0 && performance.now() - started < spec.seconds * 1000 + spec.timeoutMs + 1000) return;
        clearInterval(drain);
        agent.destroy();
        resolve(shots);
      }, 50);
    }, spec.seconds * 1000);
  });
  return { finished, inFlight: () => inFlight, skipped: () => skipped, elapsed: () => (performance.now() - started) / 1000 };
}
