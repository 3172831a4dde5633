/**
 * A fault of the gateway's own (never the client's input) is a 500 with nothing of it said to the client, and
 * one record with outcome "error": whether it is thrown in the request's first step (before any await) or
 * inside a step that runs once a promise settled (after authenticate). Either must stay true if the path is
 * ever made synchronous where it can be (a throw would then escape handle() instead of rejecting).
 * Provoked here by an env binding whose getter throws, read where the gateway reads it.
 */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Env } from '../../src/env.ts';
import { bearer, gatewayFor } from '../helpers/gateway.ts';
import { makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { RecordCapture } from '../helpers/records.ts';

const ISS = 'https://idp.example/';
let key: TestKey;
let logs: RecordCapture;

beforeAll(async () => {
  key = await makeKey('ES256', 'idp-1');
});
afterEach(() => logs?.restore());

/** workerd's env with one member whose read throws, as a bug of ours would. */
function envThrowingOn(name: string): Env {
  const faulty = { ...env } as Record<string, unknown>;
  Object.defineProperty(faulty, name, {
    get() {
      throw new TypeError(`reading ${name}`);
    },
  });
  return faulty as unknown as Env;
}

async function handle(policy: object, request: Request, faultyEnv: Env): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await gatewayFor(policy).handle(request, faultyEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe('a fault of the gateway itself', () => {
  it('thrown before the first await: 500, one record with outcome error', async () => {
    logs = new RecordCapture();
    // An unbound service origin: were the fault ever gone, the request would end in a 502 here, never on the network.
    const policy = { routes: { r: { path: '/*', mode: 'public', origin: { service: 'UNBOUND_ORIGIN' } } } };
    const response = await handle(policy, new Request('https://gw.example/x'), envThrowingOn('GATEWAY_ADMIN_TOKEN'));
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain('GATEWAY_ADMIN_TOKEN');
    expect(logs.records).toHaveLength(1);
    expect(logs.last()).toMatchObject({ outcome: 'error', status: 500, error: 'internal: TypeError', route: null });
  });

  it('thrown after the token was verified (a step behind a promise): 500, one record with outcome error', async () => {
    logs = new RecordCapture();
    const policy = {
      issuers: { idp: { issuer: ISS, keys: [key.publicJwk], algorithms: ['ES256'] } },
      routes: { r: { path: '/*', issuers: ['idp'], audiences: ['api'], origin: { service: 'FAULTY_ORIGIN' } } },
    };
    const token = await sign(key, { iss: ISS, aud: 'api', sub: 'user-1', iat: nowSeconds(), exp: nowSeconds() + 300 });
    const response = await handle(policy, new Request('https://gw.example/x', { headers: bearer(token) }), envThrowingOn('FAULTY_ORIGIN'));
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain('FAULTY_ORIGIN');
    expect(logs.records).toHaveLength(1);
    // The route and the verified token are on the record: the fault came after both.
    expect(logs.last()).toMatchObject({ outcome: 'error', status: 500, error: 'internal: TypeError', route: 'r', iss: ISS, sub: 'user-1' });
  });
});
