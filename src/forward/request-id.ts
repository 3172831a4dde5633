/** The request id: a configured incoming header if it holds a sane value, else cf-ray, else a fresh UUID. */
import { MAX_REQUEST_ID_LENGTH } from '../config/constants.ts';

/** Visible ASCII without spaces: it goes into headers, the log and the assertion's jti unchanged. */
const SANE_ID = new RegExp(`^[\\x21-\\x7e]{1,${MAX_REQUEST_ID_LENGTH}}$`);

export function requestIdOf(headers: Headers, configuredHeader: string | null): string {
  const fromClient = configuredHeader === null ? null : headers.get(configuredHeader);
  if (fromClient !== null && SANE_ID.test(fromClient)) return fromClient;
  return headers.get('cf-ray') ?? crypto.randomUUID();
}
