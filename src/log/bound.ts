/**
 * Bounds what a record carries from the client: finding evidence (an unverified iss, claim values), and
 * verified claims too (a sub of several KiB is legal). Strings are cut, arrays shortened, nesting flattened,
 * so one hostile token cannot write a huge or deeply nested log line.
 */
import { MAX_LOG_ARRAY_ITEMS } from '../config/constants.ts';
import type { Finding } from '../findings.ts';
import { boundString, TRUNCATION_MARK } from './bound-string.ts';
import type { VerificationRecord } from './record.ts';

export function boundValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return boundString(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) {
    if (depth > 0) return `[array of ${value.length}]`;
    const items = value.slice(0, MAX_LOG_ARRAY_ITEMS).map((item) => boundValue(item, depth + 1));
    if (value.length > MAX_LOG_ARRAY_ITEMS) items.push(`${TRUNCATION_MARK}${value.length - MAX_LOG_ARRAY_ITEMS} more`);
    return items;
  }
  // Objects and anything else from a payload: their type is evidence enough.
  return `[${typeof value}]`;
}

export function boundFinding(finding: Finding): Finding {
  const bounded: Finding = { code: finding.code };
  if (finding.claim !== undefined) bounded.claim = boundString(finding.claim);
  if (finding.expected !== undefined) bounded.expected = boundValue(finding.expected);
  if (finding.actual !== undefined) bounded.actual = boundValue(finding.actual);
  if (finding.detail !== undefined) bounded.detail = boundString(finding.detail);
  return bounded;
}

export function boundRecord(record: VerificationRecord): void {
  record.findings = record.findings.map(boundFinding);
  for (const key of ['iss', 'app', 'sub', 'kid', 'alg'] as const) {
    const value = record[key];
    if (typeof value === 'string') record[key] = boundString(value);
  }
  if (record.aud !== null) record.aud = boundValue(record.aud) as string | string[];
}
