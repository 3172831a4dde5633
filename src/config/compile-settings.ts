/**
 * The `settings` block (in one file at most) -> CompiledSettings: the realm, the identity header namespace,
 * the request id header and the assertion, each checked against the others; the log choices as given.
 * Without a block, the defaults.
 */
import { DEFAULT_IDENTITY_HEADER_PREFIX, DEFAULT_REALM } from './constants.ts';
import { compileAssertion, type AssertionSource, type OriginSource } from '../forward/compile-forward.ts';
import { CREDENTIAL_HEADERS, identityPrefixProblem } from '../forward/reserved-headers.ts';
import { pointer, type ErrorList, type Report } from './policy-errors.ts';
import type { ReadPolicyFile } from './policy-files.ts';
import type { CompiledSettings, LogSubjectMode } from './types.ts';

export interface SettingsSource {
  realm?: string;
  identity_header_prefix?: string;
  default_origin?: OriginSource;
  log_subject?: LogSubjectMode;
  log_allowed?: number;
  assertion?: AssertionSource;
  request_id_header?: string;
  strip_headers?: string[];
}

/** The settings, and the default origin routes without an `origin` take (compile-routes.ts). */
export function compileSettings(files: readonly ReadPolicyFile[], errors: ErrorList): { settings: CompiledSettings; defaultOrigin: OriginSource | undefined } {
  const withSettings = files.filter((f) => f.policy.settings !== undefined);
  for (const extra of withSettings.slice(1)) {
    errors.add(extra.file, '/settings', `settings are already given in ${withSettings[0]!.file}; give them in one file only`);
  }
  const source = withSettings[0]?.policy.settings ?? {};
  // Only reached with a settings block: the defaults alone have nothing to report.
  const report: Report = (path, message) => errors.add(withSettings[0]!.file, pointer('settings', ...path), message);
  const requestIdHeader = source.request_id_header ?? null;
  if (requestIdHeader !== null && CREDENTIAL_HEADERS.includes(requestIdHeader)) {
    report(['request_id_header'], `"${requestIdHeader}" carries credentials: its value would be logged, sent to the origin and answered in error bodies`);
  }
  const identityHeaderPrefix = source.identity_header_prefix ?? DEFAULT_IDENTITY_HEADER_PREFIX;
  const prefixProblem = identityPrefixProblem(identityHeaderPrefix);
  if (prefixProblem !== null) report(['identity_header_prefix'], prefixProblem);
  if (requestIdHeader !== null && requestIdHeader.startsWith(identityHeaderPrefix)) {
    report(['request_id_header'], `"${requestIdHeader}" is in the identity namespace "${identityHeaderPrefix}": the gateway removes it from every request as forged, so the origin would never see the client's id`);
  }
  const settings: CompiledSettings = {
    realm: source.realm ?? DEFAULT_REALM,
    identityHeaderPrefix,
    assertion: compileAssertion(source.assertion, { prefix: identityHeaderPrefix, requestIdHeader }, (path, message) => report(['assertion', ...path], message)),
    requestIdHeader,
    // Only when set, so a policy without it compiles exactly as before; the log reads a missing mode as "plain".
    ...(source.log_subject !== undefined && { logSubject: source.log_subject }),
    // Likewise: absent means every allowed request's record is written.
    ...(source.log_allowed !== undefined && { logAllowed: source.log_allowed }),
    ...(source.strip_headers !== undefined && { stripHeaders: source.strip_headers }),
  };
  return { settings, defaultOrigin: source.default_origin };
}
