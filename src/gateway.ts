/**
 * The request's path through the gateway, top to bottom:
 *   route -> sanitize -> token -> issuer & algorithm -> key -> signature -> claims -> decide -> forward -> log
 * This is the only place where the stages meet. Each stage is a pure function of its inputs (the clock
 * included) except key resolution and forwarding, which do the I/O.
 */
import { KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS } from './config/constants.ts';
import type { CompiledConfig, CompiledIssuer, CompiledRoute } from './config/types.ts';
import type { Env } from './env.ts';
import { answerFor, finding, type Finding } from './findings.ts';
import { identityHeaders } from './forward/identity-headers.ts';
import { badGateway, forwardToOrigin, originUrl } from './forward/origin.ts';
import { sanitizeRequestHeaders } from './forward/sanitize.ts';
import { KeyStore } from './keys/key-store.ts';
import { addDebugFindings } from './log/debug-header.ts';
import { newRecord, recordEvidence, type VerificationRecord } from './log/record.ts';
import { writeRecord, type LogFormat, type LogSink } from './log/write.ts';
import { admit, decide } from './route/mode.ts';
import { RouteTable } from './route/route-table.ts';
import { authenticate } from './verify/authenticate.ts';
import type { Claims } from './verify/claims.ts';
import { TokenCache, type TokenCacheLimits } from './verify/token-cache.ts';

export interface GatewayOptions {
  /** Local development only: lets issuers on 127.0.0.1 serve their JWKS over plain http. */
  allowLoopbackHttp: boolean;
  /** "line" prints one readable line per decision (npm start); the default "json" is what Workers Logs indexes. */
  logFormat?: LogFormat;
  /** Local development only: finding codes of denied requests in an x-debug-findings header (src/log/debug-header.ts). */
  debugFindings?: boolean;
  /** Bounds of the verified-token cache (constants.ts by default); maxEntries 0 turns it off (the benchmark compares). */
  tokenCacheLimits?: TokenCacheLimits;
}

export class Gateway {
  readonly #config: CompiledConfig;
  readonly #routes: RouteTable;
  readonly #keys: KeyStore;
  readonly #options: GatewayOptions;
  readonly #tokenCache: TokenCache;

  constructor(config: CompiledConfig, options: GatewayOptions) {
    this.#config = config;
    this.#options = options;
    this.#routes = new RouteTable(config.routes);
    this.#keys = new KeyStore({ allowLoopbackHttp: options.allowLoopbackHttp });
    this.#tokenCache = new TokenCache(options.tokenCacheLimits);
  }

  /** env and ctx carry the bindings and waitUntil that key caching, signing and logging need. */
  async handle(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const started = Date.now();
    const now = Math.floor(started / 1000);
    const url = new URL(request.url);
    const requestId = request.headers.get('cf-ray') ?? crypto.randomUUID();
    const record = newRecord(request, url, requestId, started);
    let response: Response;
    try {
      response = await this.#process(request, url, requestId, now, record, env);
    } catch (error) {
      // A bug of ours, never the client's input: fail closed, say nothing of it to the client.
      record.outcome = 'error';
      record.error = `internal: ${error instanceof Error ? error.name : 'unknown'}`;
      response = new Response(JSON.stringify({ error: 'server_error', request_id: requestId }), {
        status: 500,
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      });
    }
    record.status = response.status;
    record.latency_ms = Date.now() - started;
    if (this.#options.debugFindings) addDebugFindings(response, record, url);
    // Written after the answer is on its way: hashing and logging add nothing to the client's wait.
    ctx.waitUntil(writeRecord(record, this.#logSink(env)));
    return response;
  }

  async #process(request: Request, url: URL, requestId: string, now: number, record: VerificationRecord, env: Env): Promise<Response> {
    const route = this.#routes.match(request.method, url.hostname, url.pathname);
    if (!route) return this.#deny(record, [finding('route_not_found')], null, requestId);
    record.route = route.id;
    record.policy = route.file;
    record.mode = route.mode;

    const headers = sanitizeRequestHeaders(request.headers, {
      identityHeaderPrefix: this.#config.settings.identityHeaderPrefix,
      forwardAuthorization: route.forwardAuthorization,
    });

    let verified: { claims: Claims; issuer: CompiledIssuer } | null = null;
    const admission = admit(route, request.method, request.headers);
    if (admission !== 'authenticate') {
      record.outcome = admission;
    } else {
      const authentication = await authenticate({ headers: request.headers, route, config: this.#config, keys: this.#keys, now, env, tokenCache: this.#tokenCache });
      recordEvidence(record, authentication.evidence);
      const decision = decide(route, authentication);
      if (decision.kind === 'deny') return this.#deny(record, decision.findings, route, requestId);
      record.outcome = decision.outcome;
      record.findings.push(...decision.findings);
      verified = decision.verified;
    }

    const prefix = this.#config.settings.identityHeaderPrefix;
    for (const [name, value] of identityHeaders(prefix, {
      routeId: route.id,
      requestId,
      verified: verified && { claims: verified.claims, appClaim: verified.issuer.appClaim },
    })) {
      headers.set(name, value);
    }
    const forwarded = await forwardToOrigin(request, originUrl(route.origin, url), headers);
    if (!forwarded.ok) {
      record.error = `origin unreachable: ${forwarded.reason}`;
      return badGateway(requestId);
    }
    record.origin_status = forwarded.response.status;
    return forwarded.response;
  }

  #logSink(env: Env): LogSink {
    return { format: this.#options.logFormat ?? 'json', subject: this.#config.settings.logSubject ?? 'plain', analytics: env.GATEWAY_ANALYTICS };
  }

  #deny(record: VerificationRecord, findings: Finding[], route: CompiledRoute | null, requestId: string): Response {
    record.outcome = 'denied';
    record.findings.push(...findings);
    return answerFor(findings, {
      realm: this.#config.settings.realm,
      requestId,
      requiredScopes: route?.scopes ?? [],
      retryAfterSeconds: KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS,
    });
  }
}
