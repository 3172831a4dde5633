/**
 * A fast-check generator of the ways a client can spell a request for one of a route table's paths: escapes
 * of any character (either hex case), case changes, doubled slashes, dot segments raw and encoded, `;x`
 * parameters (`..;` included), `%2F`, backslashes raw and encoded, trailing slashes, non-ASCII look-alikes,
 * double encoding, control characters; HEAD beside GET and the other methods; method-override headers and
 * `_method`, a query `access_token`; the host in other cases and with a trailing dot.
 */
import fc from 'fast-check';
import type { CompiledConfig } from '../../src/config/types.ts';

export interface Spelling {
  method: string;
  host: string;
  /** Path and query as the client writes them after the host (not yet parsed: the URL parser is part of the test). */
  target: string;
  headers: Record<string, string>;
}

const escape = (c: string, lower: boolean) => {
  const hex = [...new TextEncoder().encode(c)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  return lower ? hex : hex.toUpperCase();
};

/** Paths each route's handlers serve: its own path, below it, and its neighbours' paths grafted under it. */
function seedPaths(config: CompiledConfig): string[] {
  const bases = config.routes.map((r) => (r.path.value === '' ? '/' : r.path.value));
  const seeds = new Set<string>(['/', '/x', '/admin/users']);
  for (const route of config.routes) {
    const base = route.path.value;
    seeds.add(base || '/');
    if (route.path.kind === 'prefix') {
      seeds.add(`${base}/users`);
      seeds.add(`${base}/admin/users`);
      for (const other of bases) if (other !== '/') seeds.add(`${base}${other}`);
    }
  }
  return [...seeds];
}

type Mutation = (path: string, at: number, pick: number) => string;

const LOOKALIKES = ['\u0131', '\u017f', '\u212a', '\uff41', '\u0430', '\u00e9', 'A\u030a', '\u00c5'];

/** Each takes the path, a position in it and a free choice, and returns another spelling of (or near) it. */
const MUTATIONS: Mutation[] = [
  // An escape of one character, as a decoding stack reads it back.
  (p, at, pick) => (p.length <= 1 ? p : p.slice(0, at) + escape(p[at]!, pick % 2 === 0) + p.slice(at + 1)),
  // A letter's case, or a whole segment's.
  (p, at) => p.slice(0, at) + p.slice(at, at + 1).toUpperCase() + p.slice(at + 1),
  (p, at) => {
    const end = p.indexOf('/', at + 1);
    return p.slice(0, at) + (end === -1 ? p.slice(at).toUpperCase() : p.slice(at, end).toUpperCase() + p.slice(end));
  },
  // Separators: doubled, encoded, a backslash raw or encoded.
  (p, at) => slashAt(p, at, '//'),
  (p, at, pick) => slashAt(p, at, pick % 2 === 0 ? '%2F' : '%2f'),
  (p, at, pick) => slashAt(p, at, ['\\', '%5C', '%5c', '/\\'][pick % 4]!),
  // Dot segments, raw and encoded, and the Tomcat `..;` that hides one from a gateway matching as spelled.
  (p, at, pick) => slashAt(p, at, ['/./', '/%2e/', '/x/../', '/x/%2e%2E/', '/.%2e/', '/..;/', '/%2e%2e;x/', '/public/..;/'][pick % 8]!),
  // `;params` on a segment.
  (p, at, pick) => insertBeforeSlash(p, at, [';x', ';', ';jsessionid=1', '%3B', '%3bx'][pick % 5]!),
  // A trailing slash added, removed or doubled.
  (p) => (p.endsWith('/') && p.length > 1 ? p.slice(0, -1) : `${p}/`),
  (p) => `${p}//`,
  // Non-ASCII look-alikes of letters (raw: the URL parser encodes them), or escaped.
  (p, at, pick) => p.slice(0, at) + LOOKALIKES[pick % LOOKALIKES.length]! + p.slice(at + 1),
  (p, at, pick) => p.slice(0, at) + escape(LOOKALIKES[pick % LOOKALIKES.length]!, false) + p.slice(at + 1),
  // Double encoding, NUL, controls, a stray "%", invalid UTF-8, overlong "/".
  (p, at, pick) => p.slice(0, at) + ['%2561', '%252F', '%00', '%09', '%0A', '%', '%zz', '%C3', '%C0%AF', '%E2%80%A8', '%7F', '\t'][pick % 12]! + p.slice(at),
];

function slashAt(p: string, at: number, replacement: string): string {
  const slash = p.indexOf('/', at);
  const i = slash === -1 ? p.lastIndexOf('/') : slash;
  return p.slice(0, i) + replacement + p.slice(i + 1);
}

function insertBeforeSlash(p: string, at: number, text: string): string {
  const slash = p.indexOf('/', at + 1);
  const i = slash === -1 ? p.length : slash;
  return p.slice(0, i) + text + p.slice(i);
}

const METHODS = ['GET', 'GET', 'HEAD', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
const OVERRIDES: Record<string, string>[] = [
  {}, {}, {}, {}, {}, {}, {}, {}, {}, {},
  { 'x-http-method-override': 'DELETE' },
  { 'X-HTTP-Method': 'GET' },
  { 'x-method-override': 'PUT' },
  { origin: 'https://app.example', 'access-control-request-method': 'DELETE' },
];
const QUERIES = ['', '', '', '', '', '', '', '', '?q=1', '?q=1', '?_method=DELETE', '?a=1&_METHOD=put', '?access_token=forged', '?%61ccess_token=x', '?x=1;access_token=y'];

export function spellings(config: CompiledConfig, hosts: readonly string[]): fc.Arbitrary<Spelling> {
  const mutation = fc.tuple(fc.nat(MUTATIONS.length - 1), fc.nat(200), fc.nat(1000));
  return fc
    .record({
      seed: fc.constantFrom(...seedPaths(config)),
      mutations: fc.array(mutation, { minLength: 0, maxLength: 3 }),
      method: fc.constantFrom(...METHODS),
      host: fc.constantFrom(...hosts),
      hostSpelling: fc.constantFrom('as is', 'as is', 'upper', 'trailing dot'),
      headers: fc.constantFrom(...OVERRIDES),
      query: fc.constantFrom(...QUERIES),
    })
    .map(({ seed, mutations, method, host, hostSpelling, headers, query }) => {
      let path = seed;
      for (const [which, at, pick] of mutations) path = MUTATIONS[which]!(path, at % Math.max(1, path.length), pick);
      const spelledHost = hostSpelling === 'upper' ? host.toUpperCase() : hostSpelling === 'trailing dot' ? `${host}.` : host;
      return { method, host: spelledHost, target: (path.startsWith('/') ? path : `/${path}`) + query, headers };
    });
}
