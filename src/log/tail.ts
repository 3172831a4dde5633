/**
 * `wrangler tail --format json` output to readable lines (scripts/logs.ts). wrangler prints each event as
 * indented JSON, one after another; a splitter cuts the stream into events, and each event's console lines
 * become one line each: a verification record through formatRecord, a JSON event line (jwks_fetch_failed)
 * as key=value pairs, anything else as it is, on one line. The request's URL and headers in the event are
 * never printed: the record already says what matters, without the query or credentials.
 */
import { escapeControls, formatRecord, isVerificationRecord, parseJsonLine } from './format.ts';

/** Cuts concatenated JSON values out of a text stream, fed in chunks of any size. */
export function jsonStreamSplitter(): (chunk: string) => unknown[] {
  let buffer = '';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  return (chunk) => {
    const values: unknown[] = [];
    const offset = buffer.length;
    buffer += chunk;
    for (let i = offset; i < buffer.length; i++) {
      const c = buffer[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = depth > 0;
      else if (c === '{' || c === '[') {
        if (depth++ === 0) start = i;
      } else if ((c === '}' || c === ']') && depth > 0 && --depth === 0) {
        try {
          values.push(JSON.parse(buffer.slice(start, i + 1)));
        } catch {
          // Not JSON after all (a stray line from wrangler): skip it.
        }
        buffer = buffer.slice(i + 1);
        i = -1;
      }
    }
    if (depth === 0) buffer = '';
    return values;
  };
}

interface TailLog {
  message?: unknown[];
  level?: string;
  timestamp?: number;
}
interface TailEvent {
  outcome?: string;
  logs?: TailLog[];
  exceptions?: { name?: string; message?: string; timestamp?: number }[];
  eventTimestamp?: number;
}

const iso = (ms: number | undefined) => (typeof ms === 'number' ? new Date(ms).toISOString() : '-');
const oneLine = escapeControls;

function formatEventLine(time: string, level: string, event: Record<string, unknown>): string {
  const pairs = Object.entries(event)
    .filter(([name]) => name !== 'event')
    .map(([name, value]) => `${name}=${oneLine(typeof value === 'string' ? value : String(JSON.stringify(value)))}`);
  return `${time} ${level} ${oneLine(String(event.event))} ${pairs.join(' ')}`.trimEnd();
}

/** A logged value (a record object, or a line of text that may hold a record or an event as JSON) as one line. */
function formatMessage(item: unknown, time: string, level: string): string {
  const value = typeof item === 'string' ? parseJsonLine(item) : item;
  if (isVerificationRecord(value)) return formatRecord(value);
  if (typeof item !== 'string') return `${time} ${level} ${oneLine(JSON.stringify(item) ?? String(item))}`;
  if (typeof value === 'object' && value !== null && 'event' in value) return formatEventLine(time, level, value as Record<string, unknown>);
  return `${time} ${level} ${oneLine(item)}`;
}

/** The readable lines of one tail event: one per console line, one per exception, one if the Worker itself failed. */
export function linesOfTailEvent(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return [];
  const event = value as TailEvent;
  const lines: string[] = [];
  for (const log of event.logs ?? []) {
    const time = iso(log.timestamp);
    const level = log.level ?? 'log';
    for (const item of log.message ?? []) lines.push(formatMessage(item, time, level));
  }
  for (const exception of event.exceptions ?? []) {
    lines.push(`${iso(exception.timestamp ?? event.eventTimestamp)} exception ${oneLine(`${exception.name ?? 'Error'}: ${exception.message ?? ''}`)}`);
  }
  if (event.outcome && event.outcome !== 'ok' && event.outcome !== 'canceled') {
    lines.push(`${iso(event.eventTimestamp)} worker outcome=${event.outcome}`);
  }
  return lines;
}
