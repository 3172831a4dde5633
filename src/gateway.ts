/**
 * The request's path through the gateway, top to bottom:
 *   canonical -> route -> token -> issuer & algorithm -> key -> signature -> claims -> decide -> origin by claim
 *   -> rate limit -> sanitize -> forward -> log
 * (canonical = the one spelling of the request that is matched, forwarded and signed; forward = origin,
 * identity headers and the signed assertion; the gateway's own key set is answered before route matching).
 * The admin endpoint of the emergency controls (docs/control.md), when configured, is answered first of all.
 * This is the only place where the stages meet. Each stage is a pure function of its inputs (the clock
 * included) except key resolution and forwarding, which do the I/O. src/warm.ts sends one synthetic request
 * through handle() when the isolate loads, so a new stage here is warmed with nothing to add there.
 */
import { KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS } from './config/constants.ts';
import type { CompiledConfig, CompiledIssuer, CompiledRoute } from './config/types.ts';
import { adminPath, handleAdmin, isAdminRequest } from './control/admin.ts';
import { DenyListSync } from './control/deny-list-sync.ts';
import type { Env } from './env.ts';
import { answerFor, finding, gatewayFailure, type Finding } from './findings.ts';
import { gatewayJwks, isGatewayJwksRequest } from './forward/gateway-jwks.ts';
import { newAssertionCache, type AssertionCache } from './forward/assertion-cache.ts';
import { identityFor } from './forward/identity.ts';
import { forwardToOrigin, resolveOrigin } from './forward/origin.ts';
import { requestIdOf } from './forward/request-id.ts';
import { compileStripList, preflightHeaders, sanitizeRequestHeaders, type StripList } from './forward/sanitize.ts';
import { answerHandshake } from './forward/websocket.ts';
import { KeyStore, type RefreshReport } from './keys/key-store.ts';
import { addDebugFindings } from './log/debug-header.ts';
import { warn } from './log/warn.ts';
import { sha256Prefix } from './log/digest.ts';
import { newRecord, recordEvidence, type VerificationRecord } from './log/record.ts';
import { hashSubject, recordNeedsHash, recordWanted, writeRecord, type LogFormat, type LogSink } from './log/write.ts';
import { admit, decide } from './route/mode.ts';
import { canonicalRequest, queryNamesOf, queryTokenFor, queryTokenNames, type CanonicalRequest } from './request/canonical.ts';
import { answerPreflight, applyCors } from './route/cors.ts';
import { checkRateLimit } from './route/rate-limit.ts';
import { chooseOrigin } from './route/origin-choice.ts';
import { checkFormBody } from './request/form-body.ts';
import { RouteResolver } from './route/resolve.ts';
import { sourceLabel } from './token/sources.ts';
import { authenticate } from './verify/authenticate.ts';
import type { BoundedMapLimits } from './verify/bounded-map.ts';
import type { PathVariables } from './verify/claim-rules.ts';
import type { Claims } from './verify/claims.ts';
import { TenantDirectory } from './verify/tenant-directory.ts';
import { TokenCache, type TokenCacheLimits } from './verify/token-cache.ts';

export interface GatewayOptions {
  /** Local development only: lets issuers on 127.0.0.1 serve their JWKS over plain http. */
  allowLoopbackHttp: boolean;
  /** "line" prints one readable line per decision (npm start); the default "json" is what Workers Logs indexes. */
  logFormat?: LogFormat;
  /** Local development only: finding codes of denied requests in an x-debug-findings header (src/log/debug-header.ts). */
  debugFindings?: boolean;
  /**
   * How long a request waits for a peer's key load, and for its own look when that is a probe (a stale set to
   * serve, or the issuer known down): KEY_PEER_WAIT_MS. Only tests set it (to tell a wait by order); index.ts never does.
   */
  peerWaitMs?: number;
  /** The clock in milliseconds (tests move it to exercise key expiry and rotation). Default Date.now. */
  now?: () => number;
  /** Bounds of the verified-token cache (constants.ts by default); maxEntries 0 turns it off (the benchmark compares). */
  tokenCacheLimits?: TokenCacheLimits;
  /** Bounds of the reused assertions (constants.ts by default); maxEntries 0 turns reuse off. */
  assertionCacheLimits?: BoundedMapLimits;
  /** Issuer ids whose tokens are served when the deny list cannot be had (env DENY_LIST_FAIL_OPEN); all others fail closed. */
  denyListFailOpen?: ReadonlySet<string>;
}

/** The bearer token a request carried, kept beside the record (never in it) for the log writer to fingerprint. */
interface SeenToken {
  token: string | null;
}

type Verified = { claims: Claims; issuer: CompiledIssuer };
type OriginChoice = Extract<ReturnType<typeof chooseOrigin>, { ok: true }>;

/** What every step after route matching needs about the request. */
interface Step {
  request: Request;
  route: CompiledRoute;
  requestId: string;
  record: VerificationRecord;
  env: Env;
  /** The request's clock in seconds, read once: every check and the assertion see the same instant. */
  now: number;
}

interface AuthorizeInput {
  clockMs: number;
  /** The judged query, as sent (a query token source reads it). */
  search: string;
  pathVariables: PathVariables | undefined;
  seen: SeenToken;
  ctx: ExecutionContext;
}

interface ForwardInput {
  url: URL;
  judged: CanonicalRequest;
  verified: Verified | null;
  /** The token's text when a minted assertion may be kept for its reuse (a token-cache hit), else null. */
  token: string | null;
  origin: OriginChoice | null;
  preflight: boolean;
  formBody: BodyInit | null | undefined;
}

export class Gateway {
  readonly #config: CompiledConfig;
  readonly #routes: RouteResolver;
  readonly #strip: StripList;
  readonly #keys: KeyStore;
  readonly #options: GatewayOptions;
  readonly #clock: () => number;
  readonly #tokenCache: TokenCache;
  readonly #assertions: AssertionCache;
  /** Refused query names some route reads its token from (an opt-in, unsafe): empty for nearly every policy. */
  readonly #queryTokens: ReadonlySet<string>;
  readonly #denyList: DenyListSync;
  readonly #issuerIds: ReadonlySet<string>;
  /** Only when some issuer is multi-tenant: every other policy's requests allocate nothing for it. */
  readonly #tenants: TenantDirectory | null;

  constructor(config: CompiledConfig, options: GatewayOptions) {
    this.#config = config;
    this.#options = options;
    this.#routes = new RouteResolver(config.routes);
    this.#strip = compileStripList(config.settings.stripHeaders);
    this.#keys = new KeyStore(options);
    this.#tokenCache = new TokenCache(options.tokenCacheLimits);
    this.#assertions = newAssertionCache(options.assertionCacheLimits);
    this.#clock = options.now ?? Date.now;
    this.#queryTokens = queryTokenNames(config.routes);
    // A distrusted issuer's keys are dropped from this isolate when the deny list says so.
    this.#denyList = new DenyListSync(options.denyListFailOpen ?? new Set(), (issuerId) => this.#keys.distrust(issuerId));
    this.#issuerIds = new Set(Object.keys(config.issuers));
    this.#tenants = Object.values(config.issuers).some((issuer) => issuer.tenancy) ? new TenantDirectory() : null;
  }

  /** The scheduled refresh: every fetched issuer's keys into memory, KV and the Cache API. */
  refreshKeys(env: Env, ctx: ExecutionContext): Promise<RefreshReport[]> {
    return this.#keys.refreshAll(Object.values(this.#config.issuers), env, ctx, Math.floor(this.#clock() / 1000));
  }

  /** env and ctx carry the bindings and waitUntil that key caching, signing and logging need. */
  async handle(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const started = Date.now();
    const clockMs = this.#clock();
    const url = new URL(request.url);
    const requestId = requestIdOf(request.headers, this.#config.settings.requestIdHeader);
    const record = newRecord(request, url, requestId, started);
    const seen: SeenToken = { token: null };
    let response: Response;
    try {
      response = await this.#process(request, url, requestId, clockMs, record, seen, env, ctx);
    } catch (error) {
      // A bug of ours, never the client's input: fail closed, say nothing of it to the client.
      record.outcome = 'error';
      record.error = `internal: ${error instanceof Error ? error.name : 'unknown'}`;
      response = gatewayFailure(500, requestId);
    }
    record.status = response.status;
    record.latency_ms = Date.now() - started;
    if (this.#options.debugFindings) addDebugFindings(response, record, url);
    const sink = this.#logSink(env);
    // The record is written before the answer leaves, not in a waitUntil task: a task and its promises cost
    // more CPU than the two digests a record may still need (~7 us each: a token seen for the first time, a
    // hashed subject), and a cache hit needs none. A record left out (settings.log_allowed) costs no hash
    // and no log line: only its Analytics Engine count.
    // A digest that fails costs the record that field, never the answer or the record: the subject is then
    // left out, never shown plain against log_subject "hashed".
    const written = recordWanted(record, sink);
    if (written && seen.token !== null && record.token_fp === null) {
      // Once per token: the cache keeps it for the token's later hits.
      record.token_fp = await sha256Prefix(seen.token).catch(() => null);
      if (record.token_fp !== null) this.#tokenCache.noteFingerprint(seen.token, record.token_fp);
    }
    if (written && recordNeedsHash(record, sink)) await hashSubject(record);
    try {
      writeRecord(record, sink, written);
    } catch (error) {
      // Pure code that should never throw; if it ever does, the client still gets its answer.
      warn('record_write_failed', { reason: error instanceof Error ? error.name : 'unknown' });
    }
    return response;
  }

  async #process(request: Request, url: URL, requestId: string, clockMs: number, record: VerificationRecord, seen: SeenToken, env: Env, ctx: ExecutionContext): Promise<Response> {
    const admin = adminPath(env);
    if (isAdminRequest(admin, url)) {
      record.route = '(admin)';
      record.outcome = 'public';
      const { response, note } = await handleAdmin(request, url, admin, env, this.#issuerIds, Math.floor(clockMs / 1000));
      if (response.status >= 400) record.error = note;
      return response;
    }
    const { assertion } = this.#config.settings;
    if (assertion && isGatewayJwksRequest(assertion, request.method, url)) {
      record.outcome = 'public';
      const jwks = await gatewayJwks(assertion, env);
      return jwks.ok ? jwks.response : this.#failure(record, 500, jwks.reason, requestId);
    }
    const canonical = canonicalRequest(request.method, url, this.#queryTokens);
    if (!canonical.ok) return this.#deny(record, [canonical.finding], null, requestId);
    record.path = canonical.request.path;
    const pendingForm = checkFormBody(request);
    const form = pendingForm instanceof Promise ? await pendingForm : pendingForm;
    if (!form.ok) return this.#deny(record, [form.finding], null, requestId);
    const resolution = this.#routes.resolve(canonical.request);
    if (!resolution.ok) return this.#deny(record, [resolution.finding], null, requestId);
    const { route, pathVariables } = resolution;
    record.route = route.id;
    record.policy = route.file;
    record.mode = route.mode;
    if (pathVariables) record.path_variables = pathVariables;
    let judged = canonical.request;
    if (this.#queryTokens.size > 0 || route.tokenSources !== undefined) {
      // The origin and the assertion get the query without the token parameter; the token stage reads it as sent.
      const query = queryTokenFor(judged, queryNamesOf(route.tokenSources));
      if (!query.ok) return this.#deny(record, [query.finding], route, requestId);
      judged = query.request;
    }
    const admission = admit(route, judged.method, request.headers);
    if (admission === 'answer_preflight') {
      record.outcome = 'preflight';
      return answerPreflight(route.cors!, request.headers);
    }
    const step = { request, route, requestId, record, env, now: Math.floor(clockMs / 1000) };
    let verified: Verified | null = null;
    if (admission !== 'authenticate') {
      record.outcome = admission;
    } else {
      const authorized = await this.#authorize(step, { clockMs, search: canonical.request.search, pathVariables, seen, ctx });
      if (authorized instanceof Response) return authorized;
      verified = authorized;
    }
    const origin = await this.#originFor(step, verified);
    if (origin instanceof Response) return origin;
    // An assertion is kept for reuse (by the token's text) only once this isolate has verified the token before:
    // a token seen once, as every distinct token is, would pay for keeping what nothing reuses (docs/origin.md).
    const reusable = record.token_cache === 'hit' ? seen.token : null;
    return this.#forward(step, { url, judged, verified, token: reusable, origin, preflight: admission === 'preflight', formBody: form.body });
  }

  /** Token -> keys -> verify -> decide: the verified identity, or the answer that stops the request. */
  async #authorize({ request, route, requestId, record, env, now }: Step, { clockMs, search, pathVariables, seen, ctx }: AuthorizeInput): Promise<Verified | null | Response> {
    // The deny list from memory: a promise only when this isolate's copy is older than its bound (docs/control.md).
    const pendingRevocations = this.#denyList.view(env, ctx, clockMs);
    const revocations = pendingRevocations instanceof Promise ? await pendingRevocations : pendingRevocations;
    const keys = this.#keys.forRequest(env, ctx);
    const tenants = this.#tenants?.forRequest(env.GATEWAY_TENANTS, (work) => ctx.waitUntil(work), clockMs);
    const authentication = await authenticate({ headers: request.headers, route, config: this.#config, keys, now, env, tokenCache: this.#tokenCache, method: request.method, search, revocations, pathVariables, tenants });
    recordEvidence(record, authentication.evidence);
    if (authentication.source) record.token_source = sourceLabel(authentication.source);
    seen.token = authentication.token ?? null;
    const decision = decide(route, authentication);
    if (decision.kind === 'deny') return this.#deny(record, decision.findings, route, requestId, request.headers);
    record.outcome = decision.outcome;
    record.findings.push(...decision.findings);
    return decision.verified;
  }

  /** Origin by claim, then the rate limit: where the request goes, or the answer that stops it. */
  async #originFor({ request, route, requestId, record, env }: Step, verified: Verified | null): Promise<OriginChoice | null | Response> {
    // The origin of a route with origin_by_claim is the one its verified claim picks; the assertion binds its host.
    const choice = route.forward.originByClaim ? chooseOrigin(route, verified?.claims ?? null) : null;
    if (choice && !choice.ok) return this.#deny(record, [choice.finding], route, requestId, request.headers);
    if (choice?.key) record.origin_choice = choice.key;
    // Budgets are spent by verified identities only: an anonymous or refused request never reaches here with one.
    if (route.rateLimit && verified) {
      const verdict = await checkRateLimit(route.id, route.rateLimit, verified.claims, env);
      if (verdict === 'no_binding') return this.#failure(record, 500, `rate limit binding ${route.rateLimit.binding} is not configured`, requestId);
      const limited = verdict === 'over' ? [finding('rate_limited', { detail: route.rateLimit.binding })] : [];
      if (limited.length > 0 && route.rateLimit.mode === 'enforce') return this.#deny(record, limited, route, requestId, request.headers);
      record.findings.push(...limited);
    }
    return choice;
  }

  /** Sanitized headers + identity headers and the assertion -> the origin, with the canonical path and query. */
  async #forward({ request, route, requestId, record, env, now }: Step, { url, judged, verified, token, origin, preflight, formBody }: ForwardInput): Promise<Response> {
    const { assertion, identityHeaderPrefix: prefix } = this.#config.settings;
    // Copied only for a request that goes on: a denied one costs no header copy. A preflight let through
    // without a token goes bare: it carries nothing the origin could act on as the client's.
    const headers = preflight
      ? preflightHeaders(request.headers)
      : sanitizeRequestHeaders(request.headers, { identityHeaderPrefix: prefix, forwardAuthorization: route.forwardAuthorization, assertionHeader: assertion?.header, strip: this.#strip, tokenSources: route.tokenSources });
    const resolved = resolveOrigin(origin ? origin.target : route.forward.origin, judged, url, env);
    if (!resolved.ok) return this.#failure(record, 502, resolved.reason, requestId);
    const target = { method: judged.method, host: resolved.origin.url.host, path: resolved.origin.url.pathname, query: resolved.origin.url.search };
    const identity = await identityFor({ route, prefix, assertion, requestId, verified, token, target, assertions: this.#assertions, env, now });
    if (!identity.ok) return this.#failure(record, 500, identity.reason, requestId);
    record.assertion = identity.assertion;
    for (const [name, value] of identity.headers) headers.set(name, value);
    // The origin gets no header for a value over the cap (a cut value would read as another valid value); the log says which.
    if (identity.omitted.length > 0) record.omitted_headers = identity.omitted;
    const forwarded = await forwardToOrigin(request, judged.method, resolved.origin, headers, route.forward.timeoutMs, preflight ? null : (formBody ?? request.body));
    if (!forwarded.ok) return this.#failure(record, forwarded.kind === 'timeout' ? 504 : 502, `origin ${forwarded.kind}: ${forwarded.reason}`, requestId);
    record.origin_status = forwarded.response.status;
    // A WebSocket authenticated by its subprotocol: the browser needs a protocol it offered in the 101.
    return route.tokenSources?.some((source) => source.kind === 'websocket_protocol') ? answerHandshake(forwarded.response, request.headers.get('sec-websocket-protocol')) : forwarded.response;
  }

  /** The gateway could not hand the request on; the reason is for the log only. */
  #failure(record: VerificationRecord, status: 500 | 502 | 504, reason: string, requestId: string): Response {
    record.error = reason;
    return gatewayFailure(status, requestId);
  }

  #logSink(env: Env): LogSink {
    const { logSubject, logAllowed } = this.#config.settings;
    return { format: this.#options.logFormat ?? 'json', subject: logSubject ?? 'plain', analytics: env.GATEWAY_ANALYTICS, allowedRate: logAllowed };
  }

  /** `headers`: the request's, once a route is known, for the route's CORS on the answer. */
  #deny(record: VerificationRecord, findings: Finding[], route: CompiledRoute | null, requestId: string, headers?: Headers): Response {
    record.outcome = 'denied';
    record.findings.push(...findings);
    const answer = answerFor(findings, {
      realm: this.#config.settings.realm,
      requestId,
      requiredScopes: route?.scopes ?? [],
      retryAfterSeconds: KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS,
      ...(route?.rateLimit && { rateLimitRetryAfterSeconds: route.rateLimit.retryAfterSeconds }),
    });
    return route?.cors && headers ? applyCors(answer, route.cors, headers.get('origin')) : answer;
  }
}
