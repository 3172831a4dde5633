/**
 * The request's path through the gateway, top to bottom:
 *   route -> sanitize -> token -> issuer & algorithm -> key -> signature -> claims -> decide -> forward -> log
 * This is the only place where the stages meet. Each stage is a pure function of its inputs (the clock
 * included) except key resolution and forwarding, which do the I/O.
 */
import { KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS } from './config/constants.ts';
import type { Algorithm, CompiledConfig, CompiledIssuer, CompiledRoute } from './config/types.ts';
import type { Env } from './env.ts';
import { answerFor, finding, type Finding } from './findings.ts';
import { identityHeaders } from './forward/identity-headers.ts';
import { badGateway, forwardToOrigin, originUrl } from './forward/origin.ts';
import { sanitizeRequestHeaders } from './forward/sanitize.ts';
import { KeyStore, type KeyLayer } from './keys/key-store.ts';
import { newRecord, writeRecord, type VerificationRecord } from './log/record.ts';
import { RouteTable } from './route/route-table.ts';
import { extractBearerToken } from './token/extract.ts';
import { parseTokenShape } from './token/shape.ts';
import { checkClaims, readClaim, type Claims } from './verify/claims.ts';
import { verifySignature } from './verify/signature.ts';

export interface GatewayOptions {
  /** Local development only: lets issuers on 127.0.0.1 serve their JWKS over plain http. */
  allowLoopbackHttp: boolean;
}

type Authentication =
  | { ok: true; claims: Claims; issuer: CompiledIssuer }
  | { ok: false; findings: Finding[] };

export class Gateway {
  readonly #config: CompiledConfig;
  readonly #routes: RouteTable;
  readonly #keys: KeyStore;

  constructor(config: CompiledConfig, options: GatewayOptions) {
    this.#config = config;
    this.#routes = new RouteTable(config.routes);
    this.#keys = new KeyStore({ allowLoopbackHttp: options.allowLoopbackHttp });
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
      response = await this.#process(request, url, requestId, now, record);
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
    writeRecord(record);
    return response;
  }

  async #process(request: Request, url: URL, requestId: string, now: number, record: VerificationRecord): Promise<Response> {
    const route = this.#routes.match(request.method, url.hostname, url.pathname);
    if (!route) return this.#deny(record, [finding('route_not_found')], null, requestId);
    record.route = route.id;
    record.mode = route.mode;

    const headers = sanitizeRequestHeaders(request.headers, {
      identityHeaderPrefix: this.#config.settings.identityHeaderPrefix,
      forwardAuthorization: route.forwardAuthorization,
    });

    let verified: { claims: Claims; issuer: CompiledIssuer } | null = null;
    if (route.mode === 'public') {
      record.outcome = 'public';
    } else {
      const authentication = await this.#authenticate(request.headers, route, now, record);
      if (!authentication.ok) return this.#deny(record, authentication.findings, route, requestId);
      verified = authentication;
      record.outcome = 'allowed';
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

  /** token -> shape -> issuer -> algorithm -> key -> signature -> claims. Shape, issuer and algorithm failures cost no key lookup. */
  async #authenticate(headers: Headers, route: CompiledRoute, now: number, record: VerificationRecord): Promise<Authentication> {
    const extracted = extractBearerToken(headers);
    if (!extracted.ok) return { ok: false, findings: [extracted.finding] };
    const shape = parseTokenShape(extracted.token);
    if (!shape.ok) return { ok: false, findings: [shape.finding] };
    const { header, payload } = shape.token;
    record.kid = header.kid ?? null;
    record.alg = header.alg;

    // The unverified iss only chooses which configured issuer's keys to try; it is checked again after the signature.
    const issuer = route.issuers.map((id) => this.#config.issuers[id]!).find((candidate) => candidate.issuer === payload.iss);
    if (!issuer) {
      const expected = route.issuers.map((id) => this.#config.issuers[id]!.issuer);
      return { ok: false, findings: [finding('issuer_mismatch', { claim: 'iss', actual: payload.iss ?? null, expected })] };
    }
    record.iss = issuer.issuer;
    const alg = header.alg as Algorithm;
    if (!issuer.algorithms.includes(alg)) {
      return { ok: false, findings: [finding('alg_not_allowed', { actual: header.alg, expected: issuer.algorithms })] };
    }

    const key = await this.#keys.resolve(issuer, header.kid, alg, now);
    if (!key.ok) return { ok: false, findings: [key.finding] };
    record.key_layer = key.layer satisfies KeyLayer;
    if (!(await verifySignature(shape.token.raw, key.key, alg))) return { ok: false, findings: [finding('signature_invalid')] };

    const claims = payload;
    record.aud = typeof claims.aud === 'string' || Array.isArray(claims.aud) ? (claims.aud as string | string[]) : null;
    const app = readClaim(claims, issuer.appClaim);
    record.app = typeof app === 'string' ? app : null;
    record.sub = typeof claims.sub === 'string' ? claims.sub : null;
    const findings = checkClaims({ header, claims, issuer, route, now });
    return findings.length > 0 ? { ok: false, findings } : { ok: true, claims, issuer };
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
