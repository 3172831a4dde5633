/**
 * A cookie is an ambient credential: the browser attaches it to a request another site made it send. So a
 * request authenticated by a cookie that can change something (an unsafe method, or a WebSocket upgrade,
 * which browsers send cross-site with cookies) must show that it comes from the site itself: Fetch Metadata
 * (Sec-Fetch-Site same-origin or same-site, which a page cannot forge), or an Origin the route allows.
 * Pure; a failure is the finding csrf_check_failed (403).
 */
import { CSRF_SAFE_METHODS } from '../config/constants.ts';
import { finding, type Finding } from '../findings.ts';

export function csrfFinding(method: string, headers: Headers, allowedOrigins: readonly string[]): Finding | null {
  const upgrade = headers.get('upgrade');
  if (CSRF_SAFE_METHODS.has(method) && (upgrade === null || upgrade.toLowerCase() !== 'websocket')) return null;
  const site = headers.get('sec-fetch-site');
  if (site === 'same-origin' || site === 'same-site') return null;
  const origin = headers.get('origin');
  if (origin !== null && allowedOrigins.includes(origin)) return null;
  return finding('csrf_check_failed', {
    detail: `cookie-borne token on ${upgrade === null ? method : 'a WebSocket upgrade'}: Sec-Fetch-Site ${site === null ? 'absent' : JSON.stringify(site.slice(0, 32))}, Origin ${origin === null ? 'absent' : 'not allowed'}`,
  });
}
