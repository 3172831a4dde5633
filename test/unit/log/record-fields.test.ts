/** Fields of the verification record that are derived cheaply on the hot path: colo from cf-ray, time formatted without a Date. */
import { describe, expect, it } from 'vitest';
import { coloOf } from '../../../src/log/record.ts';

describe('the record\'s colo, from cf-ray', () => {
  it.each([
    ['8e3f1c2a9b7d4e60-AMS', 'AMS'],
    ['7d4e608e3f1c2a9b-SJC', 'SJC'],
  ])('%s -> %s', (ray, colo) => {
    expect(coloOf(new Headers({ 'cf-ray': ray }))).toBe(colo);
  });

  it.each([
    ['no cf-ray', {}],
    ['no suffix', { 'cf-ray': '8e3f1c2a9b7d4e60' }],
    ['lower case', { 'cf-ray': '8e3f1c2a9b7d4e60-ams' }],
    ['not hex', { 'cf-ray': 'ray-AMS' }],
    ['four letters', { 'cf-ray': '8e3f1c2a9b7d4e60-AMSX' }],
    ['a forged suffix with spaces', { 'cf-ray': '8e3f-AMS injected' }],
  ])('%s -> null', (_name, headers) => {
    expect(coloOf(new Headers(headers as Record<string, string>))).toBeNull();
  });
});

describe('the record\'s time', () => {
  it('is exactly new Date(ms).toISOString(), across seconds, days, leap days, centuries and 20,000 random instants', async () => {
    const { isoTime } = await import('../../../src/log/record.ts');
    const starts = [0, 999, 1000, 1_795_461_181_000, Date.UTC(2026, 11, 31, 23, 59, 59, 999), Date.UTC(2024, 1, 29, 12, 0, 0, 5), Date.UTC(2000, 1, 28, 23, 59, 59, 999), Date.UTC(2100, 1, 28, 12), Date.UTC(9999, 11, 30)];
    for (const start of starts) {
      for (const step of [0, 1, 7, 999, 1000, 1001, 59_999, 86_400_000]) {
        const ms = start + step;
        expect(isoTime(ms)).toBe(new Date(ms).toISOString());
      }
    }
    for (let i = 0; i < 20_000; i++) {
      // 1970-01-01 to 9999-12-31, the range a record's time can have.
      const ms = Math.floor(Math.random() * 253_402_300_800_000);
      // The input in the message: a failure of a random case can be reproduced.
      expect(isoTime(ms), String(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
