/**
 * Compiles the request path's pure stages when the isolate loads the script, instead of during its first
 * request. V8 compiles a function on its first call, and a cold isolate's first request spends more CPU
 * compiling the gateway's code than running it (BENCHMARKS.md, "Cold start"). A Worker's global scope runs
 * when the isolate starts, before any request (on Cloudflare this can happen while the client's TLS
 * handshake is still under way), but it allows no I/O, crypto, timers, random values or Response: so only
 * the stages that need none of these run here, once, on a synthetic issuer, route, token and key set of
 * this file's own.
 *
 * It calls the same stage functions as src/gateway.ts and src/verify/authenticate.ts, in their order: a new
 * pure stage there belongs here too. Forgetting one costs only its warmth, never a verdict.
 *
 * Nothing they produce is kept, with two deliberate exceptions: the shape gate's judged-header map holds
 * the synthetic header (a pure function of its text, bounded), and the ROCA check's orders are computed
 * (once per isolate in any case). The Gateway, its caches and the key store are never touched.
 */
import type { CompiledConfig, CompiledIssuer, CompiledRoute } from './config/types.ts';
import type { Env } from './env.ts';
import { finding } from './findings.ts';
import { reuseKey, textBytes } from './forward/assertion-cache.ts';
import { plainHeaders } from './forward/identity.ts';
import { resolveOrigin } from './forward/origin.ts';
import { requestIdOf } from './forward/request-id.ts';
import { sanitizeRequestHeaders } from './forward/sanitize.ts';
import { judgeJwks } from './keys/validate-jwk.ts';
import { boundRecord } from './log/bound.ts';
import { newRecord, recordEvidence, summarizeFindings } from './log/record.ts';
import { base64UrlEncode, canonicalHeaders } from './origin/binding.ts';
import { admit, decide } from './route/mode.ts';
import { canonicalRequest } from './request/canonical.ts';
import { RouteResolver } from './route/resolve.ts';
import { bytesToBase64Url } from './token/base64url.ts';
import { extractBearerToken } from './token/extract.ts';
import { parseTokenShape } from './token/shape.ts';
import { issuerFor, noteClaims, type Evidence } from './verify/authenticate.ts';
import { checkClaims } from './verify/claims.ts';

const ISSUER: CompiledIssuer = {
  id: 'warm',
  issuer: 'https://issuer.warm.invalid',
  keySource: { kind: 'jwks', url: 'https://issuer.warm.invalid/jwks' },
  algorithms: ['RS256'],
  appClaim: ['app_id'],
  clockSkewSeconds: 60,
  maxLifetimeSeconds: 86_400,
  typ: 'at+jwt',
  claims: [{ path: ['token_use'], test: { kind: 'equals', value: 'access' } }],
};

const ROUTE: CompiledRoute = {
  id: 'warm',
  file: 'warm',
  host: null,
  path: { kind: 'prefix', value: '/warm' },
  methods: null,
  mode: 'enforce',
  issuers: ['warm'],
  audiences: ['https://api.warm.invalid'],
  app: 'warm',
  scopes: ['read'],
  origin: 'https://origin.warm.invalid',
  forwardAuthorization: false,
  forward: {
    origin: { kind: 'url', url: 'https://origin.warm.invalid', stripPathPrefix: '/warm' },
    timeoutMs: 10_000,
    claimHeaders: [{ header: 'x-verified-roles', claim: ['roles'], format: 'join' }],
    assertionAudience: 'https://origin.warm.invalid',
  },
  claims: [{ path: ['roles'], test: { kind: 'contains', value: 'reader' } }],
};

const CONFIG: CompiledConfig = {
  version: 1,
  settings: {
    realm: 'warm',
    identityHeaderPrefix: 'x-verified-',
    assertion: { header: 'x-verified-assertion', issuer: 'warm', mode: 'signed', jwksPath: '/.well-known/warm-jwks.json', ttlSeconds: 60, reuseSeconds: 30 },
    requestIdHeader: 'x-request-id',
  },
  issuers: { warm: ISSUER },
  routes: [ROUTE],
};

/** Which stage warmStages is in, for the reason a failure is reported with. */
export interface WarmProgress {
  stage: string;
}

/**
 * Every pure stage of an accepted request, in the order the gateway runs them, each checked for the answer
 * it must give, so that none returns early and leaves the code after it cold. Throws at the first that
 * does not; `progress.stage` then names it.
 */
export function warmStages(progress: WarmProgress = { stage: '' }): void {
  const check = (holds: boolean, detail = ''): void => {
    if (!holds) throw new Error(`unexpected answer${detail ? `: ${detail}` : ''}`);
  };
  const now = 1_800_000_000;
  const claims = { iss: ISSUER.issuer, sub: 'warm', aud: ROUTE.audiences[0], app_id: 'warm', scope: 'read write', roles: ['reader'], token_use: 'access', iat: now, exp: now + 600 };
  // The signature of a 2048-bit RSA key is 256 bytes; their value is never checked here.
  const token = `${base64UrlEncode(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: 'warm' }))}.${base64UrlEncode(JSON.stringify(claims))}.${bytesToBase64Url(new Uint8Array(256))}`;
  const incoming = new Headers({ authorization: `Bearer ${token}`, 'cf-ray': '0123456789abcdef-AMS', 'x-request-id': 'warm', 'x-verified-sub': 'forged' });
  const request = new Request('https://api.warm.invalid/warm/items?x=1', { headers: incoming });
  const url = new URL(request.url);
  const { identityHeaderPrefix: prefix, assertion } = CONFIG.settings;

  progress.stage = 'canonical';
  const canonical = canonicalRequest(request.method, url);
  if (!canonical.ok) throw new Error(`unexpected answer: ${canonical.finding.code}`);
  // A path with escapes and an upper-case letter: the slow path of canonicalization and the case-folded reading.
  check(canonicalRequest('GET', new URL('https://api.warm.invalid/warm/%49tems/')).ok);
  progress.stage = 'route';
  const resolution = new RouteResolver(CONFIG.routes).resolve(canonical.request);
  check(resolution.ok && resolution.route === ROUTE);
  progress.stage = 'request id';
  const requestId = requestIdOf(incoming, CONFIG.settings.requestIdHeader);
  check(requestId === 'warm');
  progress.stage = 'record';
  const record = newRecord(request, url, requestId, now * 1000);
  check(record.colo === 'AMS');
  progress.stage = 'admission';
  check(admit(ROUTE, request.method, incoming) === 'authenticate');
  progress.stage = 'extraction';
  const extracted = extractBearerToken(incoming);
  if (!extracted.ok) throw new Error(`unexpected answer: ${extracted.finding.code}`);
  progress.stage = 'shape';
  const shape = parseTokenShape(extracted.token);
  if (!shape.ok) throw new Error(`unexpected answer: ${shape.finding.code} ${shape.finding.detail ?? ''}`);
  const { header, payload } = shape.token;
  progress.stage = 'issuer';
  check(issuerFor(ROUTE, CONFIG, payload.iss) === ISSUER);
  progress.stage = 'claims';
  const evidence: Evidence = { kid: header.kid ?? null, alg: header.alg, iss: ISSUER.issuer, keyLayer: 'memory', aud: null, app: null, sub: null, tokenCache: 'miss' };
  noteClaims(evidence, payload, ISSUER);
  const findings = checkClaims({ header, claims: payload, issuer: ISSUER, route: ROUTE, now });
  check(findings.length === 0, findings[0]?.code);
  recordEvidence(record, evidence);
  progress.stage = 'decision';
  check(decide(ROUTE, { ok: true, claims: payload, issuer: ISSUER, evidence, token: extracted.token }).kind === 'forward');

  progress.stage = 'sanitize';
  const headers = sanitizeRequestHeaders(incoming, { identityHeaderPrefix: prefix, forwardAuthorization: ROUTE.forwardAuthorization, assertionHeader: assertion?.header });
  check(!headers.has('x-verified-sub') && !headers.has('authorization'));
  progress.stage = 'origin';
  const resolved = resolveOrigin(ROUTE.forward.origin, canonical.request, url, {} as Env);
  if (!resolved.ok) throw new Error(`unexpected answer: ${resolved.reason}`);
  check(resolved.origin.url.href === 'https://origin.warm.invalid/items?x=1');
  progress.stage = 'identity headers';
  const identity = plainHeaders({ route: ROUTE, prefix, verified: { claims: payload, issuer: ISSUER } }, requestId);
  for (const [name, value] of identity.headers) headers.set(name, value);
  check(headers.get('x-verified-sub') === 'warm' && headers.get('x-verified-roles') === 'reader' && identity.omitted.length === 0);
  // The canonical text the assertion's header binding hashes (the hash is WebCrypto: not at load), and the reuse key.
  progress.stage = 'assertion binding';
  canonicalHeaders(identity.headers);
  textBytes(identity.headers, identity.omitted);
  reuseKey(ROUTE.id, { method: request.method, host: resolved.origin.url.host, path: resolved.origin.url.pathname, query: resolved.origin.url.search }, extracted.token);

  // The key set's judgement and the ROCA check, on a fixed 2048-bit modulus: no random values at load, and
  // bytes that look random, so the check runs over its primes as it does for a real key.
  progress.stage = 'key set';
  const modulus = new Uint8Array(256);
  let state = 0x9e3779b9;
  for (let i = 0; i < modulus.length; i++) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    modulus[i] = state >>> 24;
  }
  modulus[0]! |= 0x80;
  modulus[255]! |= 1;
  const keys = judgeJwks({ keys: [{ kty: 'RSA', kid: 'warm', use: 'sig', alg: 'RS256', n: bytesToBase64Url(modulus), e: 'AQAB' }] });
  check(keys.ok && keys.keys.length === 1, keys.ok ? keys.skipped.join('; ') : keys.reason);

  progress.stage = 'record bounds';
  record.findings.push(finding('scope_insufficient', { claim: 'scope', expected: ['admin'], actual: ['read'] }));
  boundRecord(record);
  summarizeFindings(record);
  check(record.codes === 'scope_insufficient' && record.sub === 'warm');
}

/**
 * warmStages at load, never failing the load: a stage that throws costs its warmth, nothing else. Returns
 * null, or which stage failed and how, for the entry point to report once (src/index.ts). `stages` is
 * warmStages; tests pass one that fails.
 */
export function warmRequestPath(stages: (progress: WarmProgress) => void = warmStages): string | null {
  const progress: WarmProgress = { stage: '' };
  try {
    stages(progress);
    return null;
  } catch (error) {
    return `${progress.stage || 'start'}: ${error instanceof Error ? `${error.name}: ${error.message}` : 'unknown'}`;
  }
}
