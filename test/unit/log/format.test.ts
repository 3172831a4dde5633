/** The line format (LOG_FORMAT=line, `npm run logs`): no value can break a line or drive the terminal that shows it. */
import { describe, expect, it } from 'vitest';
import { escapeControls, formatRecord } from '../../../src/log/format.ts';
import type { VerificationRecord } from '../../../src/log/record.ts';
import { linesOfTailEvent } from '../../../src/log/tail.ts';

const record: VerificationRecord = {
  v: 1,
  time: '2026-11-23T18:04:11.210Z',
  request_id: 'r-1',
  route: 'billing',
  policy: 'policies/demo.jsonc',
  method: 'GET',
  host: 'api.example.com',
  path: '/billing',
  mode: 'enforce',
  outcome: 'denied',
  status: 401,
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
  token_fp: null,
  token_source: null,
  token_cache: null,
  assertion: null,
  latency_ms: 2,
  origin_status: null,
  colo: null,
  error: null,
  omitted_headers: null,
} as VerificationRecord;

/** Every C0 and C1 control, DEL, and the two Unicode line separators. */
const CONTROLS = [
  ...Array.from({ length: 0x20 }, (_, code) => code),
  ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i),
  0x2028,
  0x2029,
].map((code) => String.fromCharCode(code));

const hex = (char: string) => `U+${char.charCodeAt(0).toString(16).padStart(4, '0')}`;

describe('the line format escapes every control character', () => {
  it.each(CONTROLS.map((char) => [hex(char), char]))('%s in a claim value, a finding and an array is escaped and reads back', (_, char) => {
    const hostile = `evil${char}2026-01-01T00:00:00Z 200 allowed`;
    const line = formatRecord({
      ...record,
      sub: hostile,
      aud: ['a', hostile],
      findings: [{ code: 'issuer_mismatch', claim: 'iss', actual: hostile, expected: [hostile] }],
    });
    expect(line).not.toContain(char);
    // The quoted value is JSON that gives the original back.
    const quoted = /sub=("(?:[^"\\]|\\.)*")/.exec(line)![1]!;
    expect(JSON.parse(quoted)).toBe(hostile);
    const array = /aud=(\[[^\]]*\])/.exec(line)![1]!;
    expect(JSON.parse(array)).toEqual(['a', hostile]);
  });

  it.each(CONTROLS.map((char) => [hex(char), char]))('%s in the tail formatter (a warning and plain text) is escaped', (_, char) => {
    const lines = linesOfTailEvent({
      eventTimestamp: 0,
      logs: [
        { level: 'warn', timestamp: 0, message: [JSON.stringify({ event: `jwks${char}`, issuer: `corp${char}`, detail: [`x${char}`] })] },
        { level: 'log', timestamp: 0, message: [`plain${char}text`] },
      ],
    });
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toContain(char);
  });

  it('leaves printable text alone, non-ASCII letters included, and quotes only what needs it', () => {
    expect(formatRecord({ ...record, sub: 'jörg' })).toContain(' sub=jörg ');
    expect(formatRecord({ ...record, sub: 'a b' })).toContain(' sub="a b" ');
    expect(escapeControls('a\u0085b\nc\u2028')).toBe('a\\u0085b\\nc\\u2028');
  });
});
