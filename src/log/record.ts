/**
 * One verification record per request, logged as a JSON object so Workers Logs indexes every field.
 * It never holds the token, a signature, an Authorization or Cookie value, or a secret.
 * The schema is documented in docs/logging.md; fields are only ever added, and `v` changes if one ever
 * changes meaning.
 */
import type { Finding } from '../findings.ts';
import type { KeyLayer } from '../keys/key-store.ts';
import type { Evidence } from '../verify/authenticate.ts';

export const RECORD_VERSION = 1;

/**
 * allowed: verified and forwarded; denied: stopped with a 4xx/503; report_only: forwarded although
 * `findings` say what enforce would have denied; anonymous: an optional route called without a token;
 * public: a route that takes no token; preflight: a CORS preflight passed without a token;
 * error: a fault of the gateway itself (500).
 */
export type Outcome = 'allowed' | 'denied' | 'report_only' | 'anonymous' | 'public' | 'preflight' | 'error';

export interface VerificationRecord {
  v: typeof RECORD_VERSION;
  time: string;
  request_id: string;
  route: string | null;
  /** The policy file the route comes from. */
  policy: string | null;
  method: string;
  host: string;
  /** The path only: a query string can carry secrets (access_token=, signatures of pre-signed URLs). */
  path: string;
  mode: string | null;
  outcome: Outcome;
  status: number;
  findings: Finding[];
  /** The first finding's code, or null: a flat field Workers Logs can group by (findings is an array of objects). */
  finding: string | null;
  /** Every finding code, comma-separated ("" when none): filter with "includes". */
  codes: string;
  iss: string | null;
  aud: string | string[] | null;
  app: string | null;
  /** Plain, a SHA-256 prefix, or null, as settings.log_subject says. */
  sub: string | null;
  kid: string | null;
  alg: string | null;
  key_layer: KeyLayer | null;
  /** Where the token came from ("authorization", "header:<name>", "cookie:<name>", "websocket_protocol", "query:<name>"), never its value; null when none was read. */
  token_source: string | null;
  /** First 16 hex digits of SHA-256 over the token's bytes: finds every request of one token, reveals nothing of it. */
  token_fp: string | null;
  /** Whether the verified-token cache answered ("hit": no signature was verified for this request). */
  token_cache: 'hit' | 'miss' | null;
  /** The signed assertion sent to the origin: minted for this request, reused from an identical earlier one, or null (none sent). */
  assertion: 'minted' | 'reused' | null;
  latency_ms: number;
  origin_status: number | null;
  /** The Cloudflare data centre: the IATA code that ends the request's cf-ray; null without one (tests, local development). */
  colo: string | null;
  /** Why the gateway itself could not answer as planned (origin unreachable, an internal fault); never client detail. */
  error: string | null;
  /** Identity headers (standard or claim headers) left out of the forwarded request because their value was over the size cap; null when none. */
  omitted_headers: readonly string[] | null;
}

/**
 * The data centre from the cf-ray header ("8c2f1d7e6a5b4c3d-AMS"), which Cloudflare sets on every request it
 * hands a Worker: the same code as request.cf.colo, without materializing request.cf, which workerd builds
 * from JSON on first access, per request (the largest single cost of writing a record, under load).
 */
const RAY_COLO = /^[0-9a-f]+-([A-Z]{3})$/;

export function coloOf(headers: Headers): string | null {
  const ray = headers.get('cf-ray');
  return ray === null ? null : (RAY_COLO.exec(ray)?.[1] ?? null);
}

const pad = (value: number, width: number) => String(value).padStart(width, '0');

/**
 * new Date(ms).toISOString() for 1970-9999, by arithmetic (H. Hinnant's civil_from_days): no Date at all.
 * In workerd a Date formatted per request showed as one of the gateway's largest costs under load, and the
 * isolate's first one as several milliseconds of its cold start (`npm run bench:profile`).
 */
export function isoTime(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  const inDay = ms - days * 86_400_000;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(inDay / 3_600_000);
  const minutes = Math.floor((inDay % 3_600_000) / 60_000);
  const seconds = Math.floor((inDay % 60_000) / 1000);
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}.${pad(inDay % 1000, 3)}Z`;
}

export function newRecord(request: Request, url: URL, requestId: string, started: number): VerificationRecord {
  return {
    v: RECORD_VERSION,
    time: isoTime(started),
    request_id: requestId,
    route: null,
    policy: null,
    method: request.method,
    host: url.hostname,
    path: url.pathname,
    mode: null,
    outcome: 'denied',
    status: 0,
    findings: [],
    finding: null,
    codes: '',
    iss: null,
    aud: null,
    app: null,
    sub: null,
    kid: null,
    alg: null,
    key_layer: null,
    token_source: null,
    token_fp: null,
    token_cache: null,
    assertion: null,
    latency_ms: 0,
    origin_status: null,
    colo: coloOf(request.headers),
    error: null,
    omitted_headers: null,
  };
}

/** The flat copies of the findings, set when the record is written so every path that adds findings is covered. */
export function summarizeFindings(record: VerificationRecord): void {
  record.finding = record.findings[0]?.code ?? null;
  record.codes = record.findings.map((f) => f.code).join(',');
}

export function recordEvidence(record: VerificationRecord, evidence: Evidence): void {
  record.kid = evidence.kid;
  record.alg = evidence.alg;
  record.iss = evidence.iss;
  record.key_layer = evidence.keyLayer;
  record.token_cache = evidence.tokenCache ?? null;
  record.aud = evidence.aud;
  record.app = evidence.app;
  record.sub = evidence.sub;
  record.token_fp = evidence.tokenFingerprint ?? null;
}
