/** SHA-256 prefixes for the log: the token fingerprint and the hashed subject. */
import { LOG_HASH_HEX_DIGITS } from '../config/constants.ts';

const encoder = new TextEncoder();

/** Two lowercase hex digits per byte value, built once: one lookup a byte instead of toString(16) and padStart. */
const HEX_BYTE = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** The first 16 hex digits of SHA-256 over the UTF-8 bytes of `text` (what `printf %s "$x" | sha256sum | cut -c1-16` prints). */
export async function sha256Prefix(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)), 0, LOG_HASH_HEX_DIGITS / 2);
  let hex = '';
  for (const byte of digest) hex += HEX_BYTE[byte]!;
  return hex;
}
