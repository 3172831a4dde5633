/**
 * Where a route applies: its `path` -> the PathPattern src/route/ matches requests against (exact or prefix
 * "/x/*", `{name}` variables as whole segments, in the canonical form requests are matched in), and its `host`.
 */
import type { PathPattern, PathVariable } from './types.ts';
import { canonicalPath } from '../request/canonical-path.ts';

/** A path variable: one whole segment, `{name}`. */
const VARIABLE_SEGMENT = /^\{([a-z][a-z0-9_]{0,31})\}$/;

/** The pattern, or what is wrong with the path. */
export function compilePath(path: string): PathPattern | string {
  if (path === '/*') return { kind: 'prefix', value: '' };
  const prefix = path.endsWith('/*');
  const body = prefix ? path.slice(0, -2) : path;
  if (body.includes('*')) return '"*" may only end a path, as "/prefix/*"';
  if (/\/\/|\/\.\.?(\/|$)/.test(body)) return 'empty, "." or ".." segments never match a normalized URL path';
  if (/[?#\s]/.test(body)) return 'a path pattern has no query, fragment or whitespace';
  if (!prefix && body.length > 1 && body.endsWith('/')) return 'a trailing "/" would only match that exact spelling; write "/path" or "/path/*"';
  // Variables are whole segments; checked for canonical form as a plain segment would be, since requests never spell "{".
  const variables: PathVariable[] = [];
  const segments = body.split('/');
  for (const [index, segment] of segments.entries()) {
    const variable = VARIABLE_SEGMENT.exec(segment);
    if (variable) {
      if (variables.some((v) => v.name === variable[1])) return `the variable {${variable[1]}} appears twice`;
      variables.push({ name: variable[1]!, segment: index });
      segments[index] = 'x';
    } else if (/[{}]/.test(segment)) {
      return 'a path variable is a whole segment, "{name}" (lower case, digits, "_"), as in "/tenants/{tenant}/*"';
    }
  }
  const plain = segments.join('/');
  // Requests are matched in canonical form (src/request/canonical-path.ts): a pattern in another form would never match.
  const canonical = canonicalPath(plain || '/');
  if (!canonical.ok) return `not a path the gateway accepts: ${canonical.reason}`;
  if (canonical.path !== (plain || '/') || canonical.ambiguities.length > 0) return `write the path in canonical form, as requests are matched: ${JSON.stringify(canonical.path + (prefix ? '/*' : ''))} (escapes of plain characters decoded, hex in upper case, no ";")`;
  return { kind: prefix ? 'prefix' : 'exact', value: body, ...(variables.length > 0 && { variables }) };
}

/** A host name or "*.domain", lower-cased; null when it is neither. */
export function compileHost(host: string): string | null {
  const lower = host.toLowerCase();
  return /^(\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+$/.test(lower) ? lower : null;
}
