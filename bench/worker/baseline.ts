/**
 * The foundation's versions (commit 0be343b) of the hot-path functions a later branch optimized: no longer
 * measured (the optimization is decided), kept as the oracle of test/unit/forward/hot-path-equivalence.test.ts,
 * which proves the fast versions give the same answers. Never imported by src/.
 */
import { MAX_IDENTITY_HEADER_VALUE_BYTES } from '../../src/config/constants.ts';
import type { SanitizeOptions } from '../../src/forward/sanitize.ts';

export function headerSafeBefore(value: string): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    out += code >= 0x20 && code <= 0x7e && char !== '%' ? char : encodeURIComponent(char);
    if (out.length > MAX_IDENTITY_HEADER_VALUE_BYTES) return out.slice(0, MAX_IDENTITY_HEADER_VALUE_BYTES);
  }
  return out;
}

export function sanitizeRequestHeadersBefore(incoming: Headers, options: SanitizeOptions): Headers {
  const headers = new Headers();
  for (const [name, value] of incoming) {
    if (name.startsWith(options.identityHeaderPrefix)) continue;
    if (name === 'authorization' && !options.forwardAuthorization) continue;
    headers.append(name, value);
  }
  return headers;
}
