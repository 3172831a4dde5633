/** The log's SHA-256 prefix (token_fp, a hashed sub): the first 16 hex digits of SHA-256 over the UTF-8 bytes. */
import { expect, it } from 'vitest';
import { sha256Prefix } from '../../../src/log/digest.ts';

it('prints what sha256sum prints, first 16 hex digits', async () => {
  // printf %s abc | sha256sum; printf %s "" | sha256sum; printf %s é | sha256sum (UTF-8 c3 a9)
  expect(await sha256Prefix('abc')).toBe('ba7816bf8f01cfea');
  expect(await sha256Prefix('')).toBe('e3b0c44298fc1c14');
  expect(await sha256Prefix('é')).toBe('4a99557e4033c353');
});

it('keeps the leading zero of every byte: agrees with a byte-by-byte formatting on 500 inputs', async () => {
  for (let i = 0; i < 500; i++) {
    const text = `token-${i}`;
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
    const expected = [...digest].map((byte) => byte.toString(16).padStart(2, '0')).join('').slice(0, 16);
    expect(await sha256Prefix(text)).toBe(expected);
  }
});

it('gives each of many concurrent calls the digest of its own text, past the reused buffer too', async () => {
  // sha256Prefix writes into one buffer shared by every call; each call must hash its own bytes even when
  // the calls overlap. Non-ASCII text and text whose bytes do not fit that buffer (8 KiB) included.
  const texts = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? `tok-${i}-`.repeat(i) : i % 3 === 1 ? `é€😀${i}`.repeat(i) : 'x'.repeat(8190 + i)));
  const expected = await Promise.all(
    texts.map(async (text) => {
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
      return [...digest].map((byte) => byte.toString(16).padStart(2, '0')).join('').slice(0, 16);
    }),
  );
  expect(await Promise.all(texts.map((text) => sha256Prefix(text)))).toEqual(expected);
});
