/**
 * Writes the record once the answer is decided: bounded, the subject shown as the policy says, as a JSON
 * object (Workers Logs indexes its fields) or, in local development, as one readable line; plus one
 * Analytics Engine data point when that binding is configured.
 */
import type { LogSubjectMode } from '../config/types.ts';
import { writeDataPoint } from './analytics.ts';
import { boundRecord } from './bound.ts';
import { sha256Prefix } from './digest.ts';
import { formatRecord } from './format.ts';
import { summarizeFindings, type VerificationRecord } from './record.ts';

/** json: the deployed default; line: what `npm start` asks for with LOG_FORMAT=line. */
export type LogFormat = 'json' | 'line';

export interface LogSink {
  format: LogFormat;
  subject: LogSubjectMode;
  analytics: AnalyticsEngineDataset | undefined;
}

export const logFormatFrom = (value: string | undefined): LogFormat => (value === 'line' ? 'line' : 'json');

export async function writeRecord(record: VerificationRecord, sink: LogSink): Promise<void> {
  if (record.sub !== null && sink.subject !== 'plain') record.sub = sink.subject === 'hashed' ? await sha256Prefix(record.sub) : null;
  boundRecord(record);
  summarizeFindings(record);
  if (sink.format === 'line') console.log(formatRecord(record));
  else console.log(record);
  if (sink.analytics) writeDataPoint(sink.analytics, record);
}
