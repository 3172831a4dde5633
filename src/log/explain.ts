/**
 * `npm run explain`: how the gateway would judge one token on one request, check by check, with the same
 * route table and authenticate() as the Worker. Claim checks (which run together once the signature holds)
 * are listed one by one. Never prints the token: only its fingerprint, the header fields and, once the
 * signature verified, claim values; unverified evidence is bounded as in the log.
 */
import { KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS } from '../config/constants.ts';
import type { CompiledConfig, CompiledRoute } from '../config/types.ts';
import { answerFor, finding, type Finding } from '../findings.ts';
import { decide } from '../route/mode.ts';
import type { KeyStore } from '../keys/key-store.ts';
import { detachedKeys } from '../keys/detached-keys.ts';
import { RouteTable } from '../route/route-table.ts';
import { carrying, sourceLabel } from '../token/sources.ts';
import { authenticate, type CheckName, type TraceStep } from '../verify/authenticate.ts';
import { boundFinding, boundValue } from './bound.ts';
import { formatFinding as formatUnbounded } from './format.ts';

const formatFinding = (f: Finding) => formatUnbounded(boundFinding(f));

export interface ExplainInput {
  config: CompiledConfig;
  keys: KeyStore;
  method: string;
  url: URL;
  token: string;
  now: number;
}

export interface Explanation {
  allowed: boolean;
  lines: string[];
}

const CHECKS: CheckName[] = ['token', 'shape', 'issuer', 'algorithm', 'key', 'signature', 'claims'];
const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };
const TIME_CODES = new Set(['token_expired', 'token_not_yet_valid', 'issued_in_future', 'lifetime_too_long']);

const row = (ok: boolean | null, name: string, text: string) => `  ${ok === null ? '-   ' : ok ? 'PASS' : 'FAIL'}  ${name.padEnd(10)} ${text}`.trimEnd();
const pairs = (evidence: Record<string, unknown>) =>
  Object.entries(evidence)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? (boundValue(v) as string) : JSON.stringify(boundValue(v))}`)
    .join(' ');

/** The claim checks of src/verify/claims.ts in their order, each with the findings that belong to it. */
function claimRows(route: CompiledRoute, config: CompiledConfig, issuerId: string | undefined, findings: readonly Finding[]): string[] {
  const issuer = issuerId ? config.issuers[issuerId] : undefined;
  const appClaim = issuer?.appClaim.join('.') ?? 'app';
  const groups: [string, (f: Finding) => boolean, boolean][] = [
    ['typ', (f) => f.code === 'typ_mismatch', issuer?.typ != null],
    ['iss', (f) => f.code === 'issuer_mismatch', true],
    ['times', (f) => TIME_CODES.has(f.code) || ['exp', 'nbf', 'iat'].includes(f.claim ?? ''), true],
    ['aud', (f) => f.code === 'audience_mismatch' || f.claim === 'aud', true],
    ['app', (f) => f.code === 'app_mismatch' || f.claim === appClaim, route.app !== null],
    ['sub', (f) => f.claim === 'sub', true],
    ['scope', (f) => f.code === 'scope_insufficient', route.scopes.length > 0],
  ];
  const rows: string[] = [];
  const claimed = new Set<Finding>();
  for (const [name, belongs, applies] of groups) {
    const mine = findings.filter((f) => !claimed.has(f) && belongs(f));
    mine.forEach((f) => claimed.add(f));
    if (!applies && mine.length === 0) continue;
    rows.push(row(mine.length === 0, name, mine.map(formatFinding).join('; ') || expectation(name, route, issuer?.typ ?? null, appClaim)));
  }
  // A claim check added later that this list does not know yet still shows.
  for (const f of findings.filter((f) => !claimed.has(f))) rows.push(row(false, f.claim ?? 'claim', formatFinding(f)));
  return rows;
}

function expectation(name: string, route: CompiledRoute, typ: string | null, appClaim: string): string {
  switch (name) {
    case 'typ':
      return `typ is ${typ}`;
    case 'times':
      return 'exp, nbf, iat and lifetime within bounds';
    case 'aud':
      return `aud holds one of ${JSON.stringify(route.audiences)}`;
    case 'app':
      return `${appClaim} is ${JSON.stringify(route.app)}`;
    case 'scope':
      return `scopes include ${JSON.stringify(route.scopes)}`;
    default:
      return `${name} present and valid`;
  }
}

function answerLines(findings: readonly Finding[], route: CompiledRoute | null, config: CompiledConfig): string[] {
  const response = answerFor(findings, {
    realm: config.settings.realm,
    requestId: 'explain',
    requiredScopes: route?.scopes ?? [],
    retryAfterSeconds: KEYS_UNAVAILABLE_RETRY_AFTER_SECONDS,
  });
  const lines = [`answer    ${response.status} ${STATUS_TEXT[response.status] ?? ''}`.trimEnd()];
  for (const name of ['www-authenticate', 'retry-after']) {
    const value = response.headers.get(name);
    if (value !== null) lines.push(`          ${name}: ${value}`);
  }
  return lines;
}

export async function explain({ config, keys, method, url, token, now }: ExplainInput): Promise<Explanation> {
  const lines = [`request   ${method} ${url.host}${url.pathname}`];
  const route = new RouteTable(config.routes).match(method, url.hostname, url.pathname) ?? null;
  if (!route) {
    lines.push(row(false, 'route', formatFinding(finding('route_not_found'))), ...answerLines([finding('route_not_found')], null, config));
    return { allowed: false, lines };
  }
  lines.push(`route     ${route.id} (${route.file}), mode ${route.mode}, issuers ${route.issuers.join(', ')}`);
  if (route.mode === 'public') {
    lines.push('  PASS  route      public: no token is checked', `answer    forwarded to ${route.origin}`);
    return { allowed: true, lines };
  }

  const steps: TraceStep[] = [];
  let issuerId: string | undefined;
  // The token as a client would send it to this route: in its first token source.
  const sources = route.tokenSources ?? [{ kind: 'authorization' } as const];
  const carried = carrying(sources[0]!, token);
  if (route.tokenSources) lines.push(`source    ${sources.map(sourceLabel).join(', then ')}: judged as sent in ${sourceLabel(sources[0]!)}`);
  const result = await authenticate({
    headers: carried.headers,
    search: carried.search,
    method,
    route,
    config,
    keys: detachedKeys(keys),
    now,
    // The route's path variables as the route table matched them (the Worker reads them through every reading: src/route/resolve.ts).
    ...(route.path.variables && { pathVariables: Object.fromEntries(route.path.variables.map((v) => [v.name, url.pathname.split('/')[v.segment] ?? ''])) }),
    trace: (step) => {
      steps.push(step);
      if (step.check === 'issuer' && step.ok) issuerId = step.evidence.issuer as string;
    },
  });
  for (const check of CHECKS) {
    const step = steps.find((s) => s.check === check);
    if (check === 'claims' && step) lines.push(...claimRows(route, config, issuerId, step.findings));
    else if (step) lines.push(row(step.ok, check, step.ok ? pairs(step.evidence) : step.findings.map(formatFinding).join('; ')));
    else lines.push(row(null, check, 'not reached'));
  }
  if (result.evidence.tokenFingerprint) lines.push(`token_fp  ${result.evidence.tokenFingerprint} (the record's token_fp for this token)`);
  // The mode decides as in the Worker: report-only forwards what enforce would deny, optional forwards no token.
  const decision = decide(route, result);
  if (decision.kind === 'deny') {
    lines.push(...answerLines(decision.findings, route, config));
    return { allowed: false, lines };
  }
  lines.push(`answer    forwarded to ${route.origin}${decision.outcome === 'allowed' ? '' : ` (${decision.outcome})`}`);
  if (decision.outcome === 'report_only') lines.push(...answerLines(decision.findings, route, config).map((line) => `  enforce would: ${line.trim()}`));
  return { allowed: true, lines };
}
