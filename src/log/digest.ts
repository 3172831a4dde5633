/** SHA-256 prefixes for the log: the token fingerprint and the hashed subject. */
import { LOG_HASH_HEX_DIGITS, MAX_TOKEN_BYTES } from '../config/constants.ts';

const encoder = new TextEncoder();

/**
 * The UTF-8 bytes to hash are written into this one buffer, reused by every call, instead of a new one per
 * call (`encode`): every token seen for the first time is hashed, and the allocation cost more than the copy
 * (BENCHMARKS.md, Decisions). Reusing it at once is safe: digest() takes a copy of its input before it
 * returns (WebCrypto: "get a copy of the bytes held by the data parameter"), and nothing runs in between.
 * Text whose bytes do not fit (never a token: they are at most MAX_TOKEN_BYTES of ASCII) is encoded apart.
 */
const scratch = new Uint8Array(MAX_TOKEN_BYTES);

/** The first 16 hex digits of SHA-256 over the UTF-8 bytes of `text` (what `printf %s "$x" | sha256sum | cut -c1-16` prints). */
export async function sha256Prefix(text: string): Promise<string> {
  const { read, written } = encoder.encodeInto(text, scratch);
  const bytes = read === text.length ? scratch.subarray(0, written) : encoder.encode(text);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  let hex = '';
  for (let i = 0; i < LOG_HASH_HEX_DIGITS / 2; i++) hex += digest[i]!.toString(16).padStart(2, '0');
  return hex;
}
