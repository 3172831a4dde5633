/**
 * base64UrlEncode (src/origin/binding.ts) writes the assertion and both bindings, at the gateway and at the
 * origin; it stands in for jose's base64url.encode, so it must give the same text: with the runtime's encoder
 * (workerd has Uint8Array.prototype.toBase64) and without it (Node 22, where the origin module also runs).
 */
import { base64url } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { base64UrlEncode } from '../../../src/origin/binding.ts';

const samples = (): (Uint8Array | string)[] => {
  const bytes = Array.from({ length: 70 }, (_, length) => crypto.getRandomValues(new Uint8Array(length)));
  const edges = [new Uint8Array([0xfb, 0xff]), new Uint8Array([0xff, 0xfe, 0xfd]), new Uint8Array(100_000).fill(0xfb)];
  return [...bytes, ...edges, '', 'a', '{"alg":"EdDSA","typ":"gateway-assertion+jwt"}', 'é ✓ 🙂', '\u0000\u007f\u0080'];
};

describe('base64UrlEncode', () => {
  afterEach(() => vi.resetModules());

  it("gives jose's base64url.encode text with the runtime's encoder", () => {
    expect(typeof (Uint8Array.prototype as { toBase64?: unknown }).toBase64).toBe('function');
    for (const input of samples()) expect(base64UrlEncode(input)).toBe(base64url.encode(input));
  });

  it("gives the same text without it (btoa), as in Node 22", async () => {
    const native = Object.getOwnPropertyDescriptor(Uint8Array.prototype, 'toBase64')!;
    delete (Uint8Array.prototype as { toBase64?: unknown }).toBase64;
    let encode: typeof base64UrlEncode;
    try {
      vi.resetModules();
      ({ base64UrlEncode: encode } = await import('../../../src/origin/binding.ts'));
    } finally {
      Object.defineProperty(Uint8Array.prototype, 'toBase64', native);
    }
    for (const input of samples()) {
      const expected = base64url.encode(input);
      expect(expected).not.toMatch(/[+/=]/);
      expect(encode(input)).toBe(expected);
    }
    // Told apart from the module imported above: that one keeps the runtime's encoder.
    expect(encode).not.toBe(base64UrlEncode);
  });
});
