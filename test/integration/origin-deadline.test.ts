/**
 * The origin deadline (route origin_timeout_ms) covers the wait for the origin's response headers, never a body
 * that streams longer (src/forward/origin.ts). Both origins are real ones behind workerd's own fetch (service
 * bindings in vitest.config.ts), not a stand-in for fetch: the signal the gateway hands fetch also guards the
 * response body there, so a deadline still armed once the headers are in would cut the body.
 */
import { describe, expect, it } from 'vitest';
import { gatewayFor, send } from '../helpers/gateway.ts';
import { RecordCapture } from '../helpers/records.ts';

const routeTo = (service: string) => ({ routes: { r: { path: '/*', mode: 'public' as const, origin: { service }, origin_timeout_ms: 100 } } });

describe('the origin deadline', () => {
  it('does not cut a body that streams for six times the deadline after the headers came in time', async () => {
    const started = Date.now();
    const response = await send(gatewayFor(routeTo('TEST_SLOW_BODY_ORIGIN')), new Request('https://gw.example/stream'));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('first;second;last');
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it('answers 504 when the headers do not come in time', async () => {
    const logs = new RecordCapture();
    try {
      const response = await send(gatewayFor(routeTo('TEST_SLOW_HEADERS_ORIGIN')), new Request('https://gw.example/late'));
      expect(response.status).toBe(504);
      expect(logs.last()).toMatchObject({ status: 504, error: 'origin timeout: no response in 100 ms' });
    } finally {
      logs.restore();
    }
  });
});
