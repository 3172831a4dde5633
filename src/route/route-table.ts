/**
 * Which route governs a request. Built once per isolate from the compiled routes; a lookup costs a few
 * map reads per path segment, whatever the number of routes.
 *
 * Precedence (documented in docs/configuration.md), most specific first:
 *   1. host: an exact host, then wildcard hosts from the longest suffix, then routes without a host;
 *   2. path: an exact path, then the longest prefix pattern ("/a/b/*" before "/a/*" before "/*");
 *   3. method: a route that lists the method before one that takes any method.
 * Two routes that tie on all three are refused when policies are compiled, so no order of files matters.
 */
import type { CompiledRoute } from '../config/types.ts';
import { foldCase } from '../request/canonical-path.ts';

interface PathEntry {
  byMethod: Map<string, CompiledRoute>;
  anyMethod: CompiledRoute | undefined;
}

interface HostTable {
  exact: Map<string, PathEntry>;
  prefix: Map<string, PathEntry>;
}

const ANY_HOST = '';

export class RouteTable {
  readonly #hosts = new Map<string, HostTable>();
  readonly #wildcardSuffixes: string[];

  /** `folded`: patterns are kept with their letters in lower case, for paths read case-insensitively (foldCase). */
  constructor(routes: readonly CompiledRoute[], folded = false) {
    for (const route of routes) {
      const hostKey = route.host ?? ANY_HOST;
      let table = this.#hosts.get(hostKey);
      if (!table) this.#hosts.set(hostKey, (table = { exact: new Map(), prefix: new Map() }));
      const paths = route.path.kind === 'exact' ? table.exact : table.prefix;
      const pattern = folded ? foldCase(route.path.value) : route.path.value;
      let entry = paths.get(pattern);
      if (!entry) paths.set(pattern, (entry = { byMethod: new Map(), anyMethod: undefined }));
      if (route.methods === null) entry.anyMethod = route;
      else for (const method of route.methods) entry.byMethod.set(method, route);
    }
    this.#wildcardSuffixes = [...this.#hosts.keys()]
      .filter((host) => host.startsWith('*.'))
      .map((host) => host.slice(1))
      .sort((a, b) => b.length - a.length);
  }

  match(method: string, host: string, path: string): CompiledRoute | undefined {
    const hostname = host.toLowerCase();
    const candidates = [hostname, ...this.#wildcardSuffixes.filter((s) => hostname.endsWith(s)).map((s) => `*${s}`), ANY_HOST];
    for (const hostKey of candidates) {
      const table = this.#hosts.get(hostKey);
      const route = table && matchPath(table, method, path);
      if (route) return route;
    }
    return undefined;
  }
}

const pick = (entry: PathEntry | undefined, method: string) => entry && (entry.byMethod.get(method) ?? entry.anyMethod);

function matchPath(table: HostTable, method: string, path: string): CompiledRoute | undefined {
  const exact = pick(table.exact.get(path), method);
  if (exact) return exact;
  // "/a/b/*" covers "/a/b" and everything below "/a/b/": try "/a/b/c", "/a/b", "/a", "" in turn.
  let prefix = path.endsWith('/') ? path.slice(0, -1) : path;
  for (;;) {
    const route = pick(table.prefix.get(prefix), method);
    if (route) return route;
    if (prefix === '') return undefined;
    prefix = prefix.slice(0, prefix.lastIndexOf('/'));
  }
}
