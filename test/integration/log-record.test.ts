/** The verification record, field by field, for each outcome; the subject modes; bounds; line format; debug header; analytics. */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Env } from '../../src/env.ts';
import { Gateway, type GatewayOptions } from '../../src/gateway.ts';
import { readableLine } from '../../src/log/format.ts';
import { bearer, compileOrThrow, send } from '../helpers/gateway.ts';
import { makeKey, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';
import { RecordCapture } from '../helpers/records.ts';

/** As Cloudflare sends it; the record's colo is its suffix, never request.cf (set to another code here to prove it). */
const RAY = '8e3f1c2a9b7d4e60-AMS';
const NOW = Date.parse('2026-11-23T12:00:00.000Z');
const now = NOW / 1000;
let key: TestKey;
let world: OutsideWorld;
let logs: RecordCapture;

const policy = (settings: object = {}) => ({
  settings: { realm: 'test', ...settings },
  issuers: { corp: { issuer: 'https://corp.example/', keys: [key.publicJwk] } },
  routes: {
    orders: { path: '/orders/*', issuers: ['corp'], audiences: ['orders-api'], app: 'shop', scopes: ['orders:read'], origin: 'https://origin.example' },
    pub: { path: '/public/*', mode: 'public', origin: 'https://origin.example' },
    audit: { path: '/audit/*', mode: 'report-only', issuers: ['corp'], audiences: ['orders-api'], app: 'shop', origin: 'https://origin.example' },
  },
});
const gateway = (settings: object = {}, options: Partial<GatewayOptions> = {}) =>
  new Gateway(compileOrThrow(JSON.stringify(policy(settings)), 'policies/shop.jsonc'), { allowLoopbackHttp: false, ...options });

const good = (extra: object = {}) => ({ iss: 'https://corp.example/', aud: 'orders-api', sub: 'user-42', app_id: 'shop', scope: 'orders:read', iat: now - 10, exp: now + 300, ...extra });
const request = (path: string, headers: Record<string, string> = {}, host = 'gw.example') =>
  new Request(`https://${host}${path}`, { headers: { 'cf-ray': RAY, ...headers }, cf: { colo: 'XXX' } } as RequestInit);

/** An independent SHA-256 prefix, not the gateway's helper. */
async function sha16(text: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return [...bytes.slice(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

beforeAll(async () => {
  key = await makeKey('RS256', 'corp-1');
  world = new OutsideWorld().origin('origin.example').install();
});
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
  logs = new RecordCapture();
});
afterEach(() => {
  logs.restore();
  vi.useRealTimers();
});
afterAll(() => world.restore());

const base = {
  v: 1,
  time: '2026-11-23T12:00:00.000Z',
  request_id: RAY,
  method: 'GET',
  host: 'gw.example',
  latency_ms: 0,
  colo: 'AMS',
  error: null,
  omitted_headers: null,
};

const ordersRoute = { route: 'orders', policy: 'policies/shop.jsonc', path: '/orders/7', mode: 'enforce' };
const verifiedBy = { iss: 'https://corp.example/', kid: 'corp-1', alg: 'RS256', key_layer: 'inline' };

describe('the verification record', () => {
  it('of an allowed request: identity, key, fingerprint, origin status, and the path without its query', async () => {
    const token = await sign(key, good());
    const response = await send(gateway(), request('/orders/7?signature=leak', bearer(token)));
    expect(response.status).toBe(200);
    expect(logs.records).toHaveLength(1);
    expect(logs.last()).toStrictEqual({
      ...base,
      ...ordersRoute,
      outcome: 'allowed',
      status: 200,
      findings: [],
      finding: null,
      codes: '',
      ...verifiedBy,
      aud: 'orders-api',
      app: 'shop',
      sub: 'user-42',
      token_source: 'authorization',
      token_fp: await sha16(token),
      token_cache: 'miss',
      assertion: null,
      origin_status: 200,
    });
  });

  it('of a denied request with several findings: every finding with its evidence, no origin status', async () => {
    const token = await sign(key, good({ aud: 'billing-api', app_id: 'other', scope: 'orders:write', exp: now - 120, iat: now - 400 }));
    const response = await send(gateway(), request('/orders/7', bearer(token)));
    expect(response.status).toBe(401);
    expect(logs.last()).toStrictEqual({
      ...base,
      ...ordersRoute,
      outcome: 'denied',
      status: 401,
      findings: [
        { code: 'token_expired', claim: 'exp', actual: now - 120, expected: `> ${now - 60}` },
        { code: 'audience_mismatch', claim: 'aud', actual: ['billing-api'], expected: ['orders-api'] },
        { code: 'app_mismatch', claim: 'app_id', actual: 'other', expected: 'shop' },
        { code: 'scope_insufficient', claim: 'scope', actual: ['orders:write'], expected: ['orders:read'] },
      ],
      finding: 'token_expired',
      codes: 'token_expired,audience_mismatch,app_mismatch,scope_insufficient',
      ...verifiedBy,
      aud: 'billing-api',
      app: 'other',
      sub: 'user-42',
      token_source: 'authorization',
      token_fp: await sha16(token),
      token_cache: 'miss',
      assertion: null,
      origin_status: null,
    });
  });

  it('of a public request: no token work at all', async () => {
    const response = await send(gateway(), request('/public/status?x=1', { cookie: 'session=abc' }));
    expect(response.status).toBe(200);
    expect(logs.last()).toStrictEqual({
      ...base,
      route: 'pub',
      policy: 'policies/shop.jsonc',
      path: '/public/status',
      mode: 'public',
      outcome: 'public',
      status: 200,
      findings: [],
      finding: null,
      codes: '',
      iss: null,
      aud: null,
      app: null,
      sub: null,
      kid: null,
      alg: null,
      key_layer: null,
      token_source: null,
      token_fp: null,
      token_cache: null,
      assertion: null,
      origin_status: 200,
    });
  });

  it('of a report-only request: forwarded, with the findings enforce would have denied on', async () => {
    const token = await sign(key, good({ app_id: 'other', exp: now - 120, iat: now - 400 }));
    const response = await send(gateway(), request('/audit/7', bearer(token)));
    expect(response.status).toBe(200);
    expect(world.lastOriginRequest().url).toBe('https://origin.example/audit/7');
    expect(logs.last()).toStrictEqual({
      ...base,
      route: 'audit',
      policy: 'policies/shop.jsonc',
      path: '/audit/7',
      mode: 'report-only',
      outcome: 'report_only',
      status: 200,
      findings: [
        { code: 'token_expired', claim: 'exp', actual: now - 120, expected: `> ${now - 60}` },
        { code: 'app_mismatch', claim: 'app_id', actual: 'other', expected: 'shop' },
      ],
      finding: 'token_expired',
      codes: 'token_expired,app_mismatch',
      ...verifiedBy,
      aud: 'orders-api',
      app: 'other',
      sub: 'user-42',
      token_source: 'authorization',
      token_fp: await sha16(token),
      token_cache: 'miss',
      assertion: null,
      origin_status: 200,
    });
  });

  it('of a request no route matches', async () => {
    await send(gateway(), request('/nowhere'));
    expect(logs.last()).toMatchObject({ route: null, policy: null, mode: null, outcome: 'denied', status: 404, findings: [{ code: 'route_not_found' }] });
  });
});

describe('settings.log_subject', () => {
  it('"hashed" logs the first 16 hex digits of SHA-256 of sub', async () => {
    await send(gateway({ log_subject: 'hashed' }), request('/orders/1', bearer(await sign(key, good()))));
    expect(logs.last().sub).toBe(await sha16('user-42'));
    expect(logs.last().sub).toMatch(/^[0-9a-f]{16}$/);
  });

  it('"omitted" logs no subject, and "plain" (the default) logs it as it is', async () => {
    await send(gateway({ log_subject: 'omitted' }), request('/orders/1', bearer(await sign(key, good()))));
    expect(logs.last()).toMatchObject({ outcome: 'allowed', sub: null });
    await send(gateway({ log_subject: 'plain' }), request('/orders/1', bearer(await sign(key, good()))));
    expect(logs.last().sub).toBe('user-42');
  });
});

describe('evidence from a token is bounded', () => {
  it('cuts an unverified iss of 5,000 characters to 200 and a marker', async () => {
    await send(gateway(), request('/orders/1', bearer(await sign(key, good({ iss: `https://${'x'.repeat(5000)}` })))));
    const [issuerFinding] = logs.last().findings;
    expect(issuerFinding?.code).toBe('issuer_mismatch');
    expect(issuerFinding?.actual).toBe(`https://${'x'.repeat(192)}…`);
  });

  it('shortens a long aud array and flattens nested values', async () => {
    const aud = Array.from({ length: 100 }, (_, i) => `aud-${i}`);
    await send(gateway(), request('/orders/1', bearer(await sign(key, good({ aud, app_id: { nested: ['deep'] } })))));
    const record = logs.last();
    const audFinding = record.findings.find((f) => f.code === 'audience_mismatch');
    expect(audFinding?.actual).toHaveLength(21);
    expect((audFinding?.actual as string[]).at(-1)).toBe('…80 more');
    expect(record.findings.find((f) => f.code === 'app_mismatch')?.actual).toBe('[object]');
    expect(JSON.stringify(record).length).toBeLessThan(4000);
  });
});

describe('LOG_FORMAT=line (npm start)', () => {
  it('prints the record as one line of JSON, which npm start shows as one readable line', async () => {
    const lines: unknown[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((value: unknown) => void lines.push(value));
    try {
      const token = await sign(key, good({ aud: 'billing-api' }));
      await send(gateway({}, { logFormat: 'line' }), request('/orders/7?q=1', bearer(token)));
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0] as string)).toMatchObject({ v: 1, outcome: 'denied', finding: 'audience_mismatch' });
      expect(lines.map((line) => readableLine(line as string))).toEqual([
        `2026-11-23T12:00:00.000Z 401 denied GET gw.example/orders/7 route=orders iss=https://corp.example/ aud=billing-api app=shop sub=user-42 kid=corp-1 alg=RS256 key=inline fp=${await sha16(token)} colo=AMS req=${RAY} 0ms | audience_mismatch aud actual=["billing-api"] expected=["orders-api"]`,
      ]);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('DEBUG_FINDINGS (local development only)', () => {
  const denied = async (options: Partial<GatewayOptions>, host: string) =>
    send(gateway({}, options), request('/orders/1', bearer(await sign(key, good({ aud: 'x', scope: '' }))), host));

  it('adds the finding codes to a denied answer for a loopback host', async () => {
    const response = await denied({ debugFindings: true }, '127.0.0.1:8787');
    expect(response.headers.get('x-debug-findings')).toBe('audience_mismatch;claim=aud, scope_insufficient;claim=scope');
  });

  it('is off by default', async () => {
    expect((await denied({}, '127.0.0.1')).headers.get('x-debug-findings')).toBeNull();
  });

  it('is refused, with a warning, for any other host', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      expect((await denied({ debugFindings: true }, 'gw.example')).headers.get('x-debug-findings')).toBeNull();
      expect(warn.mock.calls.flat().join('\n')).toContain('debug_findings_refused');
    } finally {
      warn.mockRestore();
    }
  });
});

describe('settings.log_allowed: the record of allowed requests, every one, a sample or none', () => {
  const traffic = async (gw: Gateway) => {
    const token = await sign(key, good());
    for (let i = 0; i < 20; i++) await send(gw, request(`/orders/${i}`, bearer(token)));
    await send(gw, request('/public/a'));
    await send(gw, request('/orders/7', bearer(await sign(key, good({ aud: 'x' })))));
    await send(gw, request('/orders/7'));
    await send(gw, request('/audit/1', bearer(await sign(key, good({ aud: 'x' })))));
  };

  it('0: no allowed request is recorded; denials and report-only requests always are', async () => {
    await traffic(gateway({ log_allowed: 0 }));
    expect(logs.records.map((r) => [r.outcome, r.finding])).toEqual([
      ['denied', 'audience_mismatch'],
      ['denied', 'token_missing'],
      ['report_only', 'audience_mismatch'],
    ]);
  });

  it('1 (and the default): every request is recorded', async () => {
    await traffic(gateway({ log_allowed: 1 }));
    expect(logs.records).toHaveLength(24);
    logs.records.length = 0;
    await traffic(gateway());
    expect(logs.records).toHaveLength(24);
  });

  it('a fraction: about that share of allowed requests, drawn per request; every denial', async () => {
    const random = vi.spyOn(Math, 'random');
    // Alternately under and over the rate: half of the allowed requests are kept.
    let draw = 0;
    random.mockImplementation(() => (draw++ % 2 === 0 ? 0.1 : 0.9));
    try {
      await traffic(gateway({ log_allowed: 0.5 }));
    } finally {
      random.mockRestore();
    }
    expect(logs.records.filter((r) => r.outcome === 'allowed' || r.outcome === 'public')).toHaveLength(11);
    expect(logs.records.filter((r) => r.outcome === 'denied' || r.outcome === 'report_only')).toHaveLength(3);
  });

  it('Analytics Engine still counts every request, and says which records were written', async () => {
    const analytics = (env as Env).GATEWAY_ANALYTICS!;
    const write = vi.spyOn(analytics, 'writeDataPoint');
    try {
      const gw = gateway({ log_allowed: 0 });
      await send(gw, request('/orders/1', bearer(await sign(key, good()))));
      await send(gw, request('/orders/1'));
      expect(write.mock.calls.map(([point]) => [point!.blobs![1], point!.doubles![3]])).toEqual([['allowed', 0], ['denied', 1]]);
      expect(logs.records.map((r) => r.outcome)).toEqual(['denied']);
    } finally {
      write.mockRestore();
    }
  });

  it('hashes no token for a record it does not write', async () => {
    const gw = gateway({ log_allowed: 0 });
    const token = await sign(key, good());
    const digests = vi.spyOn(crypto.subtle, 'digest');
    try {
      await send(gw, request('/orders/1', bearer(token)));
      expect(digests).not.toHaveBeenCalled();
    } finally {
      digests.mockRestore();
    }
  });
});

describe('Workers Analytics Engine', () => {
  it('writes one data point per request through the configured binding', async () => {
    // miniflare's local Analytics Engine binding (vitest.config.ts); the spy records the calls and lets them through.
    const analytics = (env as Env).GATEWAY_ANALYTICS;
    expect(analytics).toBeDefined();
    const write = vi.spyOn(analytics!, 'writeDataPoint');
    try {
      await send(gateway(), request('/orders/1', bearer(await sign(key, good({ aud: 'x' })))));
      await send(gateway(), request('/public/a'));
      expect(write.mock.calls).toEqual([
        [{ indexes: ['orders'], blobs: ['orders', 'denied', 'audience_mismatch', 'https://corp.example/', 'shop', 'inline', 'AMS'], doubles: [401, 0, 1, 1] }],
        [{ indexes: ['pub'], blobs: ['pub', 'public', '', '', '', '', 'AMS'], doubles: [200, 0, 0, 1] }],
      ]);
    } finally {
      write.mockRestore();
    }
  });

  it('writes nothing, and answers as usual, without the binding', async () => {
    const ctx = createExecutionContext();
    const response = await gateway().handle(request('/public/a'), { ...env, GATEWAY_ANALYTICS: undefined }, ctx);
    await waitOnExecutionContext(ctx);
    expect(response.status).toBe(200);
    expect(logs.last().outcome).toBe('public');
  });
});
