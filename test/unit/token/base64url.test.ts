import { describe, expect, it } from 'vitest';
import { base64UrlToBytes, bytesToBase64Url } from '../../../src/token/base64url.ts';

const bytes = (...b: number[]) => new Uint8Array(b);

describe('base64url', () => {
  it.each([
    ['', bytes()],
    ['AA', bytes(0)],
    ['_w', bytes(255)],
    ['AAE', bytes(0, 1)],
    ['AQID', bytes(1, 2, 3)],
    ['-_-_', bytes(0xfb, 0xff, 0xbf)],
  ])('decodes canonical %j', (text, expected) => {
    expect(base64UrlToBytes(text)).toEqual(expected);
    expect(bytesToBase64Url(expected)).toBe(text);
  });

  it.each([
    ['AA==', 'padding'],
    ['A', 'length 1 mod 4'],
    ['AB', 'non-zero trailing bits (AA is canonical)'],
    ['AAF', 'non-zero trailing bits (AAE is canonical)'],
    ['AQ+D', 'standard base64 alphabet'],
    ['AQ/D', 'standard base64 alphabet'],
    ['AQ D', 'whitespace'],
    ['AQ\nD', 'newline'],
    ['AQé', 'non-ASCII'],
  ])('refuses %j (%s)', (text) => {
    expect(base64UrlToBytes(text)).toBeNull();
  });

  it('round-trips every length up to 64 bytes', () => {
    for (let n = 0; n <= 64; n++) {
      const data = crypto.getRandomValues(new Uint8Array(n));
      expect(base64UrlToBytes(bytesToBase64Url(data))).toEqual(data);
    }
  });
});
