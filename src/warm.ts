/**
 * Compiles the request path's pure stages when the isolate loads the script, instead of during its first
 * request. V8 compiles a function on its first call, and a cold isolate's first request spends more CPU
 * compiling the gateway's code than running it (BENCHMARKS.md, "Cold start"). A Worker's global scope runs
 * when the isolate starts, before any request (on Cloudflare, while the client's TLS handshake is still
 * under way), but it allows no I/O, crypto, timers, random values or Response: so only the stages that
 * need none of these run here, once, on a synthetic issuer, route, token and key set of this file's own.
 *
 * Nothing they produce is kept, with two deliberate exceptions: the shape gate's judged-header map holds
 * the synthetic header (a pure function of its text, bounded), and the ROCA check's orders are computed
 * (once per isolate in any case). The Gateway, its caches and the key store are never touched.
 */
import type { CompiledConfig, CompiledIssuer, CompiledRoute } from './config/types.ts';
import { finding } from './findings.ts';
import { reuseKey, textBytes } from './forward/assertion-cache.ts';
import { claimHeaders } from './forward/claim-headers.ts';
import { identityHeaders } from './forward/identity-headers.ts';
import { resolveOrigin } from './forward/origin.ts';
import { requestIdOf } from './forward/request-id.ts';
import { sanitizeRequestHeaders } from './forward/sanitize.ts';
import { judgeJwks } from './keys/validate-jwk.ts';
import { boundRecord } from './log/bound.ts';
import { newRecord, recordEvidence, summarizeFindings } from './log/record.ts';
import { canonicalHeaders } from './origin/binding.ts';
import { admit, decide } from './route/mode.ts';
import { RouteTable } from './route/route-table.ts';
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
  settings: { realm: 'warm', identityHeaderPrefix: 'x-verified-', assertion: null, requestIdHeader: 'x-request-id' },
  issuers: { warm: ISSUER },
  routes: [ROUTE],
};

const base64url = (text: string) => bytesToBase64Url(new TextEncoder().encode(text));

/** Every pure stage of an accepted request, in the order the gateway runs them. Throws if one does. */
export function warmStages(): void {
  const now = 1_800_000_000;
  const claims = { iss: ISSUER.issuer, sub: 'warm', aud: ROUTE.audiences[0], app_id: 'warm', scope: 'read write', roles: ['reader'], token_use: 'access', iat: now, exp: now + 600 };
  // A 2048-bit RSA signature's length; its bytes are never checked here.
  const token = `${base64url(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: 'warm' }))}.${base64url(JSON.stringify(claims))}.${'A'.repeat(342)}`;
  const incoming = new Headers({ authorization: `Bearer ${token}`, 'cf-ray': '0123456789abcdef-AMS', 'x-request-id': 'warm', 'x-verified-sub': 'forged' });
  const request = new Request('https://api.warm.invalid/warm/items?x=1', { headers: incoming });
  const url = new URL(request.url);

  const route = new RouteTable(CONFIG.routes).match(request.method, url.hostname, url.pathname);
  if (route !== ROUTE) throw new Error('route');
  const requestId = requestIdOf(incoming, CONFIG.settings.requestIdHeader);
  const record = newRecord(request, url, requestId, now * 1000);
  admit(route, request.method, incoming);
  const extracted = extractBearerToken(incoming);
  if (!extracted.ok) throw new Error('extract');
  const shape = parseTokenShape(extracted.token);
  if (!shape.ok) throw new Error('shape');
  const { header, payload } = shape.token;
  if (issuerFor(route, CONFIG, payload.iss) !== ISSUER) throw new Error('issuer');
  const evidence: Evidence = { kid: header.kid ?? null, alg: header.alg, iss: ISSUER.issuer, keyLayer: 'memory', aud: null, app: null, sub: null, tokenCache: 'miss' };
  noteClaims(evidence, payload, ISSUER);
  const findings = checkClaims({ header, claims: payload, issuer: ISSUER, route, now });
  if (findings.length > 0) throw new Error(`claims: ${findings[0]!.code}`);
  recordEvidence(record, evidence);
  const decision = decide(route, { ok: true, claims: payload, issuer: ISSUER, evidence, token: extracted.token });
  if (decision.kind !== 'forward') throw new Error('decide');

  const headers = sanitizeRequestHeaders(incoming, { identityHeaderPrefix: CONFIG.settings.identityHeaderPrefix, forwardAuthorization: false, assertionHeader: 'x-verified-assertion' });
  const resolved = resolveOrigin(route.forward.origin, url, {} as never);
  if (!resolved.ok) throw new Error('origin');
  const identity = identityHeaders(CONFIG.settings.identityHeaderPrefix, { routeId: route.id, requestId, verified: { claims: payload, appClaim: ISSUER.appClaim } });
  const mapped = claimHeaders(payload, route.forward.claimHeaders);
  const all = [...identity.headers, ...mapped.headers];
  for (const [name, value] of all) headers.set(name, value);
  canonicalHeaders(all);
  textBytes(all, mapped.omitted);
  reuseKey(route.id, { method: request.method, host: resolved.origin.url.host, path: resolved.origin.url.pathname }, extracted.token);

  // The key set's judgement and the ROCA check, on a fixed 2048-bit modulus (no random values at load).
  const modulus = new Uint8Array(256);
  let state = 0x9e3779b9;
  for (let i = 0; i < modulus.length; i++) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    modulus[i] = state >>> 24;
  }
  modulus[0]! |= 0x80;
  modulus[255]! |= 1;
  const keys = judgeJwks({ keys: [{ kty: 'RSA', kid: 'warm', use: 'sig', alg: 'RS256', n: bytesToBase64Url(modulus), e: 'AQAB' }] });
  if (!keys.ok) throw new Error(`jwks: ${keys.reason}`);

  record.findings.push(finding('scope_insufficient', { claim: 'scope', expected: ['admin'], actual: ['read'] }));
  boundRecord(record);
  summarizeFindings(record);
}

/**
 * warmStages at load, never failing the load: a stage that throws costs its warmth, nothing else. Returns
 * null, or what failed, for the entry point to report once from within a request (src/index.ts).
 */
export function warmRequestPath(): string | null {
  try {
    warmStages();
    return null;
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}` : 'unknown';
  }
}
