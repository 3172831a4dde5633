/**
 * Policy files -> the compiled configuration. Runs at build time (scripts/compile-policies.ts, the
 * wrangler build command, `npm run check`) and in tests; never per request. Pure: file texts in, a
 * config or a list of errors out, each naming the file, the JSON path inside it and what is wrong.
 */
import { Validator } from '@cfworker/json-schema';
import type { JWK } from 'jose';
import { findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { DEFAULT_CLOCK_SKEW_SECONDS, DEFAULT_IDENTITY_HEADER_PREFIX, DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, DEFAULT_REALM } from './constants.ts';
import schema from './policy.schema.json' with { type: 'json' };
import { schemaErrors } from './schema-errors.ts';
import {
  COMPILED_CONFIG_VERSION,
  type Algorithm,
  type CompiledConfig,
  type CompiledIssuer,
  type CompiledRoute,
  type CompiledSettings,
  type KeyCachePolicy,
  type LogSubjectMode,
  type PathPattern,
  type PathVariable,
} from './types.ts';
import { isAllowedKeyUrl } from '../keys/jwks-fetch.ts';
import { DEFAULT_KEY_CACHE_POLICY } from '../keys/key-cache-policy.ts';
import { judgeJwk } from '../keys/validate-jwk.ts';
import { normalizeTyp } from '../verify/claims.ts';
import { compileAssertion, compileForwarding, compileOrigin, type AssertionSource, type ForwardingSource, type OriginSource } from '../forward/compile-forward.ts';
import { CREDENTIAL_HEADERS, identityPrefixProblem } from '../forward/reserved-headers.ts';
import { compileClaimRules, toClaimPath, type ClaimRuleSource } from './compile-claims.ts';
import { compileTokenSources, routeTokenSources, type TokenSourceContext, type TokenSourceSource } from './compile-token-sources.ts';
import { expandIssuerPreset, routeAppProblem, type PresetName, type PresetParams } from './presets.ts';
import { checkForwardedSpaces, checkPrecedence } from './route-checks.ts';
import { compileCors, type CorsSource } from './compile-cors.ts';
import { compileOriginByClaim, type OriginByClaimSource } from './compile-origin-choice.ts';
import { compileTenancy, type TenancySource } from './compile-tenancy.ts';
import { canonicalPath, type PathAmbiguity } from '../request/canonical-path.ts';

export interface PolicySource {
  /** As shown in errors, e.g. "policies/demo.jsonc". */
  file: string;
  text: string;
}

export interface PolicyError {
  file: string;
  /** JSON Pointer into the file, "" for the whole file. */
  path: string;
  line: number;
  column: number;
  message: string;
}

export type CompileResult = { ok: true; config: CompiledConfig } | { ok: false; errors: PolicyError[] };

/** The policy file as the schema describes it; the schema has been checked before these are read. */
interface IssuerSource extends PresetParams, TenancySource {
  issuer?: string;
  preset?: PresetName;
  secret_binding?: string;
  audience_claim?: string | string[];
  claims?: ClaimRuleSource[];
  jwks_uri?: string;
  keys?: Record<string, unknown>[];
  discovery?: true;
  key_cache?: { min_seconds?: number; max_seconds?: number; stale_if_error_seconds?: number };
  algorithms?: Algorithm[];
  app_claim?: string | string[];
  clock_skew_seconds?: number;
  max_lifetime_seconds?: number;
  typ?: string;
  token_sources?: TokenSourceSource[];
}
interface RouteSource extends ForwardingSource {
  path: string;
  host?: string;
  methods?: string[];
  mode?: 'enforce' | 'report-only' | 'optional' | 'public';
  claims?: ClaimRuleSource[];
  cors_preflight?: boolean;
  allow_in_path?: PathAmbiguity[];
  issuers?: string[];
  audiences?: string[];
  app?: string;
  scopes?: string[];
  scopes_any?: string[];
  forward_authorization?: boolean;
  token_sources?: TokenSourceSource[];
  csrf_origins?: string[];
  cors?: CorsSource;
  origin_by_claim?: OriginByClaimSource;
  rate_limit?: { binding: string; key?: (string | string[])[]; mode?: 'enforce' | 'report-only'; period_seconds?: 10 | 60 };
}
interface PolicyFile {
  settings?: { realm?: string; identity_header_prefix?: string; default_origin?: OriginSource; log_subject?: LogSubjectMode; log_allowed?: number; assertion?: AssertionSource; request_id_header?: string; strip_headers?: string[] };
  issuers?: Record<string, IssuerSource>;
  routes?: Record<string, RouteSource>;
}

const validator = new Validator(schema as object, '2020-12', false);

class ErrorList {
  readonly errors: PolicyError[] = [];
  readonly #trees = new Map<string, { text: string; root: ReturnType<typeof parseTree> }>();

  addFile(file: string, text: string, root: ReturnType<typeof parseTree>) {
    this.#trees.set(file, { text, root });
  }

  add(file: string, path: string, message: string, offset?: number) {
    const tree = this.#trees.get(file);
    let at = offset;
    if (at === undefined && tree?.root) {
      const segments = path.split('/').slice(1).map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~')));
      // The deepest node that exists (an error about a missing field points at its parent), at its key when it has one.
      for (let n = segments.length; n >= 0 && at === undefined; n--) {
        const node = findNodeAtLocation(tree.root, segments.slice(0, n));
        at = node?.parent?.type === 'property' ? node.parent.offset : node?.offset;
      }
    }
    const { line, column } = lineAndColumn(tree?.text ?? '', at ?? 0);
    this.errors.push({ file, path, line, column, message });
  }
}

type TreeNode = NonNullable<ReturnType<typeof parseTree>>;

/**
 * Keys given twice in one object. A JSON reader keeps the last (a second "billing" route silently replaces
 * the first, a second "mode" wins): refused, like the same route id in two files.
 */
function duplicateKeys(root: TreeNode): { path: string; offset: number; key: string }[] {
  const found: { path: string; offset: number; key: string }[] = [];
  const walk = (node: TreeNode, path: (string | number)[]) => {
    if (node.type === 'object') {
      const seen = new Set<string>();
      for (const property of node.children ?? []) {
        const [keyNode, valueNode] = property.children ?? [];
        const key = String(keyNode?.value);
        if (seen.has(key)) found.push({ path: pointer(...path, key), offset: property.offset, key });
        seen.add(key);
        if (valueNode) walk(valueNode, [...path, key]);
      }
    } else if (node.type === 'array') {
      (node.children ?? []).forEach((child, i) => walk(child, [...path, i]));
    }
  };
  walk(root, []);
  return found;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

const pointer = (...parts: (string | number)[]) => parts.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

/** A path variable: one whole segment, `{name}`. */
const VARIABLE_SEGMENT = /^\{([a-z][a-z0-9_]{0,31})\}$/;

function compilePath(path: string): PathPattern | string {
  if (path === '/*') return { kind: 'prefix', value: '' };
  const prefix = path.endsWith('/*');
  const body = prefix ? path.slice(0, -2) : path;
  if (body.includes('*')) return '"*" may only end a path, as "/prefix/*"';
  if (/\/\/|\/\.\.?(\/|$)/.test(body)) return 'empty, "." or ".." segments never match a normalized URL path';
  if (/[?#\s]/.test(body)) return 'a path pattern has no query, fragment or whitespace';
  if (!prefix && body.length > 1 && body.endsWith('/')) return 'a trailing "/" would only match that exact spelling; write "/path" or "/path/*"';
  // Variables are whole segments; checked for canonical form as a plain segment would be, since requests never spell "{".
  const variables: PathVariable[] = [];
  const segments = body.split('/');
  for (const [index, segment] of segments.entries()) {
    const variable = VARIABLE_SEGMENT.exec(segment);
    if (variable) {
      if (variables.some((v) => v.name === variable[1])) return `the variable {${variable[1]}} appears twice`;
      variables.push({ name: variable[1]!, segment: index });
      segments[index] = 'x';
    } else if (/[{}]/.test(segment)) {
      return 'a path variable is a whole segment, "{name}" (lower case, digits, "_"), as in "/tenants/{tenant}/*"';
    }
  }
  const plain = segments.join('/');
  // Requests are matched in canonical form (src/request/canonical-path.ts): a pattern in another form would never match.
  const canonical = canonicalPath(plain || '/');
  if (!canonical.ok) return `not a path the gateway accepts: ${canonical.reason}`;
  if (canonical.path !== (plain || '/') || canonical.ambiguities.length > 0) return `write the path in canonical form, as requests are matched: ${JSON.stringify(canonical.path + (prefix ? '/*' : ''))} (escapes of plain characters decoded, hex in upper case, no ";")`;
  return { kind: prefix ? 'prefix' : 'exact', value: body, ...(variables.length > 0 && { variables }) };
}

function compileHost(host: string): string | null {
  const lower = host.toLowerCase();
  return /^(\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+$/.test(lower) ? lower : null;
}

function checkUrl(value: string, what: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${what} is not a URL`;
  }
  if (url.search || url.hash || url.username || url.password) return `${what} may not carry a query, fragment or credentials`;
  return null;
}

/** OIDC Discovery 1.0 section 4: the configuration document lives here below the issuer (its trailing "/" removed). */
const OIDC_CONFIGURATION_PATH = '/.well-known/openid-configuration';

/** A URL keys are fetched from: https, or http to loopback (which the runtime still refuses outside local development). */
function keyUrl(value: string, what: string, path: string, file: string, errors: ErrorList): string | null {
  const problem = checkUrl(value, what);
  if (problem) {
    errors.add(file, path, problem);
    return null;
  }
  const url = new URL(value);
  // The runtime's rule with loopback allowed: whether a deployment allows it is decided when the Worker runs.
  if (!isAllowedKeyUrl(url, true)) {
    errors.add(file, path, 'must be https (plain http is allowed for loopback in local development only)');
    return null;
  }
  return url.href;
}

function compileKeyCache(source: NonNullable<IssuerSource['key_cache']>): KeyCachePolicy {
  return {
    minSeconds: source.min_seconds ?? DEFAULT_KEY_CACHE_POLICY.minSeconds,
    maxSeconds: source.max_seconds ?? DEFAULT_KEY_CACHE_POLICY.maxSeconds,
    staleIfErrorSeconds: source.stale_if_error_seconds ?? DEFAULT_KEY_CACHE_POLICY.staleIfErrorSeconds,
  };
}

function compileIssuer(id: string, source: IssuerSource, file: string, errors: ErrorList, sourceContext: TokenSourceContext): CompiledIssuer | null {
  const at = (...p: (string | number)[]) => pointer('issuers', id, ...p);
  const before = errors.errors.length;
  const preset = expandIssuerPreset(source, (field, message) => errors.add(file, field === null ? at() : at(field), message));
  if (preset === null) return null;
  if (preset !== undefined) source = { ...source, issuer: preset.issuer, jwks_uri: preset.jwksUri };
  const claims = [...(preset?.claims ?? []), ...compileClaimRules(source.claims, (index, message) => errors.add(file, at('claims', index), message))];
  let keySource: CompiledIssuer['keySource'] | null = null;
  const hmac = (source.algorithms ?? []).filter((a) => a.startsWith('HS'));
  const sourceCount = [source.jwks_uri, source.keys, source.discovery].filter((v) => v !== undefined).length;
  if (source.issuer === undefined) errors.add(file, at(), 'give "issuer" (the exact iss) or a "preset"');
  if (source.secret_binding !== undefined) {
    if (sourceCount > 0) errors.add(file, at('secret_binding'), 'an HMAC secret is the only key of its issuer: no "jwks_uri", "keys", "discovery" or "preset" with it');
    if (hmac.length === 0 || hmac.length !== source.algorithms!.length) errors.add(file, at('algorithms'), 'an issuer with "secret_binding" needs "algorithms" of HS256, HS384 or HS512 only');
    keySource = { kind: 'secret', binding: source.secret_binding };
  } else if (hmac.length > 0) {
    errors.add(file, at('algorithms', source.algorithms!.indexOf(hmac[0]!)), `${hmac[0]} needs the secret from a Worker secret ("secret_binding"); it is never used with public keys (RFC 8725 section 2.1)`);
  } else if (sourceCount !== 1) {
    errors.add(file, at(), source.discovery ? 'give exactly one of "jwks_uri", "keys" and "discovery"' : 'give exactly one of "jwks_uri" and "keys"');
  } else if (source.discovery) {
    const url = source.issuer === undefined ? null : keyUrl(source.issuer.replace(/\/$/, '') + OIDC_CONFIGURATION_PATH, 'issuer', at('issuer'), file, errors);
    if (url) keySource = { kind: 'discovery', url };
  } else if (source.jwks_uri !== undefined) {
    const url = keyUrl(source.jwks_uri, 'jwks_uri', at('jwks_uri'), file, errors);
    if (url) keySource = { kind: 'jwks', url };
  } else {
    source.keys!.forEach((key, index) => {
      const verdict = judgeJwk(key);
      if (verdict.kind !== 'accepted') errors.add(file, at('keys', index), verdict.reason);
    });
    keySource = { kind: 'inline', keys: source.keys as JWK[] };
  }
  // Only when the policy sets it: the key store applies the defaults otherwise, and the compiled output stays as it was.
  const keyCache = source.key_cache && compileKeyCache(source.key_cache);
  if (keyCache && keyCache.minSeconds > keyCache.maxSeconds) errors.add(file, at('key_cache'), 'min_seconds is larger than max_seconds');
  // A setting that would do nothing is refused, not ignored: only fetched key sets are cached.
  if (keyCache && (keySource?.kind === 'inline' || keySource?.kind === 'secret')) {
    errors.add(file, at('key_cache'), `"key_cache" applies to keys fetched from "jwks_uri" or "discovery"; this issuer's keys are ${keySource.kind === 'inline' ? 'inline ("keys")' : 'a Worker secret'}`);
  }
  const tokenSources = source.token_sources === undefined ? preset?.tokenSources
    : compileTokenSources(source.token_sources, sourceContext, (index, message) => errors.add(file, at('token_sources', index), message));
  const tenancy = compileTenancy(source, preset?.tenantClaim, (field, message) => errors.add(file, field === null ? at() : at(field), message));
  if (errors.errors.length > before || keySource === null || source.issuer === undefined) return null;
  const typ = source.typ ?? preset?.typ;
  return {
    id,
    issuer: source.issuer,
    keySource,
    ...(keyCache && { keyCache }),
    algorithms: source.algorithms ?? ['RS256'],
    appClaim: source.app_claim !== undefined ? toClaimPath(source.app_claim) : (preset?.appClaim ?? ['app_id']),
    clockSkewSeconds: source.clock_skew_seconds ?? DEFAULT_CLOCK_SKEW_SECONDS,
    maxLifetimeSeconds: source.max_lifetime_seconds ?? preset?.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
    typ: typ === undefined ? null : normalizeTyp(typ),
    ...(preset?.issAliases ? { issAliases: preset.issAliases } : {}),
    ...(source.audience_claim !== undefined || preset?.audienceClaim ? { audienceClaim: source.audience_claim !== undefined ? toClaimPath(source.audience_claim) : preset!.audienceClaim! } : {}),
    ...(claims.length > 0 ? { claims } : {}),
    ...(source.preset ? { preset: source.preset } : {}),
    ...(tokenSources ? { tokenSources } : {}),
    ...(preset?.serviceSubject ? { serviceSubject: preset.serviceSubject } : {}),
    ...(tenancy && { tenancy }),
  };
}

function compileRoute(
  id: string,
  source: RouteSource,
  file: string,
  /** Every issuer id the policies declare, compiled or not: a broken issuer is reported once, where it is. */
  declaredIssuers: ReadonlyMap<string, string>,
  defaultOrigin: OriginSource | undefined,
  settings: CompiledSettings,
  errors: ErrorList,
): CompiledRoute | null {
  const at = (...p: (string | number)[]) => pointer('routes', id, ...p);
  const before = errors.errors.length;
  const path = compilePath(source.path);
  if (typeof path === 'string') errors.add(file, at('path'), path);
  const host = source.host === undefined ? null : compileHost(source.host);
  if (source.host !== undefined && host === null) errors.add(file, at('host'), 'not a host name or "*.domain"');
  const mode = source.mode ?? 'enforce';
  if (mode === 'public') {
    for (const field of ['issuers', 'audiences', 'app', 'scopes', 'scopes_any', 'claims', 'cors', 'rate_limit'] as const) {
      if (source[field] !== undefined) errors.add(file, at(field), `a public route checks no token, so "${field}" would never be enforced`);
    }
    if (source.cors_preflight !== undefined) errors.add(file, at('cors_preflight'), 'a public route forwards every request, preflights included; "cors_preflight" would change nothing');
    for (const field of ['token_sources', 'csrf_origins'] as const) {
      if (source[field] !== undefined) errors.add(file, at(field), `a public route reads no token, so "${field}" would change nothing`);
    }
  } else {
    if (!source.issuers) errors.add(file, at(), `a route in mode "${mode}" needs "issuers"`);
    if (!source.audiences) errors.add(file, at(), `a route in mode "${mode}" needs "audiences" (RFC 8725 section 3.9)`);
    source.issuers?.forEach((issuerId, index) => {
      if (!declaredIssuers.has(issuerId)) errors.add(file, at('issuers', index), `no issuer "${issuerId}" is defined in policies/`);
    });
  }
  const variables = typeof path === 'string' ? [] : (path.variables ?? []);
  const claims = compileClaimRules(source.claims, (index, message) => errors.add(file, at('claims', index), message), variables);
  // A variable no claim is bound to would let every tenant's token reach every tenant's paths.
  for (const variable of typeof path === 'string' ? [] : variables) {
    if (!claims.some((rule) => rule.test.kind === 'equals_path_variable' && rule.test.variable === variable.name)) {
      errors.add(file, at('path'), `the path variable {${variable.name}} is bound to no claim: add to "claims" a rule { "claim": "<claim>", "equals_path_variable": "${variable.name}" }${mode === 'public' ? ' (a public route checks no token: give it a literal path)' : ''}`);
    }
  }
  const tokenSources = source.token_sources && compileTokenSources(source.token_sources, tokenSourceContext(settings), (index, message) => errors.add(file, at('token_sources', index), message));
  const cors = source.cors && compileCors(source.cors, source, (p, message) => errors.add(file, at('cors', ...p), message));
  const byClaim = source.origin_by_claim && compileOriginByClaim(source, mode, checkUrl, (p, message) => errors.add(file, at(...p), message));
  const originSource = byClaim ? Object.values(source.origin_by_claim!.origins)[0] : (source.origin ?? defaultOrigin);
  if (originSource === undefined) errors.add(file, at(), 'no "origin", and settings has no "default_origin"');
  const origin = byClaim === null || originSource === undefined ? null
    : byClaim ? { target: Object.values(byClaim.targets)[0]!, display: byClaim.display }
    : compileOrigin(originSource, checkUrl, (message, field) => errors.add(file, source.origin === undefined ? at() : at('origin', ...(field ? [field] : [])), message));
  const forward = origin && compileForwarding(source, origin, {
    routeId: id,
    app: source.app ?? null,
    verifiesTokens: mode !== 'public',
    prefix: settings.identityHeaderPrefix,
    assertionHeader: settings.assertion?.header ?? null,
  }, (p, message) => errors.add(file, at(...p), message));
  if (errors.errors.length > before || typeof path === 'string' || origin === null || forward === null) return null;
  if (byClaim) forward.originByClaim = { claim: byClaim.claim, targets: byClaim.targets };
  return {
    id,
    file,
    host,
    path,
    methods: source.methods ?? null,
    mode,
    issuers: source.issuers ?? [],
    audiences: source.audiences ?? [],
    app: source.app ?? null,
    scopes: source.scopes ?? [],
    ...(source.scopes_any && { scopesAny: source.scopes_any }),
    origin: origin.display,
    forwardAuthorization: source.forward_authorization ?? false,
    forward,
    ...(claims.length > 0 ? { claims } : {}),
    ...(source.cors_preflight ? { corsPreflight: true } : {}),
    ...(source.allow_in_path && source.allow_in_path.length > 0 ? { allowInPath: source.allow_in_path } : {}),
    // The route's own list for now; compilePolicies merges its issuers' where it has none (resolveTokenSources).
    ...(tokenSources ? { tokenSources } : {}),
    // Serialized as browsers send Origin (lower case, no default port), or an allowed origin would never match.
    ...(source.csrf_origins ? { csrfOrigins: source.csrf_origins.map((origin) => new URL(origin).origin) } : {}),
    ...(cors && { cors }),
    ...(source.rate_limit && {
      rateLimit: {
        binding: source.rate_limit.binding,
        key: (source.rate_limit.key ?? DEFAULT_RATE_LIMIT_KEY).map(toClaimPath),
        mode: source.rate_limit.mode ?? 'enforce',
        retryAfterSeconds: source.rate_limit.period_seconds ?? 60,
      },
    }),
  };
}

const tokenSourceContext = (settings: CompiledSettings): TokenSourceContext => ({
  identityHeaderPrefix: settings.identityHeaderPrefix,
  assertionHeader: settings.assertion?.header ?? null,
  requestIdHeader: settings.requestIdHeader,
});

/** Each route's sources: its own, else its issuers' (compile-token-sources.ts); csrf_origins only where a cookie can carry the token. */
function resolveTokenSources(routes: CompiledRoute[], issuers: Record<string, CompiledIssuer>, report: (route: CompiledRoute, field: string, message: string) => void): void {
  for (const route of routes) {
    const sources = routeTokenSources(route.tokenSources, route.issuers.map((id) => issuers[id]?.tokenSources));
    if (route.tokenSources === undefined && sources !== undefined) route.tokenSourcesFromIssuers = true;
    if (sources === undefined) delete route.tokenSources;
    else route.tokenSources = sources;
    if (route.csrfOrigins && !sources?.some((s) => s.kind === 'cookie')) report(route, 'csrf_origins', 'no cookie carries this route\'s token, so "csrf_origins" would change nothing');
  }
}

/** One budget per subject of one issuer: sub alone is only unique within its issuer. */
const DEFAULT_RATE_LIMIT_KEY = ['iss', 'sub'];

export function compilePolicies(sources: readonly PolicySource[]): CompileResult {
  const errors = new ErrorList();
  const files: { file: string; policy: PolicyFile }[] = [];
  for (const { file, text } of sources) {
    const parseErrors: ParseError[] = [];
    const root = parseTree(text, parseErrors, { allowTrailingComma: true, disallowComments: false });
    errors.addFile(file, text, root);
    if (parseErrors.length > 0 || !root) {
      for (const e of parseErrors) errors.add(file, '', `syntax: ${printParseErrorCode(e.error)}`, e.offset);
      if (parseErrors.length === 0) errors.add(file, '', 'empty file');
      continue;
    }
    const duplicates = duplicateKeys(root);
    for (const { path, offset, key } of duplicates) {
      errors.add(file, path, `duplicate key "${key}": only one of the two would count, silently`, offset);
    }
    if (duplicates.length > 0) continue;
    const value: unknown = getNodeValue(root);
    const result = validator.validate(value);
    if (!result.valid) {
      const found = schemaErrors(result.errors, schema, value);
      for (const e of found) errors.add(file, e.path, e.message);
      // Fail closed: a file the schema refused is never left out silently, even if no error could be shaped.
      if (found.length === 0) errors.add(file, '', 'does not match the policy schema');
      continue;
    }
    files.push({ file, policy: value as PolicyFile });
  }
  if (errors.errors.length > 0) return { ok: false, errors: errors.errors };

  const withSettings = files.filter((f) => f.policy.settings !== undefined);
  for (const extra of withSettings.slice(1)) {
    errors.add(extra.file, '/settings', `settings are already given in ${withSettings[0]!.file}; give them in one file only`);
  }
  const settingsSource = withSettings[0]?.policy.settings ?? {};
  // Only reached with a settings block: the defaults alone have nothing to report.
  const reportSetting = (path: (string | number)[], message: string) => errors.add(withSettings[0]!.file, pointer('settings', ...path), message);
  const requestIdHeader = settingsSource.request_id_header ?? null;
  if (requestIdHeader !== null && CREDENTIAL_HEADERS.includes(requestIdHeader)) {
    reportSetting(['request_id_header'], `"${requestIdHeader}" carries credentials: its value would be logged, sent to the origin and answered in error bodies`);
  }
  const identityHeaderPrefix = settingsSource.identity_header_prefix ?? DEFAULT_IDENTITY_HEADER_PREFIX;
  const prefixProblem = identityPrefixProblem(identityHeaderPrefix);
  if (prefixProblem !== null) reportSetting(['identity_header_prefix'], prefixProblem);
  if (requestIdHeader !== null && requestIdHeader.startsWith(identityHeaderPrefix)) {
    reportSetting(['request_id_header'], `"${requestIdHeader}" is in the identity namespace "${identityHeaderPrefix}": the gateway removes it from every request as forged, so the origin would never see the client's id`);
  }
  const settings: CompiledSettings = {
    realm: settingsSource.realm ?? DEFAULT_REALM,
    identityHeaderPrefix,
    assertion: compileAssertion(settingsSource.assertion, { prefix: identityHeaderPrefix, requestIdHeader }, (path, message) => reportSetting(['assertion', ...path], message)),
    requestIdHeader,
    // Only when set, so a policy without it compiles exactly as before; the log reads a missing mode as "plain".
    ...(settingsSource.log_subject !== undefined && { logSubject: settingsSource.log_subject }),
    // Likewise: absent means every allowed request's record is written.
    ...(settingsSource.log_allowed !== undefined && { logAllowed: settingsSource.log_allowed }),
    ...(settingsSource.strip_headers !== undefined && { stripHeaders: settingsSource.strip_headers }),
  };

  const issuers: Record<string, CompiledIssuer> = {};
  const issuerFile = new Map<string, string>();
  for (const { file, policy } of files) {
    for (const [id, source] of Object.entries(policy.issuers ?? {})) {
      if (issuerFile.has(id)) {
        errors.add(file, pointer('issuers', id), `issuer "${id}" is already defined in ${issuerFile.get(id)}`);
        continue;
      }
      issuerFile.set(id, file);
      const issuer = compileIssuer(id, source, file, errors, tokenSourceContext(settings));
      if (issuer) issuers[id] = issuer;
    }
  }

  const routes: CompiledRoute[] = [];
  const routeFile = new Map<string, string>();
  for (const { file, policy } of files) {
    for (const [id, source] of Object.entries(policy.routes ?? {})) {
      if (routeFile.has(id)) {
        errors.add(file, pointer('routes', id), `route "${id}" is already defined in ${routeFile.get(id)}`);
        continue;
      }
      routeFile.set(id, file);
      const route = compileRoute(id, source, file, issuerFile, settingsSource.default_origin, settings, errors);
      if (route) routes.push(route);
      // A route's app that its issuer's preset can never match (a list claim) fails here, not on every request.
      for (const issuerId of source.app === undefined ? [] : (source.issuers ?? [])) {
        const problem = issuers[issuerId] && routeAppProblem(issuers[issuerId]);
        if (problem) errors.add(file, pointer('routes', id, 'app'), problem);
      }
    }
  }
  const reportRoute = (route: CompiledRoute, message: string) => errors.add(route.file, pointer('routes', route.id), message);
  resolveTokenSources(routes, issuers, (route, field, message) => errors.add(route.file, pointer('routes', route.id, field), message));
  checkPrecedence(routes, reportRoute);
  checkForwardedSpaces(routes, reportRoute);
  if (errors.errors.length > 0) return { ok: false, errors: errors.errors };
  routes.sort((a, b) => (a.id < b.id ? -1 : 1));
  return { ok: true, config: { version: COMPILED_CONFIG_VERSION, settings, issuers, routes } };
}

export function formatPolicyError(e: PolicyError): string {
  return `${e.file}:${e.line}:${e.column}: ${e.path || '(file)'}: ${e.message}`;
}
