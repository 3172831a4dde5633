/**
 * The origin timeout's timer ends with the origin's answer. workerd allows 10,000 armed timers per
 * IoContext; every request a test sends shares the test's context, so a timer left armed after each answer
 * (AbortSignal.timeout) made the 10,000th forwarded request fail (the long fuzz run).
 */
import { describe, expect, it } from 'vitest';
import { forwardToOrigin, type ResolvedOrigin } from '../../../src/forward/origin.ts';

/** An origin that answers at once, reached like a service binding. */
const answering: ResolvedOrigin = { url: new URL('https://origin.example/x'), fetcher: { fetch: async () => new Response('ok') } as unknown as Fetcher };

/** An origin that never answers until the request is aborted. */
const silent: ResolvedOrigin = {
  url: new URL('https://origin.example/x'),
  fetcher: {
    fetch: (_url: URL, init: RequestInit) => new Promise((_, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason))),
  } as unknown as Fetcher,
};

describe('the origin timer', () => {
  it('ends with the answer: 12,000 forwarded requests in one context, each with a 30 s timeout, all answered', async () => {
    const results = { ok: 0, failed: [] as string[] };
    for (let i = 0; i < 12_000; i++) {
      try {
        const result = await forwardToOrigin(new Request('https://gw.example/x'), 'GET', answering, new Headers(), 30_000);
        if (result.ok) results.ok++;
        else results.failed.push(result.reason);
      } catch (error) {
        results.failed.push(String(error));
        break;
      }
    }
    expect(results.failed.slice(0, 1)).toEqual([]);
    expect(results.ok).toBe(12_000);
  });

  it('still aborts an origin that does not answer in time', async () => {
    const result = await forwardToOrigin(new Request('https://gw.example/x'), 'GET', silent, new Headers(), 20);
    expect(result).toEqual({ ok: false, kind: 'timeout', reason: 'no response in 20 ms' });
  });
});
