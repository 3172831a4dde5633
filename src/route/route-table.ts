/**
 * Which route governs a request. Built once per isolate from the compiled routes; a lookup costs a few
 * map reads per path segment, whatever the number of routes.
 *
 * Precedence (documented in docs/configuration.md), most specific first:
 *   1. host: an exact host, then wildcard hosts from the longest suffix, then routes without a host;
 *   2. path: an exact path, then the longest prefix pattern ("/a/b/*" before "/a/*" before "/*"); at each
 *      length a literal pattern before one with path variables ("/tenants/admin" before "/tenants/{tenant}"),
 *      and among those a literal segment before a variable, from the left;
 *   3. method: a route that lists the method before one that takes any method.
 * Two routes that tie on all three are refused when policies are compiled, so no order of files matters.
 */
import type { CompiledRoute } from '../config/types.ts';
import { foldCase } from '../request/canonical-path.ts';

interface PathEntry {
  byMethod: Map<string, CompiledRoute>;
  anyMethod: CompiledRoute | undefined;
}

/** A pattern with path variables: its segments, null where a variable matches any one non-empty segment. */
interface Template {
  segments: (string | null)[];
  entry: PathEntry;
}

interface HostTable {
  exact: Map<string, PathEntry>;
  prefix: Map<string, PathEntry>;
  /** Patterns with variables, most specific first; empty for nearly every policy (then they cost nothing). */
  exactTemplates: Template[];
  prefixTemplates: Template[];
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
      if (!table) this.#hosts.set(hostKey, (table = { exact: new Map(), prefix: new Map(), exactTemplates: [], prefixTemplates: [] }));
      const pattern = folded ? foldCase(route.path.value) : route.path.value;
      const entry = route.path.variables ? templateEntry(table, route, pattern) : pathEntry(route.path.kind === 'exact' ? table.exact : table.prefix, pattern);
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

function pathEntry(paths: Map<string, PathEntry>, pattern: string): PathEntry {
  let entry = paths.get(pattern);
  if (!entry) paths.set(pattern, (entry = { byMethod: new Map(), anyMethod: undefined }));
  return entry;
}

function templateEntry(table: HostTable, route: CompiledRoute, pattern: string): PathEntry {
  const templates = route.path.kind === 'exact' ? table.exactTemplates : table.prefixTemplates;
  const variableAt = new Set(route.path.variables!.map((v) => v.segment));
  const segments = pattern.split('/').map((s, i) => (variableAt.has(i) ? null : s));
  const same = templates.find((t) => t.segments.length === segments.length && t.segments.every((s, i) => s === segments[i]));
  if (same) return same.entry;
  const template = { segments, entry: { byMethod: new Map(), anyMethod: undefined } };
  templates.push(template);
  templates.sort(bySpecificity);
  return template.entry;
}

/** The first segment where two templates differ decides: a literal before a variable. A total order, so no file order matters. */
function bySpecificity(a: Template, b: Template): number {
  for (let i = 0; i < Math.min(a.segments.length, b.segments.length); i++) {
    const x = a.segments[i];
    const y = b.segments[i];
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    return x! < y! ? -1 : 1;
  }
  return a.segments.length - b.segments.length;
}

function matchTemplate(templates: readonly Template[], method: string, path: string): CompiledRoute | undefined {
  const segments = path.split('/');
  for (const { segments: pattern, entry } of templates) {
    if (pattern.length !== segments.length) continue;
    if (!pattern.every((s, i) => (s === null ? segments[i] !== '' : s === segments[i]))) continue;
    const route = pick(entry, method);
    if (route) return route;
  }
  return undefined;
}

const pick = (entry: PathEntry | undefined, method: string) => entry && (entry.byMethod.get(method) ?? entry.anyMethod);

function matchPath(table: HostTable, method: string, path: string): CompiledRoute | undefined {
  const exact = pick(table.exact.get(path), method) ?? (table.exactTemplates.length > 0 ? matchTemplate(table.exactTemplates, method, path) : undefined);
  if (exact) return exact;
  // "/a/b/*" covers "/a/b" and everything below "/a/b/": try "/a/b/c", "/a/b", "/a", "" in turn.
  let prefix = path.endsWith('/') ? path.slice(0, -1) : path;
  for (;;) {
    const route = pick(table.prefix.get(prefix), method) ?? (table.prefixTemplates.length > 0 ? matchTemplate(table.prefixTemplates, method, prefix) : undefined);
    if (route) return route;
    if (prefix === '') return undefined;
    prefix = prefix.slice(0, prefix.lastIndexOf('/'));
  }
}
