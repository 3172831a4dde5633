/**
 * Finding codes are stable API: they appear in the verification log, the docs (docs/findings.md) and the
 * tests. Clients never see them; they see one generic RFC 6750 answer, chosen here and only here. The
 * error answers the gateway gives when it cannot hand a request on (500, 502, 504) are written here too.
 */

export const FINDING_CODES = [
  'route_not_found',
  'token_missing',
  'request_invalid',
  'path_ambiguous',
  'token_malformed',
  'alg_not_allowed',
  'issuer_mismatch',
  'kid_unknown',
  'keys_unavailable',
  'signature_invalid',
  'typ_mismatch',
  'audience_mismatch',
  'app_mismatch',
  'token_expired',
  'token_not_yet_valid',
  'issued_in_future',
  'lifetime_too_long',
  'claim_missing',
  'claim_invalid',
  'claim_mismatch',
  'scope_insufficient',
  'csrf_check_failed',
  'token_revoked',
  'claim_insufficient',
  'path_variable_mismatch',
  'tenant_not_allowed',
  'rate_limited',
  'origin_unmapped',
] as const;

export type FindingCode = (typeof FINDING_CODES)[number];

/** Evidence is what an operator needs to see why; it never holds the token or a signature. */
export interface Finding {
  code: FindingCode;
  claim?: string;
  expected?: unknown;
  actual?: unknown;
  detail?: string;
}

export const finding = (code: FindingCode, evidence: Omit<Finding, 'code'> = {}): Finding => ({ code, ...evidence });

type AnswerKind = 'not_found' | 'no_token' | 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'not_permitted' | 'forbidden' | 'rate_limited' | 'unavailable';

/** Every code's answer kind, each spelled out: a new code must say how it is answered (the compiler asks). */
const ANSWER_KIND: Record<FindingCode, AnswerKind> = {
  route_not_found: 'not_found',
  token_missing: 'no_token',
  request_invalid: 'invalid_request',
  path_ambiguous: 'invalid_request',
  keys_unavailable: 'unavailable',
  scope_insufficient: 'insufficient_scope',
  csrf_check_failed: 'forbidden',
  claim_insufficient: 'not_permitted',
  path_variable_mismatch: 'not_permitted',
  // A tenant the policy does not list is not an issuer this API trusts: its token is invalid here, like another issuer's.
  tenant_not_allowed: 'invalid_token',
  rate_limited: 'rate_limited',
  origin_unmapped: 'not_permitted',
  token_malformed: 'invalid_token',
  alg_not_allowed: 'invalid_token',
  issuer_mismatch: 'invalid_token',
  kid_unknown: 'invalid_token',
  signature_invalid: 'invalid_token',
  typ_mismatch: 'invalid_token',
  audience_mismatch: 'invalid_token',
  app_mismatch: 'invalid_token',
  token_expired: 'invalid_token',
  token_not_yet_valid: 'invalid_token',
  issued_in_future: 'invalid_token',
  lifetime_too_long: 'invalid_token',
  claim_missing: 'invalid_token',
  claim_invalid: 'invalid_token',
  claim_mismatch: 'invalid_token',
  token_revoked: 'invalid_token',
};

export interface AnswerContext {
  realm: string;
  requestId: string;
  /** The scopes the route requires, named in the 403's `scope` attribute as RFC 6750 section 3 asks. */
  requiredScopes: readonly string[];
  retryAfterSeconds: number;
  /** Retry-After of a 429: the route's rate limit period. */
  rateLimitRetryAfterSeconds?: number;
}

const quoted = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

/**
 * Per kind of answer: its status, the `error` of the body, its description, and the challenge it carries: none,
 * bare (RFC 6750 section 3.1: a request without credentials gets no error code), or with error and description.
 * Listed in precedence: when several findings hold, the answer is the first kind here among theirs, the most
 * fundamental one (a token invalid for this API is not merely short of scope).
 */
const ANSWERS: Record<AnswerKind, { status: number; error: string; description: string; challenge: 'none' | 'bare' | 'error' }> = {
  not_found: { status: 404, error: 'not_found', description: 'No route matches this request.', challenge: 'none' },
  invalid_request: { status: 400, error: 'invalid_request', description: 'The request is malformed.', challenge: 'error' },
  // Not a token problem (RFC 6750 has no code for it): no challenge, a plain 403.
  forbidden: { status: 403, error: 'forbidden', description: 'The request is not allowed from this context.', challenge: 'none' },
  no_token: { status: 401, error: 'unauthorized', description: 'An access token is required.', challenge: 'bare' },
  unavailable: { status: 503, error: 'temporarily_unavailable', description: 'The token cannot be verified right now.', challenge: 'none' },
  invalid_token: { status: 401, error: 'invalid_token', description: 'The access token is invalid.', challenge: 'error' },
  insufficient_scope: { status: 403, error: 'insufficient_scope', description: 'The access token does not grant the required scope.', challenge: 'error' },
  // RFC 6750 has no other 403 code: a valid token that lacks a role or another tenant's is insufficient for this request.
  not_permitted: { status: 403, error: 'insufficient_scope', description: 'The access token does not permit this request.', challenge: 'error' },
  // The token is fine: no challenge, the client should only wait.
  rate_limited: { status: 429, error: 'too_many_requests', description: 'Too many requests; retry later.', challenge: 'none' },
};

/** ANSWERS' kinds in their order: the precedence. */
const KIND_PRECEDENCE = Object.keys(ANSWERS) as AnswerKind[];

/** The one place where findings become an HTTP answer. The body and headers carry no finding detail. */
export function answerFor(findings: readonly Finding[], context: AnswerContext): Response {
  const kinds = new Set(findings.map((f) => ANSWER_KIND[f.code]));
  const kind = KIND_PRECEDENCE.find((k) => kinds.has(k)) ?? 'invalid_token';
  const { status, error, description, challenge } = ANSWERS[kind];
  const headers = new Headers();
  if (challenge !== 'none') {
    const parts = [`Bearer realm=${quoted(context.realm)}`];
    if (challenge === 'error') parts.push(`error="${error}"`, `error_description=${quoted(description)}`);
    if (kind === 'insufficient_scope' && context.requiredScopes.length > 0) parts.push(`scope=${quoted(context.requiredScopes.join(' '))}`);
    headers.set('www-authenticate', parts.join(', '));
  }
  if (kind === 'unavailable') headers.set('retry-after', String(context.retryAfterSeconds));
  if (kind === 'rate_limited') headers.set('retry-after', String(context.rateLimitRetryAfterSeconds ?? context.retryAfterSeconds));
  return jsonAnswer(status, error, description, context.requestId, headers);
}

const FAILURES = {
  500: ['server_error', 'The request could not be processed.'],
  502: ['bad_gateway', 'The origin could not be reached.'],
  504: ['gateway_timeout', 'The origin did not answer in time.'],
} as const;

/** What the client sees when the gateway cannot hand the request on: generic, like every gateway answer; the reason is for the log. */
export function gatewayFailure(status: keyof typeof FAILURES, requestId: string): Response {
  const [error, description] = FAILURES[status];
  return jsonAnswer(status, error, description, requestId);
}

/** Every answer the gateway writes itself: a JSON body with the request id, never cached. */
function jsonAnswer(status: number, error: string, description: string, requestId: string, headers = new Headers()): Response {
  headers.set('content-type', 'application/json');
  headers.set('cache-control', 'no-store');
  return new Response(JSON.stringify({ error, error_description: description, request_id: requestId }), { status, headers });
}
