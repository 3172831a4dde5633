/**
 * Origin agreement (issue 17): for every spelling of a request, the gateway refuses it (4xx) or judges it by
 * a route at least as strict as the route whose handler each mainstream origin stack would run for the
 * path the gateway forwards. The property drives the real stages (canonicalRequest, RouteResolver,
 * resolveOrigin: the functions src/gateway.ts calls) over every route table in policies/ and
 * policies/examples/ and a few synthetic ones; the stacks are the models of origin-models.ts. A handful of
 * cases through the whole Worker show that the origin receives exactly the canonical path.
 * A long run: FUZZ_RUNS=20000 npx vitest run --project workerd test/security/origin-agreement.test.ts
 */
import { env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import fc from 'fast-check';
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { CompiledRoute } from '../../src/config/types.ts';
import { resolveOrigin } from '../../src/forward/origin.ts';
import { canonicalRequest } from '../../src/request/canonical.ts';
import { RouteResolver } from '../../src/route/resolve.ts';
import { RouteTable } from '../../src/route/route-table.ts';
import { atLeastAsStrict } from '../../src/route/strictness.ts';
import { sanitizeRequestHeaders } from '../../src/forward/sanitize.ts';
import { bearer } from '../helpers/gateway.ts';
import { demoClaims, jwksOf, makeKey, sign, type TestKey } from '../helpers/keys.ts';
import { OutsideWorld, useOutsideWorld } from '../helpers/outside-world.ts';
import { handlerOf, handlersFor, methodsRun, ORIGIN_MODELS } from './origin-models.ts';
import { spellings, type Spelling } from './origin-spellings.ts';
import { routeTableCases, type RouteTableCase } from './origin-tables.ts';

/** Cases per route table: cheap (no I/O, no crypto), so more than the token fuzz properties run. */
const RUNS = inject('fuzzRuns') || 1500;
vi.setConfig({ testTimeout: Math.max(30_000, RUNS * 10) });

const REFUSALS = new Set(['request_invalid', 'path_ambiguous', 'route_not_found']);
const serviceEnv = { ...env, TEST_ORIGIN_SERVICE: { fetch: () => new Response() } } as unknown as typeof env;

type Outcome = { kind: 'unparsable' } | { kind: 'refused'; code: string } | { kind: 'judged'; route: CompiledRoute; forwardedPath: string; disagreements: string[] };
/** What a gateway makes of a parsed request: a refusal's finding code, or the judging route and the URL the origin receives. */
type GatewayView = (method: string, url: URL, headers: Headers) => { code: string } | { route: CompiledRoute; forwarded: URL; forwardedHeaders: Headers };

/** The real stages, as src/gateway.ts runs them. */
function realStages(table: RouteTableCase): GatewayView {
  const resolver = new RouteResolver(table.config.routes);
  return (method, url, headers) => {
    const canonical = canonicalRequest(method, url);
    if (!canonical.ok) return { code: canonical.finding.code };
    const resolution = resolver.resolve(canonical.request);
    if (!resolution.ok) return { code: resolution.finding.code };
    const resolved = resolveOrigin(resolution.route.forward.origin, canonical.request, url, serviceEnv);
    if (!resolved.ok) throw new Error(resolved.reason);
    // The headers the origin receives: method overrides are stripped there (src/forward/sanitize.ts).
    const forwardedHeaders = sanitizeRequestHeaders(headers, { identityHeaderPrefix: table.config.settings.identityHeaderPrefix, forwardAuthorization: resolution.route.forwardAuthorization });
    return { route: resolution.route, forwarded: resolved.origin.url, forwardedHeaders };
  };
}

/** A gateway that matches and forwards the path as spelled (main before issue 17): the property must catch it. */
function asSpelled(table: RouteTableCase): GatewayView {
  const routes = new RouteTable(table.config.routes);
  return (method, url, headers) => {
    const route = routes.match(method, url.hostname, url.pathname);
    return route ? { route, forwarded: new URL(`https://origin.test${url.pathname}${url.search}`), forwardedHeaders: headers } : { code: 'route_not_found' };
  };
}

/** One spelling through a gateway, then every model's dispatch of what the origin receives. */
function judge(table: RouteTableCase, gateway: GatewayView, spelling: Spelling): Outcome {
  let url: URL;
  try {
    url = new URL(`https://${spelling.host}${spelling.target}`);
  } catch {
    return { kind: 'unparsable' }; // no client could send it: the runtime refuses it before the Worker
  }
  const headers = new Headers(spelling.headers);
  const seen = gateway(spelling.method, url, headers);
  if ('code' in seen) return { kind: 'refused', code: seen.code };
  const { route, forwarded, forwardedHeaders } = seen;
  const at = handlerOf(route).origin;
  const handlers = table.config.routes.map(handlerOf).filter((h) => h.origin === at);
  const disagreements: string[] = [];
  for (const model of ORIGIN_MODELS) {
    const dispatch = model.dispatch(forwarded.pathname);
    if (dispatch === null) continue; // the stack refuses the path itself
    for (const method of methodsRun(spelling.method, forwardedHeaders, forwarded.search)) {
      for (const served of handlersFor(handlers, model, dispatch, method)) {
        if (!atLeastAsStrict(route, served)) disagreements.push(`${model.name} runs ${method} ${dispatch.path} as route "${served.id}"`);
      }
    }
  }
  return { kind: 'judged', route, forwardedPath: forwarded.pathname, disagreements };
}

const agreement = (table: RouteTableCase, gateway: GatewayView, counts: Record<Outcome['kind'], number>) =>
  fc.property(spellings(table.config, table.hosts), (spelling) => {
    const outcome = judge(table, gateway, spelling);
    counts[outcome.kind]++;
    if (outcome.kind === 'refused') expect(REFUSALS, `${spelling.method} ${spelling.target}`).toContain(outcome.code);
    if (outcome.kind === 'judged' && outcome.disagreements.length > 0) {
      // A plain error: the whole story in the message, which expect() would cut short.
      throw new Error(`${spelling.method} ${spelling.host}${spelling.target} judged by "${outcome.route.id}", forwarded as ${outcome.forwardedPath}: ${outcome.disagreements.join('; ')}`);
    }
  });

/** The spellings of issue 17, run first on the demo policy whatever the generator draws. */
const ISSUE_SPELLINGS: Spelling[] = [
  ...['/billing/%61dmin/users', '/billing/ADMIN/users', '/billing/admin%2Fusers', '/billing//admin/users', '/billing/admin;x/users', '/public/..;/billing/admin/users'].map((target) => ({ method: 'GET', host: 'gw.example', target, headers: {} })),
  { method: 'HEAD', host: 'gw.example', target: '/billing/admin/users', headers: {} },
  { method: 'POST', host: 'gw.example', target: '/billing/x', headers: { 'x-http-method-override': 'DELETE' } },
  { method: 'GET', host: 'GW.EXAMPLE.', target: '/billing/admin/users/', headers: {} },
];

describe('origin agreement: every spelling is refused or judged at least as strictly as each origin stack dispatches it', () => {
  const tables = routeTableCases();

  it('covers every policy file and the synthetic tables', () => {
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['policies/demo.jsonc', 'policies/examples/multi-app.jsonc', 'policies/examples/modes.jsonc']));
    expect(tables.length).toBeGreaterThanOrEqual(10);
  });

  it.each(tables.map((t) => [t.name, t] as const))('%s', (_name, table) => {
    const counts = { judged: 0, refused: 0, unparsable: 0 };
    const examples = table.name === 'policies/demo.jsonc' ? ISSUE_SPELLINGS.map((spelling): [Spelling] => [spelling]) : [];
    fc.assert(agreement(table, realStages(table), counts), { numRuns: RUNS, endOnFailure: true, examples });
    // Not vacuous: a good share of the spellings get through and are compared with every model.
    expect(counts.judged, JSON.stringify(counts)).toBeGreaterThan(RUNS / 10);
    expect(counts.refused, JSON.stringify(counts)).toBeGreaterThan(RUNS / 10);
  });

  it('catches a gateway that matches and forwards the path as spelled, on the demo policy', () => {
    const demo = tables.find((t) => t.name === 'policies/demo.jsonc')!;
    const result = fc.check(agreement(demo, asSpelled(demo), { judged: 0, refused: 0, unparsable: 0 }), { numRuns: RUNS });
    expect(result.failed).toBe(true);
    // Whichever spelling it finds first, it names the judging route and the stronger one a stack serves instead.
    expect(String(result.errorInstance)).toMatch(/judged by "[\w-]+", forwarded as \S+: .* runs [A-Z]+ \S+ as route "[\w-]+"/);
  });

  it('the models disagree with each other on the spellings of the issue (the oracle is not a copy of the gateway)', () => {
    const dispatched = (path: string) => Object.fromEntries(ORIGIN_MODELS.map((m) => [m.name, m.dispatch(path)?.path ?? 'refused']));
    expect(dispatched('/billing/%61dmin/users')).toMatchObject({ Express: '/billing/%61dmin/users', Hono: '/billing/admin/users', 'Flask/Werkzeug': '/billing/admin/users' });
    expect(dispatched('/billing/admin%2Fusers')).toMatchObject({ Hono: '/billing/admin%2Fusers', 'Go ServeMux': '/billing/admin/users', 'Spring/Tomcat': 'refused', 'ASP.NET Core': '/billing/admin%2Fusers' });
    expect(dispatched('/public/..;/billing/admin/users')).toMatchObject({ 'Spring/Tomcat': '/billing/admin/users', nginx: '/public/..;/billing/admin/users' });
    expect(dispatched('/billing//admin/users')).toMatchObject({ nginx: '/billing/admin/users', Express: '/billing//admin/users' });
    expect(ORIGIN_MODELS.find((m) => m.name === 'ASP.NET Core')!.dispatch('/billing/ADMIN/users')).toMatchObject({ caseInsensitive: true });
  });
});

// Through the whole Worker (src/index.ts with the compiled demo policy): the origin receives the canonical path.
const JWKS_URL = 'http://127.0.0.1:8788/.well-known/jwks.json';
let key: TestKey;
beforeAll(async () => {
  key = await makeKey('RS256', 'agreement-1');
});
const scene = useOutsideWorld(() => new OutsideWorld().serveJwks(JWKS_URL, jwksOf(key)).origin('127.0.0.1:8789'));
const billingToken = (scope = 'billing:read') => sign(key, demoClaims({ app_id: 'billing', scope }), { header: { typ: 'at+jwt' } });

describe('through the Worker: the origin receives exactly the canonical path the gateway judged', () => {
  it.each([
    ['/billing/%78/%7Eme', '/billing/x/~me'],
    ['/billing/a/./b/../c', '/billing/a/c'],
    ['/billing/a/%2e/b/%2E%2e/c', '/billing/a/c'],
    ['/billing/caf%c3%a9', '/billing/caf%C3%A9'],
    ['/billing/q%3fx%23y', '/billing/q%3Fx%23y'],
    ['/billing/X', '/billing/X'],
    ['/billing/x/', '/billing/x/'],
  ])('%s reaches the origin as %s, judged by route billing', async (spelled, canonical) => {
    const response = await exports.default.fetch(new Request(`http://gateway.test${spelled}?q=1`, { headers: bearer(await billingToken()) }));
    expect(response.status).toBe(200);
    expect(scene.world.lastOriginRequest().url).toBe(`http://127.0.0.1:8789${canonical}?q=1`);
    expect(scene.logs.last()).toMatchObject({ route: 'billing', outcome: 'allowed', path: canonical });
  });

  it.each([['/billing/%61dmin/users'], ['/billing/ADMIN/users'], ['/billing/admin/./users'], ['/billing/x/../admin/users'], ['/billing/Admin/users/']])(
    '%s is judged by billing-admin: 403 without billing:admin, and nothing reaches the origin',
    async (spelled) => {
      const response = await exports.default.fetch(new Request(`http://gateway.test${spelled}`, { headers: bearer(await billingToken()) }));
      expect(response.status).toBe(403);
      expect(scene.logs.last()).toMatchObject({ route: 'billing-admin', findings: [{ code: 'scope_insufficient' }] });
      expect(scene.world.originRequests).toHaveLength(0);
    },
  );
});
