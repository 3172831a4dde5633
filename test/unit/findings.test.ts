import { describe, expect, it } from 'vitest';
import { answerFor, FINDING_CODES, finding, type FindingCode } from '../../src/findings.ts';

const context = { realm: 'api', requestId: 'req-1', requiredScopes: ['billing:admin', 'billing:read'], retryAfterSeconds: 30 };
const answer = (...codes: FindingCode[]) => answerFor(codes.map((c) => finding(c, { detail: 'secret detail', actual: 'eyJhbGciOi' })), context);

describe('answerFor: the one place findings become HTTP', () => {
  it('no token: 401 with a bare challenge (RFC 6750 section 3.1)', async () => {
    const response = answer('token_missing');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    expect(await response.json()).toEqual({ error: 'unauthorized', error_description: 'An access token is required.', request_id: 'req-1' });
  });

  it('a bad token: 401 invalid_token', () => {
    const response = answer('signature_invalid');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api", error="invalid_token", error_description="The access token is invalid."');
  });

  it('a malformed request: 400 invalid_request', () => {
    const response = answer('request_invalid');
    expect(response.status).toBe(400);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api", error="invalid_request", error_description="The request is malformed."');
  });

  it('missing scope: 403 insufficient_scope naming the scopes', () => {
    const response = answer('scope_insufficient');
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="The access token does not grant the required scope.", scope="billing:admin billing:read"',
    );
  });

  it('a token both of another app and short of scope is invalid, not merely short of scope', () => {
    expect(answer('scope_insufficient', 'app_mismatch').status).toBe(401);
  });

  it('several findings: the most fundamental answer wins, in this order, whichever finding comes first', () => {
    // One code per kind of answer, most fundamental first: each pair is answered as its earlier member alone.
    const order = ['route_not_found', 'request_invalid', 'csrf_check_failed', 'token_missing', 'keys_unavailable', 'signature_invalid', 'scope_insufficient', 'claim_insufficient', 'rate_limited'] as const;
    for (let i = 0; i < order.length; i++) {
      for (let j = i + 1; j < order.length; j++) {
        const alone = answer(order[i]!);
        for (const both of [answer(order[i]!, order[j]!), answer(order[j]!, order[i]!)]) {
          expect([both.status, both.headers.get('www-authenticate')], `${order[i]} with ${order[j]}`).toEqual([alone.status, alone.headers.get('www-authenticate')]);
        }
      }
    }
  });

  it('keys unavailable: 503 with Retry-After', () => {
    const response = answer('keys_unavailable');
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('30');
  });

  it('no route: 404 without a challenge', () => {
    const response = answer('route_not_found');
    expect(response.status).toBe(404);
    expect(response.headers.get('www-authenticate')).toBeNull();
  });

  it.each(FINDING_CODES)('%s maps to a 4xx or 503 whose body carries no finding detail', async (code) => {
    const response = answer(code);
    expect([400, 401, 403, 404, 429, 503]).toContain(response.status);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const text = (await response.text()) + JSON.stringify([...response.headers]);
    expect(text).not.toContain('secret detail');
    expect(text).not.toContain('eyJhbGciOi');
    expect(text).not.toContain(code);
  });
});
