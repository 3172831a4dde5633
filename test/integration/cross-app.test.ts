/**
 * Cross-app misuse matrix: four apps behind one gateway, two with their own audiences (orders, partner)
 * and two that share one audience and differ only by app_id (billing, reports). Every app's token is
 * accepted on every route of its own app and refused on every route of every other app, although its
 * signature is valid, with app_mismatch or audience_mismatch in the record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, gatewayFor, send } from '../helpers/gateway.ts';
import { jwksOf, makeKey, nowSeconds, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld } from '../helpers/outside-world.ts';
import { RecordCapture } from '../helpers/records.ts';

const ISS = 'https://id.platform.example/';
const JWKS = 'https://id.platform.example/.well-known/jwks.json';
const SHARED = 'https://api.platform.example';

interface App {
  app: string;
  audience: string;
  /** Requests that reach this app's routes (several routes per app, exact and prefix, by method and host). */
  requests: { method: string; url: string }[];
}

const APPS: App[] = [
  { app: 'billing', audience: SHARED, requests: [{ method: 'GET', url: 'https://api.example/billing/invoices/7' }, { method: 'POST', url: 'https://api.example/billing/admin/refunds' }] },
  { app: 'reports', audience: SHARED, requests: [{ method: 'GET', url: 'https://api.example/reports' }, { method: 'GET', url: 'https://api.example/reports/2026/q3' }] },
  { app: 'orders', audience: 'https://orders.platform.example', requests: [{ method: 'GET', url: 'https://api.example/orders/1' }, { method: 'DELETE', url: 'https://api.example/orders/1' }] },
  { app: 'partner', audience: 'https://partner.platform.example', requests: [{ method: 'GET', url: 'https://partner.example/catalog' }] },
];

let key: TestKey;
let world: OutsideWorld;
let logs: RecordCapture;
let gateway: ReturnType<typeof gatewayFor>;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  key = await makeKey('ES256', 'platform-1');
  world = new OutsideWorld().serveJwks(JWKS, jwksOf(key)).origin('origin.example').origin('partner-origin.example').install();
  logs = new RecordCapture();
  const r = (app: string, audience: string, extra: object) => ({ issuers: ['platform'], audiences: [audience], app, origin: 'https://origin.example', ...extra });
  gateway = gatewayFor({
    issuers: { platform: { preset: 'app-scoped', issuer: ISS, jwks_uri: JWKS, algorithms: ['ES256'] } },
    routes: {
      billing: r('billing', SHARED, { path: '/billing/*' }),
      'billing-admin': r('billing', SHARED, { path: '/billing/admin/*', methods: ['POST'] }),
      reports: r('reports', SHARED, { path: '/reports/*' }),
      'orders-read': r('orders', 'https://orders.platform.example', { path: '/orders/*', methods: ['GET'] }),
      'orders-write': r('orders', 'https://orders.platform.example', { path: '/orders/*', methods: ['DELETE'] }),
      // Its own origin: sharing origin.example, partner.example/billing/... would hand the billing handler a
      // partner token, and compilation refuses that (src/config/route-checks.ts).
      partner: r('partner', 'https://partner.platform.example', { path: '/*', host: 'partner.example', origin: 'https://partner-origin.example' }),
    },
  });
  for (const { app, audience } of APPS) {
    tokens[app] = await sign(key, { iss: ISS, aud: audience, app_id: app, sub: `user-of-${app}`, iat: nowSeconds(), exp: nowSeconds() + 300 });
  }
});
afterAll(() => {
  world.restore();
  logs.restore();
});

const cells = APPS.flatMap((holder) => APPS.flatMap((target) => target.requests.map((request) => ({ holder: holder.app, target: target.app, ...request, own: holder === target }))));

describe('cross-app misuse matrix', () => {
  it('covers at least three apps, distinct audiences and a shared audience', () => {
    expect(new Set(APPS.map((a) => a.app)).size).toBeGreaterThanOrEqual(3);
    expect(APPS.filter((a) => a.audience === SHARED).length).toBeGreaterThanOrEqual(2);
    expect(new Set(APPS.map((a) => a.audience)).size).toBeGreaterThanOrEqual(3);
  });

  it.each(cells)('a $holder token on $method $url ($target) -> $own', async ({ holder, target, method, url, own }) => {
    const response = await send(gateway, new Request(url, { method, headers: bearer(tokens[holder]!) }));
    const record = logs.last();
    if (own) {
      expect(response.status).toBe(200);
      expect(record).toMatchObject({ outcome: 'allowed', app: holder, findings: [] });
      return;
    }
    expect(response.status).toBe(401);
    const codes = record.findings.map((f) => f.code);
    // The signature verified: the refusal is about whom the token is for, nothing else.
    expect(record.key_layer).not.toBeNull();
    expect(codes.length).toBeGreaterThan(0);
    expect(codes.every((c) => c === 'app_mismatch' || c === 'audience_mismatch')).toBe(true);
    expect(codes).toContain('app_mismatch');
    const sameAudience = APPS.find((a) => a.app === holder)!.audience === APPS.find((a) => a.app === target)!.audience;
    expect(codes.includes('audience_mismatch')).toBe(!sameAudience);
  });
});
