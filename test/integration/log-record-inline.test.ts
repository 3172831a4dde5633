/**
 * The record is written on the request's own path, its digests awaited before the answer leaves and none
 * spent on a cache hit's token: the subject is still shown as log_subject says on a hit, and a digest that
 * fails costs neither the client's answer nor the record, and never shows the subject the policy hides.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import { Gateway } from '../../src/gateway.ts';
import { bearer, compileOrThrow, send } from '../helpers/gateway.ts';
import { makeKey, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';
import { RecordCapture } from '../helpers/records.ts';

const now = Math.floor(Date.now() / 1000);
let key: TestKey;
let world: OutsideWorld;
let logs: RecordCapture;
let digestSpy: { mockRestore(): void } | undefined;

const gatewayWith = (settings: object = {}) =>
  new Gateway(
    compileOrThrow(
      JSON.stringify({
        settings: { realm: 'test', ...settings },
        issuers: { corp: { issuer: 'https://corp.example/', keys: [key.publicJwk] } },
        routes: { orders: { path: '/orders/*', issuers: ['corp'], audiences: ['orders-api'], app: 'shop', origin: 'https://origin.example' } },
      }),
      'policies/shop.jsonc',
    ),
    { allowLoopbackHttp: false },
  );
const good = () => ({ iss: 'https://corp.example/', aud: 'orders-api', sub: 'user-42', app_id: 'shop', iat: now - 10, exp: now + 300 });
/** An independent SHA-256 prefix, not the gateway's helper. */
async function sha16(text: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return [...bytes.slice(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
const request = (token: string) => new Request('https://gw.example/orders/1', { headers: bearer(token) });

beforeAll(async () => {
  key = await makeKey('RS256', 'corp-1');
  world = new OutsideWorld().origin('origin.example').install();
});
beforeEach(() => {
  logs = new RecordCapture();
});
afterEach(() => {
  logs.restore();
  digestSpy?.mockRestore();
});
afterAll(() => world.restore());

it.each([
  ['hashed', async () => sha16('user-42')],
  ['omitted', async () => null],
])('log_subject "%s" holds on a cache hit too, whose record needs no token digest', async (mode, expected) => {
  const gateway = gatewayWith({ log_subject: mode });
  const token = await sign(key, good());
  for (const cache of ['miss', 'hit']) {
    expect((await send(gateway, request(token))).status).toBe(200);
    expect(logs.last()).toMatchObject({ token_cache: cache, sub: await expected(), token_fp: await sha16(token) });
  }
  expect(JSON.stringify(logs.lines)).not.toContain('user-42');
});

/** Every digest of these texts fails (the log's token fingerprint and hashed subject); any other is computed. */
function failDigestsOf(...texts: string[]): void {
  const digest = crypto.subtle.digest.bind(crypto.subtle);
  digestSpy = vi.spyOn(crypto.subtle, 'digest').mockImplementation((algorithm, data) =>
    texts.includes(new TextDecoder().decode(data as Uint8Array)) ? Promise.reject(new DOMException('digest failed', 'OperationError')) : digest(algorithm, data),
  );
}

it('a denial keeps its clean 401 and its record when the token fingerprint cannot be computed', async () => {
  failDigestsOf('not.a-token.at-all');
  const response = await send(gatewayWith(), request('not.a-token.at-all'));
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
  expect(logs.records).toHaveLength(1);
  expect(logs.last()).toMatchObject({ outcome: 'denied', status: 401, token_fp: null });
});

it('an allowed request keeps its answer and its record, with no subject at all, when log_subject "hashed" cannot hash it', async () => {
  const token = await sign(key, good());
  failDigestsOf(token, 'user-42');
  const response = await send(gatewayWith({ log_subject: 'hashed' }), request(token));
  expect(logs.last().error).toBe(null);
  expect(response.status).toBe(200);
  expect(logs.records).toHaveLength(1);
  expect(logs.last()).toMatchObject({ outcome: 'allowed', status: 200, sub: null, token_fp: null });
  expect(JSON.stringify(logs.lines)).not.toContain('user-42');
});
