/**
 * token -> shape -> issuer -> algorithm -> key -> signature -> claims, for one route. Shared by the Worker
 * and the operator tools, so they judge a token with the same code. Shape, issuer and algorithm failures
 * stop before any key lookup, so they cost no network request.
 */
import type { Algorithm, CompiledConfig, CompiledIssuer, CompiledRoute } from '../config/types.ts';
import { finding, type Finding } from '../findings.ts';
import type { KeyLayer, KeyStore } from '../keys/key-store.ts';
import { extractBearerToken } from '../token/extract.ts';
import { parseTokenShape } from '../token/shape.ts';
import { checkClaims, readClaim, type Claims } from './claims.ts';
import { verifyTokenSignature } from './signature.ts';
import { authenticateFromCache, rememberVerified, type TokenCache } from './token-cache.ts';

/** What the verification saw, for the log; claim values are set only once the signature verified. */
export interface Evidence {
  kid: string | null;
  alg: string | null;
  iss: string | null;
  keyLayer: KeyLayer | null;
  aud: string | string[] | null;
  app: string | null;
  sub: string | null;
  /** Whether the verified-token cache answered; null when the caller passed no cache. */
  tokenCache: 'hit' | 'miss' | null;
}

export type Authentication =
  | { ok: true; claims: Claims; issuer: CompiledIssuer; evidence: Evidence }
  | { ok: false; findings: Finding[]; evidence: Evidence };

export interface AuthenticateInput {
  headers: Headers;
  route: CompiledRoute;
  config: CompiledConfig;
  keys: KeyStore;
  now: number;
  /** Verified tokens of this isolate; without it every token is verified in full. */
  tokenCache?: TokenCache;
}

export async function authenticate(input: AuthenticateInput): Promise<Authentication> {
  const { headers, route, config, keys, now, tokenCache } = input;
  const evidence: Evidence = { kid: null, alg: null, iss: null, keyLayer: null, aud: null, app: null, sub: null, tokenCache: null };
  const fail = (...findings: Finding[]): Authentication => ({ ok: false, findings, evidence });

  const extracted = extractBearerToken(headers);
  if (!extracted.ok) return fail(extracted.finding);
  if (tokenCache) {
    const cached = await authenticateFromCache(tokenCache, extracted.token, input, evidence);
    if (cached) return cached;
    evidence.tokenCache = 'miss';
  }
  const shape = parseTokenShape(extracted.token);
  if (!shape.ok) return fail(shape.finding);
  const { header, payload } = shape.token;
  evidence.kid = header.kid ?? null;
  evidence.alg = header.alg;

  // The unverified iss only chooses which configured issuer's keys to try; checkClaims checks it again.
  const candidates = route.issuers.map((id) => config.issuers[id]!);
  const issuer = candidates.find((candidate) => candidate.issuer === payload.iss);
  if (!issuer) return fail(finding('issuer_mismatch', { claim: 'iss', actual: payload.iss ?? null, expected: candidates.map((c) => c.issuer) }));
  evidence.iss = issuer.issuer;
  const alg = header.alg as Algorithm;
  if (!issuer.algorithms.includes(alg)) return fail(finding('alg_not_allowed', { actual: header.alg, expected: issuer.algorithms }));

  const key = await keys.resolve(issuer, header.kid, alg, now);
  if (!key.ok) return fail(key.finding);
  evidence.keyLayer = key.layer;
  if (!(await verifyTokenSignature(shape.token, key.key, alg))) return fail(finding('signature_invalid'));

  const claims = payload;
  noteClaims(evidence, claims, issuer);
  const findings = checkClaims({ header, claims, issuer, route, now });
  if (findings.length > 0) return fail(...findings);
  if (tokenCache) rememberVerified(tokenCache, extracted.token, { header, claims, issuerId: issuer.id, alg, key: key.key });
  return { ok: true, claims, issuer, evidence };
}

/** The verified claims the log shows; shared with the cache's hit path so both record the same evidence. */
export function noteClaims(evidence: Evidence, claims: Claims, issuer: CompiledIssuer): void {
  const app = readClaim(claims, issuer.appClaim);
  evidence.aud = typeof claims.aud === 'string' || Array.isArray(claims.aud) ? (claims.aud as string | string[]) : null;
  evidence.app = typeof app === 'string' ? app : null;
  evidence.sub = typeof claims.sub === 'string' ? claims.sub : null;
}
