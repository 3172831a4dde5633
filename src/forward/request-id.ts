/**
 * The request id: a configured incoming header if it holds a sane value, else cf-ray if it has the form of
 * a Cloudflare ray id, else a fresh UUID. It goes into the origin's x-verified-request-id, the log and the
 * assertion's jti, so every source is client input until checked: Cloudflare overwrites cf-ray at its edge,
 * but off the platform (wrangler dev, another proxy in front, tests) a client sends any cf-ray it likes.
 */
import { MAX_REQUEST_ID_LENGTH } from '../config/constants.ts';

/** Visible ASCII without spaces: it goes into headers, the log and the assertion's jti unchanged. */
const SANE_ID = new RegExp(`^[\\x21-\\x7e]{1,${MAX_REQUEST_ID_LENGTH}}$`);

/**
 * A Cloudflare ray id: 16 lower-case hex digits, then "-" and the data centre's IATA code as Cloudflare
 * hands it to a Worker ("8c2f1d7e6a5b4c3d-AMS"), or the hex part alone. Anything else is not Cloudflare's
 * and is ignored: a client's "admin" or a 128-character value never becomes the request id through cf-ray.
 */
const RAY_ID = /^[0-9a-f]{16}(?:-[A-Z]{3})?$/;

export function requestIdOf(headers: Headers, configuredHeader: string | null): string {
  const fromClient = configuredHeader === null ? null : headers.get(configuredHeader);
  if (fromClient !== null && SANE_ID.test(fromClient)) return fromClient;
  const ray = headers.get('cf-ray');
  return ray !== null && RAY_ID.test(ray) ? ray : crypto.randomUUID();
}
