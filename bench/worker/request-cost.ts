/**
 * Whole-request CPU inside one isolate, without the load generator: `n` requests through Gateway.handle
 * (token cache hit, and without the cache), next to `n` plain fetches of the same origin URL, which is what
 * the pass-through Worker does. The difference is what the gateway adds to a request, free of the HTTP
 * server, the Miniflare entry worker and the machine's noise that throughput figures carry.
 * `handle-nolog` runs the policy with settings.log_allowed 0 (no record of an allowed request), to show what
 * writing the record costs and what the setting buys. `handle-record-as-deployed` writes it with LOG_FORMAT=line:
 * one JSON.stringify, the serialization Cloudflare's runtime gives the logged object, where local workerd
 * formats the object with its util.inspect port (BENCHMARKS.md, "Measuring inside workerd").
 * With --breakdown, the forward path's own pieces on a plain fetch (`fetch-controller`, `fetch-signal`,
 * `fetch-set8`) and single stages (`stage-*`). Variants that measured alternatives decided against left in
 * session 20 (fetch-headers, fetch-manual, fetch-rewrap, fetch-timeout, fetch-timeout-relay): BENCHMARKS.md's
 * rows keep their figures and name the commit where this file still runs them.
 */
import { loadCompiledConfig } from '../../src/config/load.ts';
import type { Env } from '../../src/env.ts';
import { headerValue, identityHeaders } from '../../src/forward/identity-headers.ts';
import { resolveOrigin } from '../../src/forward/origin.ts';
import { sanitizeRequestHeaders } from '../../src/forward/sanitize.ts';
import { Gateway } from '../../src/gateway.ts';
import { mintAssertion } from '../../src/forward/assertion.ts';
import { signingSetup } from '../../src/forward/signing-keys.ts';
import { newRecord } from '../../src/log/record.ts';
import { writeRecord, type LogFormat } from '../../src/log/write.ts';
import { canonicalRequest } from '../../src/request/canonical.ts';
import { compileDenyList, revocationFinding, type DenyEntry } from '../../src/control/deny-list.ts';
import { RouteResolver } from '../../src/route/resolve.ts';
import { fillAsHit } from './hit-record.ts';

export interface RequestCostFixture {
  /** A URL of the bench config's /rsa/* route, as the gateway receives it, and a token that route accepts. */
  path: string;
  token: string;
  /** A token of the same route with a bad signature (refused 401): replayed, with and without the token cache. */
  rejected: string;
  origin: string;
  /** The same policy with 1,000 filler routes, and the path of each policy's last filler route: 10 vs 1,000 routes in one isolate. */
  config1000: unknown;
  lastRoute10: string;
  lastRoute1000: string;
}

const gateways = new Map<string, Gateway>();

interface GatewayVariant {
  cache?: boolean;
  /** Which policy: the bench config (10 routes) or config1000. */
  name?: string;
  logAllowed?: number;
  logFormat?: LogFormat;
}

function gatewayFor(config: unknown, { cache = true, name = 'routes-10', logAllowed, logFormat = 'json' }: GatewayVariant = {}): Gateway {
  const id = `${name}-${cache ? 'cache' : 'nocache'}-${logAllowed ?? 'all'}-${logFormat}`;
  let gateway = gateways.get(id);
  if (!gateway) {
    const compiled = loadCompiledConfig(config);
    const settings = logAllowed === undefined ? compiled.settings : { ...compiled.settings, logAllowed };
    gateway = new Gateway({ ...compiled, settings }, { allowLoopbackHttp: true, logFormat, ...(cache ? {} : { tokenCacheLimits: { maxEntries: 0, maxTokenBytes: 0 } }) });
    gateways.set(id, gateway);
  }
  return gateway;
}

export async function runRequestCost(config: unknown, fixture: RequestCostFixture, query: URLSearchParams, env: Env, ctx: ExecutionContext) {
  const variant = query.get('variant') ?? 'fetch';
  const n = Math.min(Number(query.get('n') ?? '100'), 10_000);
  const headers = { authorization: `Bearer ${fixture.token}`, accept: 'application/json', 'user-agent': 'bench/1.0', 'x-client': 'bench' };
  const request = () => new Request(`https://gateway.example${fixture.path}`, { headers });
  let run: () => Promise<Response>;
  const target = fixture.origin + fixture.path;
  if (variant === 'fetch') run = () => fetch(target, request());
  else if (variant === 'fetch-signal') run = async () => {
    // The origin timer as src/forward/origin.ts arms it: the fetch's own AbortController and a setTimeout cleared when it settles.
    const r = request();
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 30000);
    try { return await fetch(target, { method: r.method, headers: new Headers(r.headers), redirect: 'manual', signal: abort.signal }); } finally { clearTimeout(timer); }
  };
  // The fetch's own AbortController alone, no timer: fetch-signal less this is the timer's share.
  else if (variant === 'fetch-controller') run = () => { const r = request(); return fetch(target, { method: r.method, headers: new Headers(r.headers), redirect: 'manual', signal: new AbortController().signal }); };
  else if (variant === 'fetch-set8') {
    // Seven short headers and a 700-character assertion set on the copy, as the gateway adds its identity headers.
    const added: [string, string][] = Array.from({ length: 7 }, (_, i) => [`x-verified-h${i}`, 'v'.repeat(30)]);
    added.push(['x-verified-assertion', 'v'.repeat(700)]);
    run = () => {
      const r = request();
      const h = new Headers(r.headers);
      for (const [name, value] of added) h.set(name, value);
      return fetch(target, { method: r.method, headers: h });
    };
  }
  else if (variant === 'handle') run = () => gatewayFor(config).handle(request(), env, ctx);
  else if (variant === 'handle-record-as-deployed') run = () => gatewayFor(config, { logFormat: 'line' }).handle(request(), env, ctx);
  else if (variant === 'handle-nolog') run = () => gatewayFor(config, { logAllowed: 0 }).handle(request(), env, ctx);
  else if (variant === 'handle-nocache') run = () => gatewayFor(config, { cache: false }).handle(request(), env, ctx);
  else if (variant === 'handle-rejected' || variant === 'handle-rejected-nocache') {
    const bad = { ...headers, authorization: `Bearer ${fixture.rejected}` };
    run = () => gatewayFor(config, { cache: variant === 'handle-rejected' }).handle(new Request(`https://gateway.example${fixture.path}`, { headers: bad }), env, ctx);
  }
  else if (variant === 'handle-routes-10') run = () => gatewayFor(config).handle(new Request(`https://gateway.example${fixture.lastRoute10}`, { headers }), env, ctx);
  else if (variant === 'handle-routes-1000') run = () => gatewayFor(fixture.config1000, { name: 'routes-1000' }).handle(new Request(`https://gateway.example${fixture.lastRoute1000}`, { headers }), env, ctx);
  else {
    const stage = stageOf(variant, loadCompiledConfig(config), request(), fixture, env);
    run = async () => {
      await stage();
      return EMPTY;
    };
  }
  const statuses = new Set<number>();
  for (let i = 0; i < n; i++) {
    const response = await run();
    await response.arrayBuffer();
    statuses.add(response.status);
  }
  return { n, statuses: [...statuses] };
}

const EMPTY = new Response(null);
const SIGN_INPUT = new TextEncoder().encode('x'.repeat(900));

/** One stage of the request path outside verification, alone, to see where the gateway's own time goes. */
function stageOf(variant: string, config: ReturnType<typeof loadCompiledConfig>, request: Request, fixture: RequestCostFixture, env: Env): () => unknown {
  const routes = new RouteResolver(config.routes);
  const url = new URL(request.url);
  const canonical = canonicalRequest('GET', url);
  if (!canonical.ok) throw new Error(canonical.finding.code);
  const resolution = routes.resolve(canonical.request);
  if (!resolution.ok) throw new Error(resolution.finding.code);
  const { route } = resolution;
  const prefix = config.settings.identityHeaderPrefix;
  const claims = { iss: 'https://rsa.bench.example', sub: 'bench-user', app_id: 'bench', scope: 'read write', exp: 2_000_000_000 };
  switch (variant) {
    case 'stage-mint':
      return async () => {
        const keys = await signingSetup(config.settings.assertion!, env);
        if (!keys.ok) throw new Error(keys.reason);
        return mintAssertion({ settings: config.settings.assertion!, audience: 'bench', subject: 'bench-user', requestId: 'a'.repeat(36), request: { method: 'GET', host: 'o.example', path: '/rsa/x', query: '' }, tokenExp: claims.exp, identityHeaders: [['x-verified-sub', 'bench-user'], ['x-verified-iss', claims.iss], ['x-verified-app', 'bench'], ['x-verified-scope', 'read write'], ['x-verified-exp', '2000000000'], ['x-verified-route', 'rsa'], ['x-verified-request-id', 'a'.repeat(36)]], identity: { idp: claims.iss, app: 'bench', scope: 'read write', token_exp: 2e9, route: 'rsa' }, now: 1_800_000_000 }, keys.setup.signer);
      };
    case 'stage-sign-raw':
      return async () => {
        const keys = await signingSetup(config.settings.assertion!, env);
        if (!keys.ok) throw new Error(keys.reason);
        return crypto.subtle.sign('Ed25519', keys.setup.signer.key, SIGN_INPUT);
      };
    case 'stage-noop':
      return () => undefined;
    case 'stage-url':
      return () => new URL(request.url);
    case 'stage-origin':
      return () => resolveOrigin(route.forward.origin, canonical.request, url, env);
    case 'stage-canonical':
      return () => canonicalRequest('GET', url);
    case 'stage-route':
      return () => routes.resolve(canonical.request);
    case 'stage-sanitize':
      return () => sanitizeRequestHeaders(request.headers, { identityHeaderPrefix: prefix, forwardAuthorization: false });
    case 'stage-identity':
      return () => {
        const headers = new Headers();
        for (const [name, value] of identityHeaders(prefix, { routeId: route.id, requestId: 'a'.repeat(36), verified: { claims, appClaim: ['app_id'] } }).headers) headers.set(name, value);
        return headers;
      };
    case 'stage-headersafe':
      return () => [claims.sub, claims.iss, claims.app_id, claims.scope, String(claims.exp), route.id].map(headerValue);
    case 'stage-log-hit':
      return () => writeRecord(fillAsHit(newRecord(request, url, 'id', Date.now()), 200, 0), { format: 'json', subject: 'plain', analytics: undefined }, true);
    case 'stage-log-hit-json':
      return () => console.log(JSON.stringify(fillAsHit(newRecord(request, url, 'id', Date.now()), 200, 0)));
    // issue 24: the deny-list check every accepted token passes (docs/control.md), empty and with 1,000 entries of every kind, none matching.
    case 'stage-deny-empty': {
      const revocations = { list: compileDenyList([], 0), current: true, failOpen: new Set<string>() };
      const token = { issuerId: 'rsa', kid: 'k1', claims: { ...claims, jti: 'jti-not-listed', iat: 1 }, app: 'bench', now: 1_800_000_000 };
      return () => revocationFinding(revocations, token);
    }
    case 'stage-deny': {
      const kinds = ['jti', 'sub', 'kid', 'issuer'] as const;
      const entries: DenyEntry[] = Array.from({ length: 1000 }, (_, i) => ({ id: `e${i}`, kind: kinds[i % 4]!, value: `v${i}`, expiresAt: 2e9, createdAt: 0, by: 'bench' }));
      const revocations = { list: compileDenyList(entries, 1), current: true, failOpen: new Set<string>() };
      const token = { issuerId: 'rsa', kid: 'k1', claims: { ...claims, jti: 'jti-not-listed', iat: 1 }, app: 'bench', now: 1_800_000_000 };
      return () => revocationFinding(revocations, token);
    }
    default:
      throw new Error(`unknown variant ${variant} (${fixture.path})`);
  }
}

