/**
 * What an origin behind the gateway calls to trust the caller: checks the gateway's signed assertion and
 * the plain identity headers beside it against the request it actually received. Only jose and WebCrypto:
 * runs in Node 20+, Deno, Bun and Workers.
 */
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ASSERTION_TYP, headerBinding, queryDigest, type HeaderBinding, type RequestBinding } from './binding.ts';

export interface GatewayVerifierOptions {
  /** The gateway's `iss` (settings.assertion.issuer; default "edge-jwt-gateway"). */
  issuer: string;
  /** This origin's audience: the route's assertion_audience (default: its app, else the route id). */
  audience: string | string[];
  /** Where the gateway publishes its keys, e.g. https://api.example.com/.well-known/gateway-jwks.json; fetched and cached. */
  jwksUrl?: string | URL;
  /** Or the gateway's public keys, given directly. */
  keys?: JWK[];
  /** Or, in hmac mode, the shared secret(s); give the old and the new one while rotating. */
  secrets?: string[];
  /** The gateway's identity_header_prefix. Default "x-verified-". */
  headerPrefix?: string;
  /** The assertion header. Default: the prefix + "assertion". */
  assertionHeader?: string;
  /** Tolerated clock difference with the gateway, in seconds. Default 5. */
  clockToleranceSeconds?: number;
  /** The clock; for tests. Default: the system clock. */
  currentDate?: () => Date;
}

export type HeadersLike = Headers | Record<string, string | string[] | undefined>;

/** The request as this origin received it. `path` without the query. */
export interface ReceivedRequest {
  method: string;
  host: string;
  path: string;
  /**
   * The query string exactly as received, with or without its leading "?" ("" for none): raw, not decoded
   * or re-serialized (Node: the part of req.url after "?"; Fetch: new URL(request.url).search). The
   * assertion binds its SHA-256, so a captured assertion is worthless with another query.
   */
  query: string;
  headers: HeadersLike;
}

export type AssertionErrorCode =
  | 'assertion_missing'
  | 'assertion_invalid'
  | 'signature_invalid'
  | 'key_unknown'
  | 'keys_unavailable'
  | 'expired'
  | 'issuer_mismatch'
  | 'audience_mismatch'
  | 'request_mismatch'
  | 'headers_mismatch';

export class AssertionError extends Error {
  override readonly name = 'AssertionError';
  readonly code: AssertionErrorCode;

  constructor(code: AssertionErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface VerifiedIdentity {
  sub: string;
  /** The identity provider's iss. */
  idp: string;
  app?: unknown;
  scope?: string;
  route: string;
  /**
   * The x-verified-request-id header as received, for correlating logs. Signed only when the assertion
   * covers it (a gateway with reuse_seconds 0; it is then also in `headers`); otherwise anyone who can
   * reach the origin could set it. Never a replay key.
   */
  forwardedRequestId: string | undefined;
  /** The assertion's jti (signed): the request id of the request it was minted for, shared by the requests that reuse it. */
  assertionId: string;
  /** The route's claim_headers values with their JSON types, by header name. */
  claims: Record<string, unknown>;
  /** The verified identity headers as received, by name (the request id is not one of them). */
  headers: Record<string, string>;
  payload: JWTPayload;
}

export type VerifyResult = { ok: true; identity: VerifiedIdentity } | { ok: false; error: AssertionError };

const ALGORITHMS_SIGNED = ['EdDSA', 'ES256'];
/** The gateway never mints an assertion for longer; anything longer was not minted by a conforming gateway. */
const MAX_LIFETIME_SECONDS = 60;

function headerEntries(headers: HeadersLike): [string, string][] {
  if (typeof (headers as Headers).forEach === 'function' && typeof (headers as Headers).get === 'function') {
    const out: [string, string][] = [];
    (headers as Headers).forEach((value, name) => out.push([name.toLowerCase(), value]));
    return out;
  }
  return Object.entries(headers as Record<string, string | string[] | undefined>)
    .filter((entry): entry is [string, string | string[]] => entry[1] !== undefined)
    .map(([name, value]) => [name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value]);
}

function joseError(error: unknown): AssertionError {
  if (error instanceof errors.JWTExpired) return new AssertionError('expired', 'the assertion has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return new AssertionError('issuer_mismatch', 'the assertion was not issued by the configured gateway');
    if (error.claim === 'aud') return new AssertionError('audience_mismatch', 'the assertion is for another audience');
    return new AssertionError('assertion_invalid', `claim ${error.claim}: ${error.reason}`);
  }
  if (error instanceof errors.JWKSNoMatchingKey) return new AssertionError('key_unknown', 'no published gateway key matches the assertion');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new AssertionError('signature_invalid', 'the assertion signature does not verify');
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return new AssertionError('keys_unavailable', 'the gateway keys could not be fetched');
  if (error instanceof errors.JOSEError) return new AssertionError('assertion_invalid', error.code);
  // createRemoteJWKSet lets a network failure through as the fetch error itself.
  if (error instanceof TypeError) return new AssertionError('keys_unavailable', 'the gateway keys could not be fetched');
  return new AssertionError('assertion_invalid', 'the assertion could not be verified');
}

async function sameRequest(bound: Partial<RequestBinding> | undefined, received: ReceivedRequest): Promise<boolean> {
  if (bound?.method !== received.method.toUpperCase() || bound.host?.toLowerCase() !== received.host.toLowerCase() || bound.path !== received.path) return false;
  // A gateway that does not bind the query (before it did) sends no `query`: refused, as any other mismatch.
  if (typeof bound.query !== 'string') return false;
  const digest = queryDigest(received.query);
  return bound.query === (typeof digest === 'string' ? digest : await digest);
}

export function createGatewayVerifier(options: GatewayVerifierOptions): (request: ReceivedRequest) => Promise<VerifyResult> {
  const sources = [options.jwksUrl, options.keys, options.secrets].filter((s) => s !== undefined);
  if (sources.length !== 1) throw new Error('give exactly one of jwksUrl, keys and secrets');
  const prefix = (options.headerPrefix ?? 'x-verified-').toLowerCase();
  const assertionHeader = (options.assertionHeader ?? `${prefix}assertion`).toLowerCase();
  const requestIdHeader = `${prefix}request-id`;
  const tolerance = options.clockToleranceSeconds ?? 5;
  const keySets: (JWTVerifyGetKey | Uint8Array)[] = options.secrets
    ? options.secrets.map((s) => new TextEncoder().encode(s))
    : [options.keys ? createLocalJWKSet({ keys: options.keys }) : createRemoteJWKSet(new URL(options.jwksUrl!))];
  const algorithms = options.secrets ? ['HS256'] : ALGORITHMS_SIGNED;

  async function verifyJws(token: string): Promise<JWTPayload> {
    let last: unknown;
    for (const key of keySets) {
      try {
        const { payload } = await jwtVerify(token, key as JWTVerifyGetKey, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms,
          typ: ASSERTION_TYP,
          clockTolerance: tolerance,
          ...(options.currentDate ? { currentDate: options.currentDate() } : {}),
          requiredClaims: ['iss', 'aud', 'sub', 'iat', 'exp', 'jti'],
        });
        return payload;
      } catch (error) {
        last = error;
        // Another shared secret may be the one; any other failure is final.
        if (!(error instanceof errors.JWSSignatureVerificationFailed)) break;
      }
    }
    throw last;
  }

  return async (request) => {
    const entries = headerEntries(request.headers);
    const tokens = entries.filter(([name]) => name === assertionHeader);
    if (tokens.length !== 1) return fail('assertion_missing', tokens.length === 0 ? 'no assertion header' : 'more than one assertion header');
    let payload: JWTPayload;
    try {
      payload = await verifyJws(tokens[0]![1]);
    } catch (error) {
      return { ok: false, error: joseError(error) };
    }
    if (payload.exp! - payload.iat! > MAX_LIFETIME_SECONDS) return fail('assertion_invalid', 'the assertion lives longer than 60 s');
    // Required by the type; a JavaScript caller that leaves it out is told so, and refused.
    if (typeof request.query !== 'string') return fail('request_mismatch', 'ReceivedRequest.query is missing: give the raw query string ("" for none)');
    // A conforming gateway never lets an assertion outlive the token it vouches for.
    if (typeof payload.token_exp === 'number' && payload.exp! > payload.token_exp) return fail('assertion_invalid', 'the assertion outlives the token');
    if (!(await sameRequest(payload.req as Partial<RequestBinding> | undefined, request))) {
      return fail('request_mismatch', 'the assertion was minted for another method, host, path or query');
    }
    const bound = payload.hdr as Partial<HeaderBinding> | undefined;
    // The request id is covered when the signed list names it (reuse_seconds 0), and left out otherwise.
    const requestIdCovered = Array.isArray(bound?.names) && bound.names.includes(requestIdHeader);
    const identityHeaders = entries.filter(([name]) => name.startsWith(prefix) && name !== assertionHeader && (requestIdCovered || name !== requestIdHeader));
    const actual = await headerBinding(identityHeaders);
    if (!Array.isArray(bound?.names) || bound.names.join('\n') !== actual.names.join('\n') || bound.sha256 !== actual.sha256) {
      return fail('headers_mismatch', 'the identity headers are not the ones the gateway sent');
    }
    return {
      ok: true,
      identity: {
        sub: payload.sub!,
        idp: String(payload.idp),
        app: payload.app,
        scope: typeof payload.scope === 'string' ? payload.scope : undefined,
        route: String(payload.route),
        forwardedRequestId: entries.find(([name]) => name === requestIdHeader)?.[1],
        assertionId: payload.jti!,
        claims: (payload.claims as Record<string, unknown> | undefined) ?? {},
        headers: Object.fromEntries(identityHeaders),
        payload,
      },
    };
  };
}

const fail = (code: AssertionErrorCode, message: string): VerifyResult => ({ ok: false, error: new AssertionError(code, message) });

/** The method, Host, path and query of a Fetch API Request (Workers, Deno, Bun, Hono, Node's fetch). */
export function receivedFrom(request: Request): ReceivedRequest {
  const url = new URL(request.url);
  return { method: request.method, host: request.headers.get('host') ?? url.host, path: url.pathname, query: url.search, headers: request.headers };
}
