/**
 * Models of how mainstream origin stacks pick a handler for the path they receive: the test oracle of
 * origin-agreement.test.ts. Each model turns the path an origin receives (the gateway's forwarded path)
 * into the path its router dispatches on, and says how its router compares paths (case, trailing slash).
 * `handlerFor` then finds which of a policy's routes owns the handler the stack would run, under those
 * rules, as if the origin registered one handler per route pattern (its delivered path at that origin).
 *
 * The rules, from each stack's documented defaults (and source where the docs are silent):
 *   Express 4/5     matches the raw, still-encoded path (params are decoded after matching); case-insensitive
 *                   and non-strict (`/a/` is `/a`) by default.
 *   Hono 4          decodeURI (reserved escapes such as %2F and %3B stay), `%25` kept; case-sensitive; strict.
 *   Flask/Werkzeug  the WSGI server unquotes PATH_INFO fully (%2F included); Map(merge_slashes=True) merges
 *                   `//`; strict_slashes redirects `/a` to `/a/` (counted as the same handler).
 *   Spring/Tomcat   Tomcat drops `;params` from each raw segment, decodes (an encoded `/` or a backslash is a
 *                   400), merges `//` and resolves dot segments; Spring 5 matches a trailing slash too.
 *   nginx           location matching on the normalized URI: decoded (%2F too), `//` merged, dots resolved;
 *                   a prefix location ending in `/` answers its bare path with a redirect to it.
 *   Go ServeMux     r.URL.Path is fully decoded (%2F too, before Go 1.22) and cleaned (`//`, dots), with a
 *                   redirect from `/a` to a subtree pattern `/a/`.
 *   ASP.NET Core    Kestrel decodes all but %2F and removes dot segments; IIS turns `\` into `/`; routing is
 *                   case-insensitive (OrdinalIgnoreCase) and ignores a trailing slash.
 * Where a stack redirects, the model dispatches as if it had not: the conservative reading.
 */
import type { CompiledRoute } from '../../src/config/types.ts';

export interface Dispatch {
  /** The path the router compares with its patterns, in the stack's own spelling (decoded or not). */
  path: string;
  caseInsensitive: boolean;
  /** `/a/` runs the handler of `/a` (and the other way round). */
  trailingSlashOptional: boolean;
}

export interface OriginModel {
  name: string;
  /** null: the stack refuses the path itself (a 400 before any handler). */
  dispatch(received: string): Dispatch | null;
}

const HEX_RUN = /(?:%[0-9A-Fa-f]{2})+/g;

/** Percent-decodes every escape run as UTF-8, except the bytes in `keep`; an undecodable run stays as it is. */
export function percentDecode(path: string, keep: ReadonlySet<number> = new Set()): string {
  return path.replace(HEX_RUN, (run) => {
    const bytes = run.slice(1).split('%').map((h) => parseInt(h, 16));
    let out = '';
    let pending: number[] = [];
    const flush = () => {
      if (pending.length === 0) return;
      try {
        out += new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(new Uint8Array(pending));
      } catch {
        out += pending.map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
      }
      pending = [];
    };
    for (const byte of bytes) {
      if (keep.has(byte)) {
        flush();
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
      } else pending.push(byte);
    }
    flush();
    return out;
  });
}

/** RFC 3986 5.2.4, as URL normalizers (Tomcat, nginx, Go's cleanPath, Kestrel) apply it. */
export function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segments = path.split('/').slice(1);
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '.' || segment === '..') {
      if (segment === '..' && out.length > 0) out.pop();
      if (last) out.push('');
    } else out.push(segment);
  });
  return `/${out.join('/')}`;
}

const mergeSlashes = (path: string) => path.replace(/\/{2,}/g, '/');
const withoutParameters = (path: string) => path.replace(/;[^/]*/g, '');
const SLASH = new Set([0x2f]);

export const ORIGIN_MODELS: readonly OriginModel[] = [
  { name: 'Express', dispatch: (path) => ({ path, caseInsensitive: true, trailingSlashOptional: true }) },
  {
    name: 'Hono',
    // decodeURI leaves the escapes of reserved characters (# $ & + , / : ; = ? @) and Hono keeps %25.
    dispatch: (path) => ({ path: percentDecode(path, new Set([...'#$&+,/:;=?@%'].map((c) => c.charCodeAt(0)))), caseInsensitive: false, trailingSlashOptional: false }),
  },
  { name: 'Flask/Werkzeug', dispatch: (path) => ({ path: mergeSlashes(percentDecode(path)), caseInsensitive: false, trailingSlashOptional: true }) },
  {
    name: 'Spring/Tomcat',
    dispatch: (path) => {
      const stripped = withoutParameters(path);
      if (/%2F|%5C|\\/i.test(stripped)) return null; // ALLOW_ENCODED_SLASH and ALLOW_BACKSLASH are off by default
      return { path: removeDotSegments(mergeSlashes(percentDecode(stripped))), caseInsensitive: false, trailingSlashOptional: true };
    },
  },
  { name: 'nginx', dispatch: (path) => ({ path: removeDotSegments(mergeSlashes(percentDecode(path))), caseInsensitive: false, trailingSlashOptional: true }) },
  { name: 'Go ServeMux', dispatch: (path) => ({ path: removeDotSegments(mergeSlashes(percentDecode(path))), caseInsensitive: false, trailingSlashOptional: true }) },
  {
    name: 'ASP.NET Core',
    dispatch: (path) => ({ path: removeDotSegments(percentDecode(path.replace(/\\/g, '/'), SLASH)), caseInsensitive: true, trailingSlashOptional: true }),
  },
];

/**
 * Case folding as OrdinalIgnoreCase and JavaScript's non-unicode `i` flag do it: each UTF-16 unit upper-cased
 * on its own, never a non-ASCII character to an ASCII one (.NET exempts U+0131 and U+017F, ECMAScript all).
 */
export function foldForComparison(text: string): string {
  let out = '';
  for (const c of text) {
    const upper = c.toUpperCase();
    out += upper.length === c.length && !(c.charCodeAt(0) > 0x7f && upper.charCodeAt(0) <= 0x7f) ? upper : c;
  }
  return out;
}

/** Where a route's requests land at its origin: the origin, and the route's pattern as the origin receives it. */
export interface Handler {
  route: CompiledRoute;
  origin: string;
  kind: 'exact' | 'prefix';
  /** The delivered pattern's path, without "/*" ("" for a prefix pattern covering everything). */
  value: string;
}

export function handlerOf(route: CompiledRoute): Handler {
  const target = route.forward.origin;
  let origin = 'same-url';
  let base = '';
  let strip: string | null = null;
  if (target.kind === 'service') {
    origin = `service ${target.binding}`;
    strip = target.stripPathPrefix;
  } else if (target.kind === 'url') {
    const url = new URL(target.url);
    origin = url.origin;
    base = url.pathname.replace(/\/$/, '');
    strip = target.stripPathPrefix;
  }
  const { kind, value } = route.path;
  let rest = value;
  if (strip !== null && (value === strip || value.startsWith(`${strip}/`))) rest = value.slice(strip.length);
  return { route, origin, kind, value: base + rest };
}

function samePath(a: string, b: string, dispatch: Dispatch): boolean {
  if (dispatch.caseInsensitive) [a, b] = [foldForComparison(a), foldForComparison(b)];
  if (a === b) return true;
  if (!dispatch.trailingSlashOptional) return false;
  const bare = (p: string) => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p);
  return bare(a) === bare(b);
}

function covers(handler: Handler, path: string, model: OriginModel, dispatch: Dispatch): boolean {
  // The handler as the stack's developer registers it: the pattern in the stack's own spelling.
  const pattern = handler.value === '' ? '' : (model.dispatch(handler.value)?.path ?? handler.value);
  if (handler.kind === 'exact') return samePath(path, pattern, dispatch);
  if (pattern === '') return true;
  const folded = (p: string) => (dispatch.caseInsensitive ? foldForComparison(p) : p);
  return samePath(path, pattern, dispatch) || folded(path).startsWith(`${folded(pattern)}/`);
}

/** Exact before prefix, longer prefix first, a route naming the method before one taking any. */
const specificity = (h: Handler) => (h.kind === 'exact' ? 1e6 : h.value.length * 2) + (h.route.methods === null ? 0 : 1);

/**
 * The routes whose handlers the stack runs for `method` at the dispatched path, among the handlers at one origin:
 * the most specific match (several when routes on different hosts share a pattern: the origin cannot tell them apart).
 */
export function handlersFor(handlers: readonly Handler[], model: OriginModel, dispatch: Dispatch, method: string): CompiledRoute[] {
  const matching = handlers.filter((h) => (h.route.methods === null || h.route.methods.includes(method)) && covers(h, dispatch.path, model, dispatch));
  if (matching.length === 0) return [];
  const best = Math.max(...matching.map(specificity));
  return matching.filter((h) => specificity(h) === best).map((h) => h.route);
}

/** The methods a framework may run a handler for: the request's own, GET for HEAD, and any override it carries. */
export function methodsRun(method: string, headers: Headers, search: string): string[] {
  const methods = new Set([method]);
  if (method === 'HEAD') methods.add('GET');
  for (const name of ['x-http-method-override', 'x-http-method', 'x-method-override']) {
    const value = headers.get(name);
    if (value) methods.add(value.toUpperCase());
  }
  const override = new URLSearchParams(search).get('_method');
  if (override) methods.add(override.toUpperCase());
  return [...methods];
}
