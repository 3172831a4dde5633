/**
 * Strict base64url (RFC 4648 section 5, no padding). Only canonical text decodes: the alphabet alone, a length
 * that is not 1 mod 4, and zero trailing bits, so that exactly one string encodes each byte sequence.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const VALUE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

type FromBase64 = (text: string, options: { readonly alphabet: 'base64url'; readonly lastChunkHandling: 'loose' }) => Uint8Array;
/** The runtime's own decoders (workerd has them; Node 22, which runs the operator tools, does not). */
const nativeFromBase64 = (Uint8Array as unknown as { fromBase64?: FromBase64 }).fromBase64;
type SetFromBase64 = (this: Uint8Array, text: string, options: typeof LOOSE) => { read: number; written: number };
const nativeSetFromBase64 = (Uint8Array.prototype as unknown as { setFromBase64?: SetFromBase64 }).setFromBase64;
/** Nothing but the base64url alphabet; empty text too, as it encodes zero bytes. */
const BASE64URL_TEXT = /^[A-Za-z0-9_-]*$/;
/** By length mod 4: the bits of the last character that encode no byte (1 never decodes). */
const UNUSED_BITS = [0, 0, 0b1111, 0b11] as const;
const LOOSE = Object.freeze({ alphabet: 'base64url', lastChunkHandling: 'loose' } as const);

/** Below this length the JS loop wins (measured: an 86-character ES256 signature 0.4 us in JS, 1-1.5 us natively). */
const NATIVE_FROM_LENGTH = 128;

/**
 * Non-empty text of the base64url alphabet alone: what a JWK's n, e, x and y and a header's x5t must be.
 * Says nothing of canonical form; the decoder judges that where the bytes are needed.
 */
export const isBase64UrlText = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && BASE64URL_TEXT.test(value);

/** Says the caller has already matched the text against the base64url alphabet (the shape gate does, once per token). */
export const ALPHABET_CHECKED = true;

/**
 * Decoded bytes, or null when the text is not canonical base64url. Long text (an RSA signature, a payload)
 * is decoded by the runtime where it can; short text by the JS loop, which is cheaper there and checks the
 * alphabet as it goes.
 */
export function base64UrlToBytes(text: string, alphabetChecked = false): Uint8Array | null {
  if (text.length % 4 === 1) return null;
  // decodeBase64UrlInto's two decoders, not base64UrlToBytesNative and base64UrlToBytesInJs, which judge the
  // same text alike (test/unit/token/base64url.test.ts runs all three): one copy of each decoder in the bundle.
  const out = new Uint8Array(decodedLength(text.length));
  return decodeBase64UrlInto(text, out, alphabetChecked) ? out : null;
}

/**
 * What the native decoders, in their loose mode, cannot be left to judge: a length no bytes decode to, a
 * character outside the alphabet (unless the caller checked it), trailing bits that are not zero. True when
 * the text is canonical in all three.
 */
function canonicalForNative(text: string, alphabetChecked: boolean): boolean {
  const partial = text.length % 4;
  if (partial === 1 || (!alphabetChecked && !BASE64URL_TEXT.test(text))) return false;
  if (partial === 0) return true;
  // The last character's value, or -1 outside the alphabet (never here after the check, but never trusted either).
  const code = text.charCodeAt(text.length - 1);
  const last = code < 128 ? VALUE[code]! : -1;
  return last >= 0 && (last & UNUSED_BITS[partial]!) === 0;
}

/**
 * Uint8Array.fromBase64 on canonical text only. The alphabet is checked first, because the native decoder
 * skips whitespace. Non-zero trailing bits are refused here, from the last character, so that the decoder
 * can run in its loose mode on the text as it is: strict mode would also need the padding appended, and
 * that copy cost more than the decode. Only where the runtime has it (workerd does; Node 22, which runs
 * the operator tools, does not).
 */
export function base64UrlToBytesNative(text: string, alphabetChecked = false): Uint8Array | null {
  if (!canonicalForNative(text, alphabetChecked)) return null;
  try {
    return nativeFromBase64!(text, LOOSE);
  } catch {
    return null;
  }
}

/** The same decoder in plain JavaScript, for runtimes without Uint8Array.fromBase64. */
export function base64UrlToBytesInJs(text: string): Uint8Array | null {
  if (text.length % 4 === 1) return null;
  const out = new Uint8Array(decodedLength(text.length));
  return decodeInJs(text, out) === -1 ? null : out;
}

/** How many bytes `length` characters of unpadded base64url decode to (length not 1 mod 4). */
export const decodedLength = (length: number): number => (length * 3) >> 2;

/**
 * Decodes canonical base64url `text` into `out`, which must be exactly decodedLength(text.length) bytes long:
 * true, or false when the text is not canonical base64url (then `out` holds garbage). Lets the shape gate
 * decode a token's segments into one buffer it already has. Long text by the runtime's
 * Uint8Array.prototype.setFromBase64 where it has it (alphabet and trailing bits checked here first, as
 * base64UrlToBytesNative does), short text in JavaScript.
 */
export function decodeBase64UrlInto(text: string, out: Uint8Array, alphabetChecked = false): boolean {
  if (nativeSetFromBase64 === undefined || text.length < NATIVE_FROM_LENGTH) return decodeInJs(text, out) === out.length;
  if (!canonicalForNative(text, alphabetChecked)) return false;
  try {
    const { read, written } = nativeSetFromBase64.call(out, text, LOOSE);
    return read === text.length && written === out.length;
  } catch {
    return false;
  }
}

/**
 * The JavaScript decoder, four characters a step: the bytes written into `out` (from 0), or -1 when `text` is
 * not canonical base64url (the alphabet alone, a length not 1 mod 4, zero trailing bits). `out` must have
 * room for decodedLength(text.length) bytes.
 */
function decodeInJs(text: string, out: Uint8Array): number {
  const partial = text.length % 4;
  if (partial === 1) return -1;
  const whole = text.length - partial;
  let o = 0;
  for (let i = 0; i < whole; i += 4) {
    const c0 = text.charCodeAt(i);
    const c1 = text.charCodeAt(i + 1);
    const c2 = text.charCodeAt(i + 2);
    const c3 = text.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) > 127) return -1;
    // Any character outside the alphabet is -1, which makes the whole word negative.
    const word = (VALUE[c0]! << 18) | (VALUE[c1]! << 12) | (VALUE[c2]! << 6) | VALUE[c3]!;
    if (word < 0) return -1;
    out[o] = word >> 16;
    out[o + 1] = word >> 8;
    out[o + 2] = word;
    o += 3;
  }
  if (partial === 0) return o;
  const c0 = text.charCodeAt(whole);
  const c1 = text.charCodeAt(whole + 1);
  const c2 = partial === 3 ? text.charCodeAt(whole + 2) : 0x41; // 'A': zero bits
  if ((c0 | c1 | c2) > 127) return -1;
  const word = (VALUE[c0]! << 18) | (VALUE[c1]! << 12) | (VALUE[c2]! << 6);
  // Non-zero leftover bits mean a second text decodes to the same bytes: not canonical.
  if (word < 0 || (word & (partial === 2 ? 0xffff : 0xff)) !== 0) return -1;
  out[o++] = word >> 16;
  if (partial === 3) out[o++] = word >> 8;
  return o;
}

/** Encoding needs no strictness of its own: the one encoder the Worker bundles (the runtime's where it has one), the origin SDK's. */
export { base64UrlEncode } from '../origin/binding.ts';
