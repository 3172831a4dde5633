/**
 * The origin URL built in one parse (src/forward/origin.ts) against the way it was built before: the policy's
 * URL parsed, then its pathname and search set, each a reparse. The path the origin receives and the target
 * the signed assertion binds (host, path, query) come from this URL: they must stay byte for byte what they
 * were, for every input (the one-parse form where it is shown equal, the setters for the rest) and through
 * the real canonical stage for every spelling of a request the gateway lets through.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OriginTarget } from '../../../src/config/types.ts';
import type { Env } from '../../../src/env.ts';
import { originUrl, resolveOrigin } from '../../../src/forward/origin.ts';
import { canonicalRequest } from '../../../src/request/canonical.ts';

/** The oracle: originUrl as it was before (commit 29cde4b), setters and all. */
function originUrlBefore(origin: string, path: string, search: string, stripPathPrefix: string | null = null): URL {
  const strippedPath = (p: string, prefix: string | null): string => {
    if (prefix === null) return p;
    const head = p.slice(0, prefix.length);
    if (head !== prefix && head.toLowerCase() !== prefix.toLowerCase()) return p;
    if (p.length === prefix.length) return '/';
    return p[prefix.length] === '/' ? p.slice(prefix.length) : p;
  };
  const target = new URL(origin);
  const base = target.pathname.endsWith('/') ? target.pathname.slice(0, -1) : target.pathname;
  target.pathname = base + strippedPath(path, stripPathPrefix);
  target.search = search;
  return target;
}

/** What the origin receives and the assertion binds, with the whole href beside it. */
const view = (url: URL) => ({ href: url.href, host: url.host, path: url.pathname, query: url.search });

const ORIGINS = [
  'https://o.example', 'https://o.example/', 'https://o.example/base', 'https://o.example/base/', 'https://o.example/a/b/',
  'http://127.0.0.1:8789', 'https://o.example:8443/v2', 'http://[::1]:9000/x/', 'https://xn--bcher-kva.example/b',
  'https://bücher.example/ü', 'https://o.example/%7Euser/', 'https://o.example/a;b/c', 'https://o.example/%2F/',
  'https://O.Example:443/Upper', 'http://o.example:80/', 'https://o.example/a%20b', 'https://o.example/.x/',
  // Not http(s): the setters still apply.
  'ws://o.example/s', 'foo://o.example/p', 'https://user:pw@o.example/c',
];
const STRIP = [null, '/api', '/API', '/a;b', '/%2F', '/ü', '/api/'];

/** Every kind of character a path or a query might hold: raw separators, escapes, dots, controls, non-ASCII. */
const PIECES = [
  '/', '//', '\\', 'a', 'Z', '0', '.', '..', '/./', '/../', '%2e', '%2E%2e', '%2F', '%2f', '%5C', ';', ';x=1', '..;', '?', '#', '&', '=',
  '%', '%4', '%41', '%zz', '%25', '+', ' ', '\t', '\n', '\r', '\u0000', '\u001f', '\u007f', '"', '<', '>', '`', '{', '}', '|', '^', "'",
  '[', ']', '@', ':', '~', '!', '$', '(', ')', '*', ',', 'ü', 'é', '\u0131', '\u212a', '\uff0f', '😀', '\ud800', 'api', 'API', '/api',
];
const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }).map((parts) => parts.join(''));
const path = fc.oneof(text.map((t) => `/${t}`), text);
const search = fc.oneof(fc.constant(''), fc.constant('?'), text.map((t) => `?${t}`), text);

describe('the origin URL in one parse', () => {
  it('is the URL the setters gave, for any path and query (the one parse where shown equal, the setters for the rest)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ORIGINS), path, search, fc.constantFrom(...STRIP), (origin, p, s, strip) => {
        expect(view(originUrl(origin, p, s, strip))).toEqual(view(originUrlBefore(origin, p, s, strip)));
      }),
      { numRuns: 20_000 },
    );
  });

  it('is the URL the setters gave for every request the canonical stage lets through, for url, same-url and service origins', () => {
    const service = { fetch: () => new Response() };
    const env = { ORIGIN_SERVICE: service } as unknown as Env;
    const hosts = ['gw.example', 'GW.example.', 'gw.example:8443', '[::1]:8787', 'bücher.example'];
    let judged = 0;
    fc.assert(
      fc.property(fc.constantFrom(...hosts), text, search, fc.constantFrom(...ORIGINS.slice(0, 17)), fc.constantFrom(...STRIP), (host, raw, s, origin, strip) => {
        let url: URL;
        try {
          url = new URL(`https://${host}/${raw}${s}`);
        } catch {
          return;
        }
        const canonical = canonicalRequest('GET', url);
        if (!canonical.ok) return;
        judged++;
        const { path: p, search: q } = canonical.request;
        const targets: [OriginTarget, URL][] = [
          [{ kind: 'url', url: origin, stripPathPrefix: strip }, originUrlBefore(origin, p, q, strip)],
          [{ kind: 'same-url' }, originUrlBefore(url.origin, p, q)],
          [{ kind: 'service', binding: 'ORIGIN_SERVICE', stripPathPrefix: strip }, originUrlBefore(url.origin, p, q, strip)],
        ];
        for (const [target, before] of targets) {
          const resolved = resolveOrigin(target, canonical.request, url, env);
          if (!resolved.ok) throw new Error(resolved.reason);
          expect(view(resolved.origin.url)).toEqual(view(before));
        }
      }),
      { numRuns: 20_000 },
    );
    // The property must have judged requests, not only refusals.
    expect(judged).toBeGreaterThan(5_000);
  });

  it('takes the one parse for the paths a request carries: no pathname or search setter', () => {
    const url = new URL('https://gw.example/api/items/%C3%BC;v=1/x?q=1&r=%20;s');
    const canonical = canonicalRequest('GET', url);
    if (!canonical.ok) throw new Error(canonical.finding.code);
    const setters = { pathname: Object.getOwnPropertyDescriptor(URL.prototype, 'pathname')!, search: Object.getOwnPropertyDescriptor(URL.prototype, 'search')! };
    const set: string[] = [];
    for (const [name, descriptor] of Object.entries(setters)) {
      Object.defineProperty(URL.prototype, name, { ...descriptor, set(this: URL, value: string) { set.push(name); descriptor.set!.call(this, value); } });
    }
    try {
      const targets: OriginTarget[] = [{ kind: 'url', url: 'https://o.example/v2/', stripPathPrefix: '/api' }, { kind: 'same-url' }];
      for (const target of targets) resolveOrigin(target, canonical.request, url, {} as Env);
      // The check itself works: the setters' form is seen.
      originUrl('foo://o.example/p', '/x', '?y');
    } finally {
      for (const [name, descriptor] of Object.entries(setters)) Object.defineProperty(URL.prototype, name, descriptor);
    }
    expect(set).toEqual(['pathname', 'search']);
  });
});
