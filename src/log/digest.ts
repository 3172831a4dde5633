/** SHA-256 prefixes for the log: the token fingerprint and the hashed subject. */
import { LOG_HASH_HEX_DIGITS } from '../config/constants.ts';

const encoder = new TextEncoder();

/** The first 16 hex digits of SHA-256 over the UTF-8 bytes of `text` (what `printf %s "$x" | sha256sum | cut -c1-16` prints). */
export async function sha256Prefix(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
  let hex = '';
  for (let i = 0; i < LOG_HASH_HEX_DIGITS / 2; i++) hex += digest[i]!.toString(16).padStart(2, '0');
  return hex;
}
