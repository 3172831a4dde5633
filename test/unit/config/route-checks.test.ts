/**
 * The compile-time checks across routes (src/config/route-checks.ts and compile-path.ts's canonical patterns):
 * policies whose routes let a weaker route serve a stronger route's paths at the origin are refused, with
 * both routes and an example path in the message. Each of these compiled on a3d1d6b.
 */
import { describe, expect, it } from 'vitest';
import { compilePolicies } from '../../../src/config/compile.ts';

const ISSUERS = { idp: { issuer: 'https://idp.example/', jwks_uri: 'https://idp.example/.well-known/jwks.json' } };
const ENFORCED = { issuers: ['idp'], audiences: ['https://api.example'] };

function errorsOf(routes: object, settings: object = { default_origin: 'https://origin.example' }): { path: string; message: string }[] {
  const result = compilePolicies([{ file: 'policies/p.jsonc', text: JSON.stringify({ settings, issuers: ISSUERS, routes }) }]);
  return result.ok ? [] : result.errors.map(({ path, message }) => ({ path, message }));
}

describe('forwarded path spaces', () => {
  it('refuses a public route whose stripped prefix delivers an enforced route\'s paths to the same origin, naming both and a path', () => {
    const errors = errorsOf({
      assets: { path: '/static/*', mode: 'public', origin: { url: 'https://origin.example', strip_path_prefix: '/static' } },
      admin: { path: '/billing/admin/*', scopes: ['billing:admin'], ...ENFORCED },
    });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe('/routes/assets');
    expect(errors[0]!.message).toContain('"admin"');
    expect(errors[0]!.message).toContain('"assets"');
    // The example: the gateway path through the weaker route, and the origin path it reaches.
    expect(errors[0]!.message).toContain('"/static/billing/admin/x" through "assets" reaches the origin as "/billing/admin/x"');
  });

  it('refuses the same through an origin base path', () => {
    const errors = errorsOf({
      legacy: { path: '/legacy/*', mode: 'public', origin: { url: 'https://origin.example/billing', strip_path_prefix: '/legacy' } },
      admin: { path: '/billing/admin/*', scopes: ['billing:admin'], ...ENFORCED },
    });
    expect(errors.map((e) => e.path)).toEqual(['/routes/legacy']);
    expect(errors[0]!.message).toMatch(/"\/legacy\/admin\/x" through "legacy" reaches the origin as "\/billing\/admin\/x"/);
  });

  it('accepts a stripped public route when its paths land at another origin, or when it is as strict', () => {
    expect(errorsOf({ assets: { path: '/static/*', mode: 'public', origin: { url: 'https://cdn.example', strip_path_prefix: '/static' } }, admin: { path: '/billing/admin/*', ...ENFORCED } })).toEqual([]);
    expect(errorsOf({ assets: { path: '/static/*', origin: { url: 'https://origin.example', strip_path_prefix: '/static' }, ...ENFORCED }, api: { path: '/billing/*', ...ENFORCED } })).toEqual([]);
  });

  it('refuses a host-less public default beside a host\'s enforced routes at the same origin', () => {
    const errors = errorsOf({ everything: { path: '/*', mode: 'public' }, secure: { path: '/*', host: 'secure.test', ...ENFORCED } });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/"everything"[\s\S]*"secure"|"secure"[\s\S]*"everything"/);
  });
});

describe('precedence and case', () => {
  it('refuses routes that differ only by the case of their path', () => {
    const errors = errorsOf({ lower: { path: '/admin/*', ...ENFORCED }, upper: { path: '/Admin/*', mode: 'public' } });
    expect(errors).toEqual([{ path: '/routes/upper', message: expect.stringContaining('differs from route "lower" (policies/p.jsonc) only by the case of its path') }]);
  });

  it('accepts routes whose paths differ by more than case', () => {
    expect(errorsOf({ a: { path: '/admin/*', ...ENFORCED }, b: { path: '/Administration/*', ...ENFORCED } })).toEqual([]);
  });
});

describe('canonical patterns', () => {
  it.each([
    ['/b%69lling/*', '"/billing/*"'],
    ['/caf%c3%a9', '"/caf%C3%A9"'],
    ['/files;v=1/*', 'no ";"'],
  ])('refuses the non-canonical pattern %s and names the canonical one', (path, named) => {
    const errors = errorsOf({ r: { path, ...ENFORCED } });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe('/routes/r/path');
    expect(errors[0]!.message).toContain('canonical form');
    expect(errors[0]!.message).toContain(named);
  });

  it.each([['/files/a%2Fb'], ['/a%00b/*'], ['/a%5Cb']])('refuses %s, a path the gateway refuses in requests', (path) => {
    const errors = errorsOf({ r: { path, ...ENFORCED } });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe('/routes/r/path');
  });
});
