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
 */
import type { CompiledRoute } from '../config/types.ts';
import { finding, type Finding } from '../findings.ts';
import { foldCase } from '../request/canonical-path.ts';
import type { CanonicalRequest } from '../request/canonical.ts';
import { RouteTable } from './route-table.ts';
import { strictestOf } from './strictness.ts';

export type Resolution = { ok: true; route: CompiledRoute } | { ok: false; finding: Finding };

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
    for (const path of request.readings.length === 0 ? [request.path] : [request.path, ...request.readings]) {
      const stripped = withoutTrailingSlash(path);
      for (const spelling of stripped === null ? [path] : [path, stripped]) {
        if (!this.#matchInto(found, request.method, host, spelling, this.#exact)) return notFound();
        const folded = foldCase(spelling);
        if (folded === spelling && !this.#upperCasePatterns) continue;
        if (!this.#matchInto(found, request.method, host, folded, this.#folded)) return notFound();
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
    return { ok: true, route };
  }

  /** Adds the route of one reading to `found`; false when it has none. HEAD is read as GET as well (a route listing only GET judges HEAD too). */
  #matchInto(found: CompiledRoute[], method: string, host: string, path: string, table: RouteTable): boolean {
    const route = table.match(method, host, path);
    const asGet = method === 'HEAD' ? table.match('GET', host, path) : undefined;
    if (route !== undefined) add(found, route);
    if (asGet !== undefined) add(found, asGet);
    return route !== undefined || asGet !== undefined;
  }
}

const notFound = (): Resolution => ({ ok: false, finding: finding('route_not_found') });

function add(found: CompiledRoute[], route: CompiledRoute): void {
  if (!found.includes(route)) found.push(route);
}
