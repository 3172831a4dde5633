/** The one place the gateway fetches an issuer's key set: bounded in time and size, no redirects, HTTPS only. */
import {
  DEFAULT_JWKS_MAX_AGE_SECONDS,
  JWKS_FETCH_TIMEOUT_MS,
  MAX_JWKS_BYTES,
  MAX_JWKS_MAX_AGE_SECONDS,
  MIN_JWKS_MAX_AGE_SECONDS,
} from '../config/constants.ts';
import type { JWK } from 'jose';
import { readCapped } from '../lib/read-capped.ts';
import { judgeJwks } from './validate-jwk.ts';

export type JwksFetchResult = { ok: true; keys: JWK[]; maxAgeSeconds: number; skipped: string[] } | { ok: false; reason: string };

export const isLoopbackHost = (hostname: string): boolean =>
  hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);

/** Plain http is allowed only to loopback, and only when the deployment says it is local development. */
export function isAllowedKeyUrl(url: URL, allowLoopbackHttp: boolean): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && allowLoopbackHttp && isLoopbackHost(url.hostname);
}

/** Lifetime bounds for one issuer's documents; the defaults are the gateway-wide clamp. */
export interface MaxAgeBounds {
  minSeconds: number;
  maxSeconds: number;
}

const DEFAULT_BOUNDS: MaxAgeBounds = { minSeconds: MIN_JWKS_MAX_AGE_SECONDS, maxSeconds: MAX_JWKS_MAX_AGE_SECONDS };

export function maxAgeFrom(cacheControl: string | null, bounds: MaxAgeBounds = DEFAULT_BOUNDS): number {
  const match = cacheControl === null ? null : /(?:^|,)\s*max-age\s*=\s*"?(\d{1,10})"?\s*(?:,|$)/i.exec(cacheControl);
  const seconds = match ? Number(match[1]) : DEFAULT_JWKS_MAX_AGE_SECONDS;
  return Math.min(bounds.maxSeconds, Math.max(bounds.minSeconds, seconds));
}

/** A bounded JSON document from an issuer: the body and the clamped lifetime its Cache-Control asks for. */
export type BoundedJsonResult = { ok: true; body: unknown; maxAgeSeconds: number } | { ok: false; reason: string };

/** GET `url` under the key-fetch rules: https (or dev loopback http), timeout, no redirects, size cap, JSON. */
export async function fetchBoundedJson(url: string, allowLoopbackHttp: boolean, accept: string, bounds: MaxAgeBounds = DEFAULT_BOUNDS): Promise<BoundedJsonResult> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  if (!isAllowedKeyUrl(parsed, allowLoopbackHttp)) return { ok: false, reason: 'URL is not https' };
  let response: Response;
  try {
    response = await fetch(parsed, { headers: { accept }, redirect: 'manual', signal: AbortSignal.timeout(JWKS_FETCH_TIMEOUT_MS) });
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return { ok: false, reason: timedOut ? 'timed out' : 'network error' };
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    return { ok: false, reason: response.status >= 300 && response.status < 400 ? `redirect (${response.status}) refused` : `status ${response.status}` };
  }
  let bytes: Uint8Array | null;
  try {
    bytes = await readCapped(response.body, response.headers, MAX_JWKS_BYTES);
  } catch {
    // The connection broke (or the timeout fired) while the body was streaming.
    return { ok: false, reason: 'network error while reading the body' };
  }
  if (bytes === null) return { ok: false, reason: `larger than ${MAX_JWKS_BYTES} bytes` };
  const text = new TextDecoder().decode(bytes);
  try {
    return { ok: true, body: JSON.parse(text), maxAgeSeconds: maxAgeFrom(response.headers.get('cache-control'), bounds) };
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
}

export async function fetchJwks(url: string, allowLoopbackHttp: boolean, bounds: MaxAgeBounds = DEFAULT_BOUNDS): Promise<JwksFetchResult> {
  const fetched = await fetchBoundedJson(url, allowLoopbackHttp, 'application/jwk-set+json, application/json', bounds);
  if (!fetched.ok) return fetched.reason === 'URL is not https' ? { ok: false, reason: 'JWKS URL is not https' } : fetched;
  const verdict = judgeJwks(fetched.body);
  if (!verdict.ok) return { ok: false, reason: verdict.reason };
  return { ok: true, keys: verdict.keys, skipped: verdict.skipped, maxAgeSeconds: fetched.maxAgeSeconds };
}
