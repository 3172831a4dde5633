/**
 * Local development only: DEBUG_FINDINGS=true adds the finding codes of a denied request to the answer in
 * the `x-debug-findings` header, so a developer sees why without reading the log. Unsafe in production: it
 * tells a caller which check its token failed (an oracle for forging). So it is honoured only for requests
 * to a loopback host (127.0.0.1, localhost, [::1]), which a deployed Worker never receives; elsewhere the
 * header is left out and a warning is logged once per isolate.
 */
import { isLoopbackHost } from '../keys/jwks-fetch.ts';
import type { VerificationRecord } from './record.ts';
import { warn } from './warn.ts';

export const DEBUG_FINDINGS_HEADER = 'x-debug-findings';

let warned = false;

export function addDebugFindings(response: Response, record: VerificationRecord, url: URL): void {
  if (record.outcome !== 'denied' || record.findings.length === 0) return;
  if (!isLoopbackHost(url.hostname)) {
    if (!warned) warn('debug_findings_refused', { reason: 'DEBUG_FINDINGS is set but the request is not to a loopback host' });
    warned = true;
    return;
  }
  // Codes and claim names only: never a claim value, which could be a client's own input echoed back.
  response.headers.set(DEBUG_FINDINGS_HEADER, record.findings.map((f) => (f.claim ? `${f.code};claim=${f.claim}` : f.code)).join(', '));
}
