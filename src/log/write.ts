/**
 * Writes the record once the answer is decided: bounded, the subject shown as the policy says, as a JSON
 * object (Workers Logs indexes its fields) or, in local development, as one readable line; plus one
 * Analytics Engine data point when that binding is configured, for every request, written or sampled out.
 */
import type { LogSubjectMode } from '../config/types.ts';
import { writeDataPoint } from './analytics.ts';
import { boundRecord } from './bound.ts';
import { sha256Prefix } from './digest.ts';
import { summarizeFindings, type Outcome, type VerificationRecord } from './record.ts';

/**
 * json: the deployed default (an object: Workers Logs indexes its fields); line: each record as one line of JSON
 * text, which `npm start` (scripts/dev.ts) turns into the readable line of src/log/format.ts. The formatter stays
 * out of the Worker's bundle: it serves only the terminal.
 */
export type LogFormat = 'json' | 'line';

export interface LogSink {
  format: LogFormat;
  subject: LogSubjectMode;
  analytics: AnalyticsEngineDataset | undefined;
  /** settings.log_allowed: the fraction of allowed requests whose record is written; absent means 1 (every one). */
  allowedRate?: number;
}

export const logFormatFrom = (value: string | undefined): LogFormat => (value === 'line' ? 'line' : 'json');

/** Requests let through: with nothing else to report, their records are the ones a policy may sample. */
const LET_THROUGH: ReadonlySet<Outcome> = new Set(['allowed', 'public', 'anonymous', 'preflight']);

/**
 * Whether this request's record is written (decide once per request: a sample draws a random number). Always
 * for a denial, an error, a report-only request and any record with a finding or an omitted header: what an
 * operator investigates is never sampled away. Allowed requests at settings.log_allowed's rate.
 */
export function recordWanted(record: VerificationRecord, sink: LogSink): boolean {
  const rate = sink.allowedRate ?? 1;
  if (rate >= 1) return true;
  if (!LET_THROUGH.has(record.outcome) || record.findings.length > 0 || record.error !== null || record.omitted_headers !== null) return true;
  return rate > 0 && Math.random() < rate;
}

/** Whether the record's subject must be hashed (hashSubject) before it is written: log_subject "hashed". */
export function recordNeedsHash(record: VerificationRecord, sink: LogSink): boolean {
  return record.sub !== null && sink.subject === 'hashed';
}

/** The subject replaced by its digest; a digest that fails leaves the subject out, never shown plain. */
export async function hashSubject(record: VerificationRecord): Promise<void> {
  record.sub = record.sub === null ? null : await sha256Prefix(record.sub).catch(() => null);
}

/**
 * Writes the record now, with no promise: its digests (the token fingerprint, a subject hashed by hashSubject)
 * are already in it (src/gateway.ts awaits them before calling). A record left out still gives its Analytics Engine count.
 */
export function writeRecord(record: VerificationRecord, sink: LogSink, written: boolean): void {
  if (written) {
    if (record.sub !== null && sink.subject === 'omitted') record.sub = null;
    boundRecord(record);
    summarizeFindings(record);
    console.log(sink.format === 'line' ? JSON.stringify(record) : record);
  }
  if (sink.analytics) writeDataPoint(sink.analytics, record, written);
}
