/**
 * One verification record per request, logged as a JSON object so Workers Logs indexes every field.
 * It never holds the token, a signature, an Authorization or Cookie value, or a secret.
 */
import type { Finding } from '../findings.ts';
import type { KeyLayer } from '../keys/key-store.ts';
import type { Evidence } from '../verify/authenticate.ts';

export const RECORD_VERSION = 1;

export type Outcome = 'allowed' | 'denied' | 'public' | 'error';

export interface VerificationRecord {
  v: typeof RECORD_VERSION;
  time: string;
  request_id: string;
  route: string | null;
  method: string;
  host: string;
  /** The path only: a query string can carry secrets (access_token=, signatures of pre-signed URLs). */
  path: string;
  mode: string | null;
  outcome: Outcome;
  status: number;
  findings: Finding[];
  iss: string | null;
  aud: string | string[] | null;
  app: string | null;
  sub: string | null;
  kid: string | null;
  alg: string | null;
  key_layer: KeyLayer | null;
  /** Whether the verified-token cache answered ("hit": no signature was verified for this request). */
  token_cache: 'hit' | 'miss' | null;
  latency_ms: number;
  origin_status: number | null;
  /** Why the gateway itself could not answer as planned (origin unreachable, an internal fault); never client detail. */
  error: string | null;
}

export function newRecord(request: Request, url: URL, requestId: string, started: number): VerificationRecord {
  return {
    v: RECORD_VERSION,
    time: new Date(started).toISOString(),
    request_id: requestId,
    route: null,
    method: request.method,
    host: url.hostname,
    path: url.pathname,
    mode: null,
    outcome: 'denied',
    status: 0,
    findings: [],
    iss: null,
    aud: null,
    app: null,
    sub: null,
    kid: null,
    alg: null,
    key_layer: null,
    token_cache: null,
    latency_ms: 0,
    origin_status: null,
    error: null,
  };
}

export function writeRecord(record: VerificationRecord): void {
  console.log(record);
}

export function recordEvidence(record: VerificationRecord, evidence: Evidence): void {
  record.kid = evidence.kid;
  record.alg = evidence.alg;
  record.iss = evidence.iss;
  record.key_layer = evidence.keyLayer;
  record.token_cache = evidence.tokenCache;
  record.aud = evidence.aud;
  record.app = evidence.app;
  record.sub = evidence.sub;
}
