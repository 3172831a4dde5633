/**
 * Which route judges a canonical request, when the origin could read it more than one way.
 *
 * Origins differ on a few things the canonical form keeps as the client sent them, because changing them
 * would change the request for the origins that do care:
 *   - case: Express (by default), ASP.NET Core and IIS match paths case-insensitively, Hono, Flask, Go and
 *     Spring do not;
 *   - a trailing slash: Express (non-strict), Spring (before 6), Flask's redirect serve `/a/` as `/a`;
 *   - HEAD: every mainstream framework runs the GET handler for it;
 *   - an ambiguity a route allowed (`allow_in_path`): `%2F` decoded or not, `;params` dropped or not.
 * Each reading is matched; the request is judged by the strictest route among them (strictness.ts), so
 * whatever the origin runs was checked at least as hard as its route asks. A reading that matches no route
 * makes the request match none (deny by default); readings whose routes cannot be compared are refused
 * (`path_ambiguous`), and so is an ambiguity that one of the routes does not allow.
 *
 * Path variables (`/tenants/{tenant}/*`) are read from the path as sent, never from its case-folded reading,
 * and every reading that lands on the judging route must give each variable the same value (a decoded
 * `%2F` shifts segments): else `path_ambiguous`. A claim is then compared with that one value.
 */
import type { CompiledRoute } from '../config/types.ts';
import { finding, type Finding } from '../findings.ts';
import { foldCase } from '../request/canonical-path.ts';
import type { CanonicalRequest } from '../request/canonical.ts';
import { RouteTable } from './route-table.ts';
import { strictestOf } from './strictness.ts';

/** The values of the route's path variables in this request; absent when its path has none. */
export type PathVariables = Readonly<Record<string, string>>;

export type Resolution = { ok: true; route: CompiledRoute; pathVariables?: PathVariables } | { ok: false; finding: Finding };

/** A reading that landed on a route with path variables, kept to read the variables' values from. */
interface TemplatedMatch {
  route: CompiledRoute;
  spelling: string;
}

const withoutTrailingSlash = (path: string) => (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : null);

export class RouteResolver {
  readonly #exact: RouteTable;
  readonly #folded: RouteTable;
  /** Whether some pattern has an upper-case letter: then even a lower-case path has a folded reading of its own. */
  readonly #upperCasePatterns: boolean;

  constructor(routes: readonly CompiledRoute[]) {
    this.#exact = new RouteTable(routes);
    this.#folded = new RouteTable(routes, true);
    this.#upperCasePatterns = routes.some((route) => /[A-Z]/.test(route.path.value));
  }

  resolve(request: CanonicalRequest): Resolution {
    const { host } = request;
    const found: CompiledRoute[] = [];
    const templated: TemplatedMatch[] = [];
    for (const path of request.readings.length === 0 ? [request.path] : [request.path, ...request.readings]) {
      const stripped = withoutTrailingSlash(path);
      for (const spelling of stripped === null ? [path] : [path, stripped]) {
        if (!this.#matchInto(found, templated, request.method, host, spelling, spelling, this.#exact)) return notFound();
        const folded = foldCase(spelling);
        if (folded === spelling && !this.#upperCasePatterns) continue;
        if (!this.#matchInto(found, templated, request.method, host, folded, spelling, this.#folded)) return notFound();
      }
    }
    const route = strictestOf(found);
    if (route === null) {
      return { ok: false, finding: finding('path_ambiguous', { detail: `readings of the path fall to routes ${found.map((r) => r.id).join(', ')}, none at least as strict as the others` }) };
    }
    for (const ambiguity of request.ambiguities) {
      const refusing = found.find((r) => !r.allowInPath?.includes(ambiguity));
      if (refusing) return { ok: false, finding: finding('path_ambiguous', { detail: `${ambiguity.replace('_', ' ')} not allowed by route ${refusing.id}` }) };
    }
    if (route.path.variables === undefined) return { ok: true, route };
    return variablesOf(route, templated);
  }

  /**
   * Adds the route of one reading to `found`; false when it has none. HEAD is read as GET as well (a route
   * listing only GET judges HEAD too). `spelling` is the reading before case folding: variables are read from it.
   */
  #matchInto(found: CompiledRoute[], templated: TemplatedMatch[], method: string, host: string, path: string, spelling: string, table: RouteTable): boolean {
    const route = table.match(method, host, path);
    const asGet = method === 'HEAD' ? table.match('GET', host, path) : undefined;
    for (const matched of [route, asGet]) {
      if (matched === undefined) continue;
      add(found, matched);
      if (matched.path.variables !== undefined) templated.push({ route: matched, spelling });
    }
    return route !== undefined || asGet !== undefined;
  }
}

/** Each variable's value, the same in every reading that reached the route, or path_ambiguous. */
function variablesOf(route: CompiledRoute, templated: readonly TemplatedMatch[]): Resolution {
  const values: Record<string, string> = {};
  for (const { route: matched, spelling } of templated) {
    if (matched !== route) continue;
    const segments = spelling.split('/');
    for (const { name, segment } of route.path.variables!) {
      const value = segments[segment]!;
      if (values[name] === undefined) values[name] = value;
      else if (values[name] !== value) {
        return { ok: false, finding: finding('path_ambiguous', { detail: `readings of the path give the variable {${name}} two values` }) };
      }
    }
  }
  return { ok: true, route, pathVariables: values };
}

const notFound = (): Resolution => ({ ok: false, finding: finding('route_not_found') });

function add(found: CompiledRoute[], route: CompiledRoute): void {
  if (!found.includes(route)) found.push(route);
}
