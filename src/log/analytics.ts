/**
 * One Workers Analytics Engine data point per request, for charts of rates (docs/logging.md has the SQL).
 * Written only when the GATEWAY_ANALYTICS binding is configured. Carries no token, subject or claim value
 * beyond the issuer and app names the policy already knows.
 *
 *   index1: route   blob1: route  blob2: outcome  blob3: first finding ("" if none)  blob4: issuer  blob5: app
 *   blob6: key layer  blob7: colo   double1: status  double2: latency_ms  double3: number of findings
 *   double4: 1 when the request's record was written to Workers Logs, 0 when settings.log_allowed sampled it out
 *
 * Written for every request whether or not its record is: with records of allowed requests sampled or off,
 * these are the counts (SUM(_sample_interval) by outcome, route, issuer).
 */
import type { VerificationRecord } from './record.ts';
import { warn } from './warn.ts';

export function dataPointOf(record: VerificationRecord, recordWritten = true): AnalyticsEngineDataPoint {
  return {
    indexes: [record.route ?? ''],
    blobs: [
      record.route ?? '',
      record.outcome,
      record.finding ?? '',
      record.iss ?? '',
      record.app ?? '',
      record.key_layer ?? '',
      record.colo ?? '',
    ],
    doubles: [record.status, record.latency_ms, record.findings.length, recordWritten ? 1 : 0],
  };
}

export function writeDataPoint(dataset: AnalyticsEngineDataset, record: VerificationRecord, recordWritten = true): void {
  try {
    dataset.writeDataPoint(dataPointOf(record, recordWritten));
  } catch (error) {
    // Analytics must never cost a request its answer; the record above already holds the decision.
    warn('analytics_write_failed', { reason: error instanceof Error ? error.name : 'unknown' });
  }
}
