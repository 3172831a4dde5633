/** `npm run logs`: wrangler tail JSON (as wrangler prints it: indented events, one after another) to one line per decision. */
import { describe, expect, it } from 'vitest';
import { formatRecord, readableLine } from '../../../src/log/format.ts';
import type { VerificationRecord } from '../../../src/log/record.ts';
import { jsonStreamSplitter, linesOfTailEvent } from '../../../src/log/tail.ts';
import tailText from '../../fixtures/wrangler-tail.json?raw';

const EXPECTED = [
  '2026-11-23T18:04:11.210Z 401 denied GET api.example.com/billing/invoices route=billing iss=https://idp.example.com/ aud=https://api.example.test app=reports sub=user-42 kid=k-2026-11 alg=RS256 key=memory fp=5f1c9a0e7b2d4c36 colo=AMS req=8e6b3c1f2a9d4e07-AMS 2ms | token_expired exp actual=1795449790 expected="> 1795449791"; app_mismatch app_id actual=reports expected=billing',
  '2026-11-23T18:04:12.001Z warn jwks_fetch_failed issuer=corp reason=http 503',
  '2026-11-23T18:04:12.004Z 200 allowed GET api.example.com/billing/invoices route=billing iss=https://idp.example.com/ aud=https://api.example.test app=billing sub=user-42 kid=k-2026-11 alg=RS256 key=memory fp=0b7e4d2a91c3f658 origin=200 colo=AMS req=8e6b3c1f2a9d4e08-AMS 31ms',
  '2026-11-23T18:04:13.100Z exception Error: Worker exceeded CPU time limit.',
  '2026-11-23T18:04:13.050Z worker outcome=exceededCpu',
];

const formatAll = (chunks: string[]) => {
  const split = jsonStreamSplitter();
  return chunks.flatMap((chunk) => split(chunk)).flatMap(linesOfTailEvent);
};

describe('the tail formatter', () => {
  it('prints one line per decision, event and failure of a recorded tail', () => {
    expect(formatAll([tailText])).toEqual(EXPECTED);
  });

  it('gives the same lines whatever the chunking of the stream', () => {
    for (const size of [1, 7, 64, 1000]) {
      const chunks = Array.from({ length: Math.ceil(tailText.length / size) }, (_, i) => tailText.slice(i * size, (i + 1) * size));
      expect(formatAll(chunks)).toEqual(EXPECTED);
    }
  });

  it('never prints the request URL query or headers from the event', () => {
    const text = formatAll([tailText]).join('\n');
    expect(text).not.toContain('status=open');
    expect(text).not.toContain('REDACTED');
  });

  it('skips stray text between events, quotes included', () => {
    expect(formatAll([`Connected to edge-jwt-gateway, waiting for "logs"...\n`, tailText])).toEqual(EXPECTED);
  });

  it('reads a record or an event out of a line of JSON, as npm start reads a record; any other line stays text, one that starts with a brace too', () => {
    const record = JSON.parse(tailText.slice(0, tailText.indexOf('\n}\n') + 2)).logs[0].message[0] as VerificationRecord;
    const other = ['{not json', '{"other":1}', 'plain'];
    const message = [record, JSON.stringify(record), JSON.stringify({ event: 'warm_up_failed', reason: 'x' }), ...other];
    expect(linesOfTailEvent({ logs: [{ level: 'warn', timestamp: 0, message }] })).toEqual([
      formatRecord(record),
      formatRecord(record),
      '1970-01-01T00:00:00.000Z warn warm_up_failed reason=x',
      ...other.map((line) => `1970-01-01T00:00:00.000Z warn ${line}`),
    ]);
    expect([JSON.stringify(record), ...other].map(readableLine)).toEqual([formatRecord(record), ...other]);
  });

  it('keeps a hostile value on one line', () => {
    const record = JSON.parse(tailText.slice(0, tailText.indexOf('\n}\n') + 2)).logs[0].message[0] as VerificationRecord;
    const line = formatRecord({ ...record, findings: [{ code: 'issuer_mismatch', claim: 'iss', actual: 'evil\n2026-01-01T00:00:00Z 200 allowed' }] });
    expect(line).not.toContain('\n');
    expect(line).toContain('actual="evil\\n2026-01-01T00:00:00Z 200 allowed"');
  });
});
