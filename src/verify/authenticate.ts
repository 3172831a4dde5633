/**
 * token -> shape -> issuer -> algorithm -> key -> signature -> claims, for one route. Shared by the Worker
 * and the operator tools, so they judge a token with the same code. Shape, issuer and algorithm failures
 * stop before any key lookup, so they cost no network request.
 */
import type { Algorithm, CompiledConfig, CompiledIssuer, CompiledRoute } from '../config/types.ts';
import { revocationFinding, type Revocations } from '../control/deny-list.ts';
import { finding, type Finding } from '../findings.ts';
import type { KeyLayer, KeyLookup, KeyResolver } from '../keys/key-store.ts';
import { resolveSecretKey } from '../keys/secret-key.ts';
import { csrfFinding } from '../token/csrf.ts';
import { extractBearerToken } from '../token/extract.ts';
import { extractToken, sourceLabel, type SourceExtraction, type TokenSource } from '../token/sources.ts';
import { parseTokenShape } from '../token/shape.ts';
import { sha256Prefix } from '../log/digest.ts';
import { acceptsIss, checkClaims, readClaim, subjectOf, type Claims } from './claims.ts';
import type { PathVariables } from './claim-rules.ts';
import type { TenantLookup } from './tenant-directory.ts';
import { verifyTokenSignature } from './signature.ts';
import { authenticateFromCache, refuseFromCache, rememberVerified, type TokenCache } from './token-cache.ts';

/** What the verification saw, for the log; claim values are set only once the signature verified. */
export interface Evidence {
  kid: string | null;
  alg: string | null;
  iss: string | null;
  keyLayer: KeyLayer | null;
  aud: string | string[] | null;
  app: string | null;
  sub: string | null;
  /**
   * SHA-256 prefix of the token's bytes (src/log/digest.ts): known on a cache hit and in traces. Otherwise
   * the log writer computes it from the Authentication's `token` after the answer is decided, so hashing is
   * never on the verify path.
   */
  tokenFingerprint?: string | null;
  /** Whether the verified-token cache answered; null when the caller passed no cache (or traces). */
  tokenCache?: 'hit' | 'miss' | null;
  /** A multi-tenant issuer's token: its tenant claim (a string, else null). Absent for every other issuer. */
  tenant?: string | null;
}

/** The checks in the order they run; `npm run explain` prints them. */
export type CheckName = 'token' | 'shape' | 'issuer' | 'algorithm' | 'key' | 'signature' | 'claims';

/** One check's result for a trace: the findings it produced (none when it passed) and what it looked at. */
export interface TraceStep {
  check: CheckName;
  ok: boolean;
  findings: Finding[];
  evidence: Record<string, unknown>;
}

/**
 * `token` is the bearer token's text, once one was found, for the log writer to fingerprint. It sits beside
 * the evidence, never in it: evidence is what logs and traces show.
 */
export type Authentication =
  | { ok: true; claims: Claims; issuer: CompiledIssuer; evidence: Evidence; token?: string; source?: TokenSource }
  | { ok: false; findings: Finding[]; evidence: Evidence; token?: string; source?: TokenSource };

export interface AuthenticateInput {
  headers: Headers;
  route: CompiledRoute;
  config: CompiledConfig;
  keys: KeyResolver;
  now: number;
  /** The Worker's bindings, where an HMAC issuer's secret lives. */
  env?: object;
  /** Operator tools only: called after each check. Absent on the Worker's path, where it costs nothing. */
  trace?: (step: TraceStep) => void;
  /** Verified tokens of this isolate (src/verify/token-cache.ts); without it every token is verified in full. */
  tokenCache?: TokenCache;
  /** The method and the judged query: read only on routes with token_sources (a query source, the CSRF check of a cookie). */
  method?: string;
  search?: string;
  /** The deny list as this request sees it (src/control/deny-list.ts); absent: nothing is revoked. */
  revocations?: Revocations;
  /** The route's path variables in this request (src/route/resolve.ts), for claim rules bound to them. */
  pathVariables?: PathVariables;
  /** Multi-tenant issuers' accepted tenants (src/verify/tenant-directory.ts); without it, their inline lists alone. */
  tenants?: TenantLookup;
}

/** The route's token: the Authorization bearer unless the route lists token_sources; a cookie-borne one must pass the CSRF check. */
function takeToken(input: AuthenticateInput): SourceExtraction | { ok: false; finding: Finding; source: TokenSource; csrf: true } {
  const { route, headers } = input;
  if (route.tokenSources === undefined) {
    const bearer = extractBearerToken(headers);
    return bearer.ok ? { ok: true, token: bearer.token, source: BEARER } : bearer;
  }
  const extracted = extractToken(route.tokenSources, { headers, search: input.search ?? '' });
  if (!extracted.ok || extracted.source.kind !== 'cookie') return extracted;
  const csrf = csrfFinding(input.method ?? 'GET', headers, route.csrfOrigins ?? []);
  return csrf === null ? extracted : { ok: false, finding: csrf, source: extracted.source, csrf: true };
}

const BEARER: TokenSource = Object.freeze({ kind: 'authorization' });

/**
 * On a route that reads its issuers' sources, an issuer's token only from its own: a token of the bearer
 * issuer in Access's cookie is not Access's doing. null when it came from where its issuer puts tokens.
 */
function misplacedSource(route: CompiledRoute, issuer: CompiledIssuer, source: TokenSource | undefined): Finding | null {
  if (route.tokenSourcesFromIssuers !== true || source === undefined) return null;
  const label = sourceLabel(source);
  if ((issuer.tokenSources ?? [BEARER]).some((own) => sourceLabel(own) === label)) return null;
  return finding('issuer_mismatch', { detail: `issuer ${issuer.id} does not send its tokens in ${label}` });
}

const step = (check: CheckName, evidence: Record<string, unknown>): TraceStep => ({ check, ok: true, findings: [], evidence });

export async function authenticate(input: AuthenticateInput): Promise<Authentication> {
  const { headers, route, config, keys, now, env = {}, trace, tokenCache } = input;
  const evidence: Evidence = { kid: null, alg: null, iss: null, keyLayer: null, aud: null, app: null, sub: null, tokenFingerprint: null, tokenCache: null };
  // Which check is running, for the trace of a failure. `trace?.(...)` evaluates its argument only when a
  // trace is given, so the Worker's path allocates nothing for it.
  let check: CheckName = 'token';
  let token: string | undefined;
  let source: TokenSource | undefined;
  const fail = (...findings: Finding[]): Authentication => {
    trace?.({ check, ok: false, findings, evidence: { ...evidence } });
    return { ok: false, findings, evidence, token, source };
  };

  const extracted = takeToken(input);
  source = extracted.source;
  if (!extracted.ok) return fail(extracted.finding);
  token = extracted.token;
  // A token accepted before skips shape and signature, never the claim checks. Traces (the operator tools) show every check.
  if (tokenCache && !trace) {
    // Looked up here, so a token the cache has never seen (every distinct token) costs no await.
    const entry = tokenCache.get(extracted.token);
    const hit = entry && authenticateFromCache(tokenCache, extracted.token, entry, input, evidence);
    const cached = hit instanceof Promise ? await hit : hit;
    if (cached) {
      const misplaced = cached.ok ? misplacedSource(route, cached.issuer, source) : null;
      if (misplaced) return fail(misplaced);
      // A hit is refused by the deny list like a full verification: a token revoked since its first request earns nothing from the cache.
      const revoked = cached.ok ? revokedFinding(input, cached.issuer, evidence.kid ?? undefined, cached.claims, evidence) : null;
      if (revoked) return fail(revoked);
      cached.source = source;
      return cached;
    }
    // A replayed bad signature (the same bytes, the same key) is refused without verifying it again, where
    // the full path would reach that verification (a token in a source its issuer does not use would not).
    const refused = tokenCache.getRejected(extracted.token);
    const refusedBy = refused && config.issuers[refused.issuerId];
    const replay = refusedBy && !misplacedSource(route, refusedBy, source) && refuseFromCache(tokenCache, extracted.token, refused, input, evidence);
    const replayed = replay instanceof Promise ? await replay : replay;
    if (replayed) {
      replayed.source = source;
      return replayed;
    }
    evidence.tokenCache = 'miss';
  }
  if (trace) {
    evidence.tokenFingerprint = await sha256Prefix(extracted.token);
    trace(step('token', { token_fp: evidence.tokenFingerprint }));
  }
  check = 'shape';
  const shape = parseTokenShape(extracted.token);
  if (!shape.ok) return fail(shape.finding);
  const { header, payload } = shape.token;
  evidence.kid = header.kid ?? null;
  evidence.alg = header.alg;
  trace?.(step('shape', { alg: header.alg, kid: header.kid ?? null, typ: header.typ ?? null }));

  // The unverified iss only chooses which configured issuer's keys to try; checkClaims checks it again.
  check = 'issuer';
  const issuer = issuerFor(route, config, payload.iss);
  if (!issuer) return fail(finding('issuer_mismatch', { claim: 'iss', actual: payload.iss ?? null, expected: route.issuers.map((id) => config.issuers[id]!.issuer) }));
  const misplaced = misplacedSource(route, issuer, source);
  if (misplaced) return fail(misplaced);
  // The token's own iss: an issuer may accept several forms (Google's two), and the log shows which one came.
  evidence.iss = payload.iss as string;
  trace?.(step('issuer', { issuer: issuer.id, iss: payload.iss }));
  check = 'algorithm';
  const alg = header.alg as Algorithm;
  if (!issuer.algorithms.includes(alg)) return fail(finding('alg_not_allowed', { actual: header.alg, expected: issuer.algorithms }));
  trace?.(step('algorithm', { alg, allowed: issuer.algorithms }));

  check = 'key';
  const pending = resolveKey(issuer, header.kid, alg, keys, now, env);
  const key = pending instanceof Promise ? await pending : pending;
  if (!key.ok) return fail(key.finding);
  evidence.keyLayer = key.layer;
  trace?.(step('key', { kid: header.kid ?? null, key_layer: key.layer }));
  check = 'signature';
  if (!(await verifyTokenSignature(shape.token, key.key, alg))) {
    tokenCache?.rememberRejected(extracted.token, { issuerId: issuer.id, iss: payload.iss as string, kid: header.kid, alg, key: key.key, fingerprint: null });
    return fail(finding('signature_invalid'));
  }
  trace?.(step('signature', { alg }));

  check = 'claims';
  const claims = payload;
  noteClaims(evidence, claims, issuer);
  const pendingTenants = tenantsOf(issuer, input.tenants);
  const allowedTenants = pendingTenants instanceof Promise ? await pendingTenants : pendingTenants;
  const findings = checkClaims({ header, claims, issuer, route, now, pathVariables: input.pathVariables, allowedTenants });
  if (findings.length > 0) return fail(...findings);
  trace?.(step('claims', {}));
  const revoked = revokedFinding(input, issuer, header.kid, claims, evidence);
  if (revoked) return fail(revoked);
  if (tokenCache) {
    rememberVerified(tokenCache, extracted.token, { header, claims, issuerId: issuer.id, alg, key: key.key, fingerprint: null });
  }
  return { ok: true, claims, issuer, evidence, token, source };
}

/** The deny list's verdict on a token that passed every other check: synchronous, from memory. */
function revokedFinding({ revocations, now }: AuthenticateInput, issuer: CompiledIssuer, kid: string | undefined, claims: Claims, evidence: Evidence): Finding | null {
  return revocations ? revocationFinding(revocations, { issuerId: issuer.id, kid, claims, app: evidence.app, now }) : null;
}

/**
 * The route's issuer for a token's iss: the first of the route's issuers that accepts it. Shared with the
 * cache's hit path, so a hit is judged by the issuer a full verification would choose.
 */
export function issuerFor(route: CompiledRoute, config: CompiledConfig, iss: unknown): CompiledIssuer | undefined {
  for (const id of route.issuers) {
    const candidate = config.issuers[id]!;
    if (acceptsIss(candidate, iss)) return candidate;
  }
  return undefined;
}

/** A multi-tenant issuer's accepted tenants now; undefined (nothing awaited) for every other issuer. Shared with the cache's hit path. */
export function tenantsOf(issuer: CompiledIssuer, tenants: TenantLookup | undefined): ReadonlySet<string> | Promise<ReadonlySet<string>> | undefined {
  return issuer.tenancy === undefined || tenants === undefined ? undefined : tenants(issuer);
}

/** The issuer's verification key: its Worker secret for HMAC issuers, else the key store. Shared with the cache's hit path. */
export function resolveKey(issuer: CompiledIssuer, kid: string | undefined, alg: Algorithm, keys: KeyResolver, now: number, env: object = {}): KeyLookup | Promise<KeyLookup> {
  return issuer.keySource.kind === 'secret' ? resolveSecretKey(issuer.keySource.binding, alg, env) : keys.resolve(issuer, kid, alg, now);
}

/** The verified claims the log shows; shared with the cache's hit path so both record the same evidence. */
export function noteClaims(evidence: Evidence, claims: Claims, issuer: CompiledIssuer): void {
  const app = readClaim(claims, issuer.appClaim);
  evidence.aud = typeof claims.aud === 'string' || Array.isArray(claims.aud) ? (claims.aud as string | string[]) : null;
  evidence.app = typeof app === 'string' ? app : null;
  evidence.sub = subjectOf(claims, issuer.serviceSubject)?.subject ?? null;
  if (issuer.tenancy !== undefined) {
    const tenant = readClaim(claims, issuer.tenancy.claim);
    evidence.tenant = typeof tenant === 'string' ? tenant : null;
  }
}
