/** The signature check, under the algorithm the issuer policy pinned, with a key the gateway chose. */
import { compactVerify } from 'jose';
import type { Algorithm } from '../config/types.ts';

/**
 * True only when the signature verifies. jose re-checks the header (crit, b64, alg against our list) and
 * throws on any mismatch, including TypeErrors for odd keys: every throw is a failed verification here.
 */
export async function verifySignature(token: string, key: CryptoKey, alg: Algorithm): Promise<boolean> {
  try {
    await compactVerify(token, key, { algorithms: [alg] });
    return true;
  } catch {
    return false;
  }
}
