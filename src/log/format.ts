/**
 * One readable line per decision, for people: `npm run logs` (a deployed gateway's tail) and the local
 * gateway (LOG_FORMAT=line) print the same line from the same record.
 *
 *   2026-11-23T19:20:31.402Z 401 denied GET api.example.com/orders/1 route=orders iss=https://idp.example/
 *     kid=k1 alg=RS256 key=memory fp=2c1f0a9e4b7d3a61 3ms req=8e3f... | token_expired exp actual=1795000000 expected="> 1795000100"
 */
import type { Finding } from '../findings.ts';
import type { VerificationRecord } from './record.ts';

/** Every C0 and C1 control character, DEL, and U+2028/U+2029 (line breaks to JavaScript and many log viewers). */
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/g;
/** Anything that makes a value need quoting: whitespace, the line's separators, and every control character. */
const NEEDS_QUOTING = /[\s"|;\x00-\x1f\x7f-\x9f\u2028\u2029]/;

/**
 * `text` with every control character written as its JSON escape (`\n`, `\u0085`...), so it stays on one
 * line and drives no terminal: JSON.stringify escapes only C0, and leaves DEL, the C1 controls (U+0085 NEL
 * is a line break to some readers, U+009B a terminal's CSI) and U+2028/U+2029 as they are. Applied to
 * JSON text it keeps it valid JSON. Also used by the tail formatter (src/log/tail.ts).
 */
export const escapeControls = (text: string): string => text.replace(CONTROL, escapeOne);

function escapeOne(char: string): string {
  const json = JSON.stringify(char);
  // JSON.stringify escapes C0 (`"\n"`, `"\u0001"`); anything it leaves as it is (`"\u0085"` raw) is written as \uXXXX.
  return json.length > 3 ? json.slice(1, -1) : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** A value as the line shows it: plain when nothing in it needs quoting, else JSON with every control escaped. */
const text = (value: unknown): string => {
  if (typeof value !== 'string') return escapeControls(String(JSON.stringify(value)));
  return value === '' || NEEDS_QUOTING.test(value) ? escapeControls(JSON.stringify(value)) : value;
};

export function formatFinding(finding: Finding): string {
  const parts: string[] = [finding.code];
  if (finding.claim !== undefined) parts.push(text(finding.claim));
  if (finding.actual !== undefined) parts.push(`actual=${text(finding.actual)}`);
  if (finding.expected !== undefined) parts.push(`expected=${text(finding.expected)}`);
  if (finding.detail !== undefined) parts.push(`(${finding.detail})`);
  return parts.join(' ');
}

export function formatRecord(record: VerificationRecord): string {
  const fields: [string, unknown][] = [
    ['route', record.route],
    ['mode', record.mode === 'enforce' ? null : record.mode],
    ['iss', record.iss],
    ['aud', record.aud],
    ['app', record.app],
    ['sub', record.sub],
    ['kid', record.kid],
    ['alg', record.alg],
    ['key', record.key_layer],
    // Only where it is not the Authorization bearer, which nearly every line would otherwise repeat.
    ['source', record.token_source === 'authorization' ? null : record.token_source],
    ['fp', record.token_fp],
    ['assertion', record.assertion],
    ['origin', record.origin_status],
    ['omitted', record.omitted_headers],
    ['colo', record.colo],
    ['req', record.request_id],
  ];
  const head = `${record.time} ${record.status} ${record.outcome} ${record.method} ${text(record.host + record.path)}`;
  const named = fields.filter(([, value]) => value !== null && value !== undefined).map(([name, value]) => `${name}=${text(value)}`);
  const line = [head, ...named, `${record.latency_ms}ms`].join(' ');
  const tail = [...record.findings.map(formatFinding), ...(record.error ? [`error: ${text(record.error)}`] : [])];
  return tail.length > 0 ? `${line} | ${tail.join('; ')}` : line;
}

export const isVerificationRecord = (value: unknown): value is VerificationRecord =>
  typeof value === 'object' && value !== null && (value as { v?: unknown }).v === 1 && typeof (value as { outcome?: unknown }).outcome === 'string';

/**
 * What a line of the Worker's output holds when it is a JSON object (a record, a warn event); null for any
 * other line, plain text that merely starts with a brace included. Read here and by the tail formatter (src/log/tail.ts).
 */
export function parseJsonLine(line: string): unknown {
  if (!line.startsWith('{')) return null;
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}

/**
 * One line of the Worker's output under LOG_FORMAT=line as the terminal shows it (scripts/dev.ts, npm start):
 * a record's line of JSON as the readable line above; any other line as it came.
 */
export function readableLine(line: string): string {
  const parsed = parseJsonLine(line);
  return isVerificationRecord(parsed) ? formatRecord(parsed) : line;
}
