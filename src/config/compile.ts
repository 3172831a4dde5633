/**
 * Policy files -> the compiled configuration. Runs at build time (scripts/compile-policies.ts, the
 * wrangler build command, `npm run check`) and in tests; never per request. Pure: file texts in, a
 * config or a list of errors out, each naming the file, the JSON path inside it and what is wrong.
 * One file per thing compiled: policy-files.ts, compile-settings.ts, compile-issuers.ts, compile-routes.ts.
 */
import { compileIssuers } from './compile-issuers.ts';
import { compileRoutes } from './compile-routes.ts';
import { compileSettings } from './compile-settings.ts';
import { resolveTokenSources } from './compile-token-sources.ts';
import { ErrorList, pointer, type PolicyError } from './policy-errors.ts';
import { readPolicyFiles, type PolicySource } from './policy-files.ts';
import { checkForwardedSpaces, checkPrecedence } from './route-checks.ts';
import { COMPILED_CONFIG_VERSION, type CompiledConfig, type CompiledRoute } from './types.ts';

export { formatPolicyError, type PolicyError } from './policy-errors.ts';
export type { PolicySource } from './policy-files.ts';

export type CompileResult = { ok: true; config: CompiledConfig } | { ok: false; errors: PolicyError[] };

export function compilePolicies(sources: readonly PolicySource[]): CompileResult {
  const errors = new ErrorList();
  const files = readPolicyFiles(sources, errors);
  // A file that does not parse or match the schema stops here: nothing is compiled from half-read policies.
  if (errors.errors.length > 0) return { ok: false, errors: errors.errors };
  const { settings, defaultOrigin } = compileSettings(files, errors);
  const { issuers, declaredIssuers } = compileIssuers(files, settings, errors);
  const routes = compileRoutes(files, { settings, defaultOrigin, declaredIssuers, issuers }, errors);
  // Across routes, once all are compiled: token sources taken from issuers, then what two routes together get wrong.
  const reportRoute = (route: CompiledRoute, message: string) => errors.add(route.file, pointer('routes', route.id), message);
  resolveTokenSources(routes, issuers, (route, field, message) => errors.add(route.file, pointer('routes', route.id, field), message));
  checkPrecedence(routes, reportRoute);
  checkForwardedSpaces(routes, reportRoute);
  if (errors.errors.length > 0) return { ok: false, errors: errors.errors };
  routes.sort((a, b) => (a.id < b.id ? -1 : 1));
  return { ok: true, config: { version: COMPILED_CONFIG_VERSION, settings, issuers, routes } };
}
