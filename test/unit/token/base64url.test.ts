import { describe, expect, it } from 'vitest';
import { base64UrlToBytes, base64UrlToBytesInJs, base64UrlToBytesNative, base64UrlEncode, decodeBase64UrlInto, decodedLength, isBase64UrlText } from '../../../src/token/base64url.ts';

const bytes = (...b: number[]) => new Uint8Array(b);

it('workerd has Uint8Array.fromBase64, so the table below tests the native decoder too', () => {
  expect(typeof (Uint8Array as unknown as { fromBase64?: unknown }).fromBase64).toBe('function');
});

// The gate's decoders (native from 128 characters, JS below), and each decoder alone on every input.
describe.each([
  ['the gate', base64UrlToBytes],
  ['native', base64UrlToBytesNative],
  ['plain JavaScript', base64UrlToBytesInJs],
  // The shape gate's: into a buffer of the decoded length (a length 1 mod 4 has none).
  ['into a buffer', (text: string) => {
    if (text.length % 4 === 1) return decodeBase64UrlInto(text, new Uint8Array(decodedLength(text.length))) ? new Uint8Array() : null;
    const out = new Uint8Array(decodedLength(text.length));
    return decodeBase64UrlInto(text, out) ? out : null;
  }],
])('base64url (%s)', (_name, base64UrlToBytes) => {
  it.each([
    ['', bytes()],
    ['AA', bytes(0)],
    ['_w', bytes(255)],
    ['AAE', bytes(0, 1)],
    ['AQID', bytes(1, 2, 3)],
    ['-_-_', bytes(0xfb, 0xff, 0xbf)],
  ])('decodes canonical %j', (text, expected) => {
    expect(base64UrlToBytes(text)).toEqual(expected);
    expect(base64UrlEncode(expected)).toBe(text);
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
    ['AQ=D', 'padding inside'],
    ['AAA=', 'padding on a whole chunk'],
    [' AQD', 'leading whitespace'],
    ['AQD\t', 'trailing tab'],
  ])('refuses %j (%s)', (text) => {
    expect(base64UrlToBytes(text)).toBeNull();
  });

  it.each([
    ['AA'.repeat(100) + 'A', 'length 1 mod 4, long'],
    ['A'.repeat(200) + 'AB', 'non-zero trailing bits, long'],
    ['A'.repeat(200) + 'AAF', 'non-zero trailing bits, long, 3 mod 4'],
    ['A'.repeat(100) + ' ' + 'A'.repeat(99), 'whitespace inside long text'],
    ['A'.repeat(200) + '==', 'padding, long'],
    ['A'.repeat(199) + '+', 'standard alphabet, long'],
  ])('refuses long text the native decoder sees: %#, %s', (text) => {
    expect(base64UrlToBytes(text)).toBeNull();
  });

  it('judges every last character of long text as the plain-JavaScript decoder does (trailing bits)', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (const stem of ['A'.repeat(200) + 'A', 'A'.repeat(200) + 'AA']) {
      for (const last of alphabet) expect(base64UrlToBytes(stem + last)).toEqual(base64UrlToBytesInJs(stem + last));
    }
  });

  it('round-trips every length up to 300 bytes (both sides of the native threshold)', () => {
    for (let n = 0; n <= 300; n++) {
      const data = crypto.getRandomValues(new Uint8Array(n));
      expect(base64UrlToBytes(base64UrlEncode(data))).toEqual(data);
    }
  });
});

describe('isBase64UrlText (a JWK member or a thumbprint: the alphabet alone, not yet decoded)', () => {
  it.each(['A', 'AB', '-_', 'AQID'])('accepts %j, canonical or not', (text) => expect(isBase64UrlText(text)).toBe(true));
  it.each(['', 'AA==', 'AQ+D', 'AQ D', 'AQ\n', 'é', 7, null, undefined, ['AA']])('refuses %j', (value) => expect(isBase64UrlText(value)).toBe(false));
});
