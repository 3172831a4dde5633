/**
 * The gateway (src/index.ts in workerd, through Miniflare) in front of real origin frameworks as processes:
 * a Hono app on Node and a Flask app on Werkzeug (Debian's python3-flask; skipped, and saying so, without it).
 * Each app has an admin handler and normal ones for the routes of a demo-like policy. The spellings of
 * issue 17 and their variants, sent byte for byte, never run an admin-level handler for a token without
 * billing:admin. Each app is first shown to run its admin handler for the same spellings when asked directly:
 * what the gateway must keep from happening is real.
 * Fixed ports (this suite's range is 18900-18909): 18900 the gateway before Hono, 18901 the one before Flask;
 * the apps and the issuer's key set listen on ephemeral ports.
 */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flaskAvailable, FLASK_PYTHON, startFlaskOrigin } from './support/flask-origin.ts';
import { startHonoOrigin } from './support/hono-origin.ts';
import { MiniflareGateway } from './support/miniflare-gateway.ts';
import { rawRequest, type RawResponse } from './support/raw-http.ts';

process.env.WRANGLER_SEND_METRICS ??= 'false';
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';

/** Handlers whose route asks for billing:admin: none may run for the token below. */
const ADMIN_LEVEL = ['admin', 'export', 'delete'];

let issuer: string;
let jwksServer: Server;
let privateKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'frameworks-1', alg: 'RS256', use: 'sig' };
  jwksServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}`;
});
afterAll(() => jwksServer?.close());

/** The demo's routes, plus a GET-only and a DELETE route that ask for billing:admin (for HEAD and method override). */
const policyFor = (origin: string) => ({
  settings: { realm: 'frameworks', default_origin: origin },
  issuers: { demo: { issuer, jwks_uri: `${issuer}/.well-known/jwks.json`, algorithms: ['RS256'], app_claim: 'app_id', typ: 'at+jwt' } },
  routes: {
    billing: { path: '/billing/*', issuers: ['demo'], audiences: ['https://api.example.test'], app: 'billing' },
    'billing-admin': { path: '/billing/admin/*', issuers: ['demo'], audiences: ['https://api.example.test'], app: 'billing', scopes: ['billing:admin'] },
    'billing-export': { path: '/billing/export', methods: ['GET'], issuers: ['demo'], audiences: ['https://api.example.test'], app: 'billing', scopes: ['billing:admin'] },
    'billing-delete': { path: '/billing/*', methods: ['DELETE'], issuers: ['demo'], audiences: ['https://api.example.test'], app: 'billing', scopes: ['billing:admin'] },
    public: { path: '/public/*', mode: 'public' },
  },
});

const token = (scope: string) =>
  new SignJWT({ app_id: 'billing', scope, sub: 'user-1' })
    .setProtectedHeader({ alg: 'RS256', kid: 'frameworks-1', typ: 'at+jwt' })
    .setIssuer(issuer)
    .setAudience('https://api.example.test')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey);

interface Attempt {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** The gateway's answer: 403 (judged by the admin-level route), 400 (refused as ambiguous or invalid), 404 (a reading with no route). */
  status: 400 | 403 | 404;
}

const ATTEMPTS: Attempt[] = [
  { method: 'GET', path: '/billing/%61dmin/users', status: 403 },
  { method: 'GET', path: '/billing/ADMIN/users', status: 403 },
  { method: 'GET', path: '/Billing/Admin/users', status: 404 },
  { method: 'GET', path: '/billing/ad%6Din', status: 403 },
  { method: 'GET', path: '/billing/admin%2Fusers', status: 400 },
  { method: 'GET', path: '/billing/admin%2fusers', status: 400 },
  { method: 'GET', path: '/billing//admin/users', status: 400 },
  { method: 'GET', path: '/billing/admin;x/users', status: 400 },
  { method: 'GET', path: '/public/..;/billing/admin/users', status: 400 },
  { method: 'GET', path: '/public/%2e%2e/billing/admin/users', status: 403 },
  { method: 'GET', path: '/billing/x/../admin/users', status: 403 },
  { method: 'GET', path: '/billing/x/%2E%2E/admin/users', status: 403 },
  { method: 'GET', path: '/billing/%2561dmin/users', status: 400 },
  { method: 'GET', path: '/billing/admin%5Cusers', status: 400 },
  { method: 'GET', path: '/billing/admin%00/users', status: 400 },
  { method: 'HEAD', path: '/billing/export', status: 403 },
  { method: 'HEAD', path: '/billing/EXPORT', status: 403 },
  { method: 'POST', path: '/billing/invoices/1', headers: { 'x-http-method-override': 'DELETE' }, status: 400 },
  { method: 'POST', path: '/billing/invoices/1?_method=DELETE', status: 400 },
];

const handlerOf = (response: RawResponse) => response.headers['x-handler'] as string | undefined;

function frameworkSuite(gatewayPort: number, start: () => Promise<{ url: string; stop: () => Promise<void> }>) {
  let origin: { url: string; stop: () => Promise<void> };
  let gateway: MiniflareGateway;
  let weak: string;
  beforeAll(async () => {
    origin = await start();
    gateway = await MiniflareGateway.start({ port: gatewayPort, policy: policyFor(origin.url) });
    weak = await token('billing:read');
  });
  afterAll(async () => {
    await gateway?.stop();
    await origin?.stop();
  });
  const send = (attempt: Attempt, bearer: string) =>
    rawRequest(gateway.url, attempt.method, attempt.path, { authorization: `Bearer ${bearer}`, ...attempt.headers }, attempt.method === 'POST' ? '{}' : undefined);

  it('asked directly, the app runs its admin-level handlers for spellings of the issue (the danger is real)', async () => {
    const direct = async (attempt: Attempt) => handlerOf(await rawRequest(origin.url, attempt.method, attempt.path, attempt.headers, attempt.method === 'POST' ? '{}' : undefined));
    expect(await direct({ method: 'GET', path: '/billing/%61dmin/users', status: 403 })).toBe('admin');
    expect(await direct({ method: 'HEAD', path: '/billing/export', status: 403 })).toBe('export');
    expect(await direct({ method: 'POST', path: '/billing/invoices/1', headers: { 'x-http-method-override': 'DELETE' }, status: 400 })).toBe('delete');
    expect(await direct({ method: 'POST', path: '/billing/invoices/1?_method=DELETE', status: 400 })).toBe('delete');
  });

  it('through the gateway, a token with billing:admin reaches the admin handler with its identity', async () => {
    const response = await send({ method: 'GET', path: '/billing/admin/users', status: 403 }, await token('billing:read billing:admin'));
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ handler: 'admin', identity: { 'x-verified-route': 'billing-admin', 'x-verified-scope': 'billing:read billing:admin' } });
  });

  it('through the gateway, a token without billing:admin reaches the billing handler, under route billing', async () => {
    const response = await send({ method: 'GET', path: '/billing/invoices', status: 403 }, weak);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ handler: 'billing', identity: { 'x-verified-route': 'billing' } });
  });

  it.each(ATTEMPTS.map((a) => [`${a.method} ${a.path}${a.headers ? ` ${JSON.stringify(a.headers)}` : ''}`, a] as const))(
    '%s never runs an admin-level handler without billing:admin',
    async (_name, attempt) => {
      const response = await send(attempt, weak);
      expect(ADMIN_LEVEL).not.toContain(handlerOf(response));
      expect(response.status).toBe(attempt.status);
    },
  );

  it('an escaped ";" or "?" stays escaped: the app runs the billing handler, never the admin one', async () => {
    for (const path of ['/billing/admin%3Bx/users', '/billing/admin%3F/users']) {
      const response = await send({ method: 'GET', path, status: 403 }, weak);
      expect(response.status, path).toBe(200);
      expect(handlerOf(response), path).toBe('billing');
    }
  });
}

describe('Hono on Node behind the gateway', () => frameworkSuite(18900, startHonoOrigin));

const flask = flaskAvailable();
describe.skipIf(!flask)(
  flask ? `Flask (Werkzeug) behind the gateway, with ${FLASK_PYTHON}` : `Flask behind the gateway: skipped, ${FLASK_PYTHON} cannot import flask (apt-get install python3-flask)`,
  () => frameworkSuite(18901, startFlaskOrigin),
);
