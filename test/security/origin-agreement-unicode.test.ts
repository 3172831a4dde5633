/**
 * Non-ASCII route paths (found by the origin-agreement models; both failed on 383e98b):
 *   1. The gateway folds only ASCII case (foldCase), but ASP.NET Core decodes the path and matches it with
 *      OrdinalIgnoreCase, which folds É/é (only U+0131 and U+017F are exempt in .NET's ordinal casing table).
 *      With an enforced "/caf%C3%A9/*" beside a public "/*", "/CAF%C3%89/x" is judged by the public route,
 *      and ASP.NET Core runs the café handler.
 *   2. A route path written with raw non-ASCII ("/café/*") compiles, but no request can match it: the URL
 *      parser percent-encodes every request path ("/caf%C3%A9/x"). Such a request falls to the public
 *      default, and every decoding stack (Flask, Go, nginx, ASP.NET Core, Hono) runs the café handler.
 */
import { describe, expect, it } from 'vitest';
import { compilePolicies } from '../../src/config/compile.ts';
import type { CompiledConfig } from '../../src/config/types.ts';
import { canonicalRequest } from '../../src/request/canonical.ts';
import { RouteResolver } from '../../src/route/resolve.ts';
import { atLeastAsStrict } from '../../src/route/strictness.ts';
import { handlerOf, handlersFor, ORIGIN_MODELS } from './origin-models.ts';

const ISSUERS = { idp: { issuer: 'https://idp.example/', jwks_uri: 'https://idp.example/jwks' } };

function compile(cafePath: string): CompiledConfig | string[] {
  const policy = { settings: { default_origin: 'https://origin.example' }, issuers: ISSUERS, routes: { open: { path: '/*', mode: 'public' }, cafe: { path: cafePath, issuers: ['idp'], audiences: ['api'] } } };
  const result = compilePolicies([{ file: 'policies/p.jsonc', text: JSON.stringify(policy) }]);
  return result.ok ? result.config : result.errors.map((e) => e.message);
}

/** The route the gateway judges `path` by (null: refused), and the routes whose handlers each stack runs for it. */
function judgeAndDispatch(config: CompiledConfig, path: string) {
  const url = new URL(`https://gw.example${path}`);
  const canonical = canonicalRequest('GET', url);
  if (!canonical.ok) return { judged: null, weaker: [] };
  const resolution = new RouteResolver(config.routes).resolve(canonical.request);
  if (!resolution.ok) return { judged: null, weaker: [] };
  const handlers = config.routes.map(handlerOf);
  const weaker: string[] = [];
  for (const model of ORIGIN_MODELS) {
    const dispatch = model.dispatch(canonical.request.path);
    if (dispatch === null) continue;
    for (const served of handlersFor(handlers, model, dispatch, 'GET')) {
      if (!atLeastAsStrict(resolution.route, served)) weaker.push(`${model.name} runs "${served.id}"`);
    }
  }
  return { judged: resolution.route.id, weaker };
}

describe('non-ASCII route paths', () => {
  it('an upper-case non-ASCII spelling of an enforced path is not judged by a weaker route than ASP.NET Core dispatches to', () => {
    const config = compile('/caf%C3%A9/*') as CompiledConfig;
    expect(judgeAndDispatch(config, '/caf%C3%A9/x')).toEqual({ judged: 'cafe', weaker: [] });
    for (const spelled of ['/CAF%C3%89/x', '/caf%C3%89/x', '/CAFÉ/x']) {
      const { judged, weaker } = judgeAndDispatch(config, spelled);
      expect(weaker, `${spelled} judged by ${judged}`).toEqual([]);
    }
  });

  it('a route path with raw non-ASCII is refused at compile time, or matches the requests it names', () => {
    const compiled = compile('/café/*');
    if (Array.isArray(compiled)) return expect(compiled.join('\n')).toMatch(/canonical|non-ASCII|%C3%A9/);
    expect(judgeAndDispatch(compiled, '/café/x')).toEqual({ judged: 'cafe', weaker: [] });
  });
});
