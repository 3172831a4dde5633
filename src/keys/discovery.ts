/**
 * OIDC discovery: the issuer's openid-configuration names its jwks_uri. The document must name exactly the
 * configured issuer (OIDC Discovery 1.0 section 4.3), or an attacker who controls the document could point
 * the gateway at keys of their choosing; the discovered jwks_uri obeys the same https-only rule.
 */
import { boundValue } from '../log/bound.ts';
import type { MaxAgeBounds } from './jwks-fetch.ts';
import { fetchBoundedJson, isAllowedKeyUrl } from './jwks-fetch.ts';

export type DiscoveryResult = { ok: true; jwksUri: string; maxAgeSeconds: number } | { ok: false; reason: string };

/** A value from the document, bounded like every logged value and quoted, so the log shows what was wrong. */
const shown = (value: unknown) => JSON.stringify(boundValue(value));

export async function fetchDiscovery(url: string, expectedIssuer: string, allowLoopbackHttp: boolean, bounds: MaxAgeBounds): Promise<DiscoveryResult> {
  const fetched = await fetchBoundedJson(url, allowLoopbackHttp, 'application/json', bounds);
  if (!fetched.ok) return { ok: false, reason: `discovery: ${fetched.reason}` };
  const document = fetched.body as { issuer?: unknown; jwks_uri?: unknown } | null;
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return { ok: false, reason: 'discovery: not a JSON object' };
  if (document.issuer !== expectedIssuer) return { ok: false, reason: `discovery: issuer ${shown(document.issuer)} is not the configured issuer` };
  if (typeof document.jwks_uri !== 'string') return { ok: false, reason: 'discovery: no jwks_uri' };
  let jwksUrl: URL;
  try {
    jwksUrl = new URL(document.jwks_uri);
  } catch {
    return { ok: false, reason: 'discovery: jwks_uri is not a URL' };
  }
  if (!isAllowedKeyUrl(jwksUrl, allowLoopbackHttp)) return { ok: false, reason: 'discovery: jwks_uri is not https' };
  return { ok: true, jwksUri: jwksUrl.href, maxAgeSeconds: fetched.maxAgeSeconds };
}
