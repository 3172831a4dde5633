import { describe, expect, it } from 'vitest';
import type { CompiledRoute } from '../../../src/config/types.ts';
import { RouteTable } from '../../../src/route/route-table.ts';

function route(id: string, pattern: string, extra: Partial<CompiledRoute> = {}): CompiledRoute {
  const prefix = pattern.endsWith('/*');
  return {
    id,
    file: 't.jsonc',
    host: null,
    path: { kind: prefix ? 'prefix' : 'exact', value: prefix ? pattern.slice(0, -2) : pattern },
    methods: null,
    mode: 'public',
    issuers: [],
    audiences: [],
    app: null,
    scopes: [],
    origin: 'https://o.example',
    forwardAuthorization: false,
    forward: { origin: { kind: 'url', url: 'https://o.example', stripPathPrefix: null }, timeoutMs: 30000, claimHeaders: [], assertionAudience: 'a' },
    ...extra,
  };
}

const table = new RouteTable([
  route('billing', '/billing/*'),
  route('billing-admin', '/billing/admin/*'),
  route('billing-admin-post', '/billing/admin/*', { methods: ['POST', 'PUT'] }),
  route('health', '/health'),
  route('reports', '/reports/*'),
  route('api-host', '/*', { host: 'api.example.com' }),
  route('api-host-billing', '/billing/*', { host: 'api.example.com' }),
  route('tenant-wildcard', '/*', { host: '*.tenants.example.com' }),
  route('eu-tenant-wildcard', '/*', { host: '*.eu.tenants.example.com' }),
]);

describe('RouteTable precedence', () => {
  it.each([
    ['GET', 'gw.test', '/billing/x', 'billing'],
    ['GET', 'gw.test', '/billing', 'billing'],
    ['GET', 'gw.test', '/billing/', 'billing'],
    ['GET', 'gw.test', '/billing/admin', 'billing-admin'],
    ['GET', 'gw.test', '/billing/admin/users/7', 'billing-admin'],
    ['POST', 'gw.test', '/billing/admin/users', 'billing-admin-post'],
    ['DELETE', 'gw.test', '/billing/admin/users', 'billing-admin'],
    ['GET', 'gw.test', '/health', 'health'],
    ['GET', 'gw.test', '/reports/q3', 'reports'],
    ['GET', 'api.example.com', '/billing/x', 'api-host-billing'],
    ['GET', 'API.EXAMPLE.COM', '/reports/x', 'api-host'],
    ['GET', 'acme.tenants.example.com', '/x', 'tenant-wildcard'],
    ['GET', 'acme.eu.tenants.example.com', '/x', 'eu-tenant-wildcard'],
  ])('%s %s%s -> %s', (method, host, path, expected) => {
    expect(table.match(method, host, path)?.id).toBe(expected);
  });

  it.each([
    ['/billingx', 'a prefix is matched on whole segments'],
    ['/Billing/x', 'paths are case-sensitive'],
    ['//billing/x', 'an empty segment is not skipped'],
    ['/health/x', 'an exact path covers nothing below it'],
    ['/billing%2Fx', 'an encoded slash is part of the segment'],
    ['/', 'no catch-all configured'],
  ])('%s matches no route (%s)', (path) => {
    expect(table.match('GET', 'gw.test', path)).toBeUndefined();
  });

  it('does not let a bare parent domain match a wildcard host', () => {
    expect(table.match('GET', 'tenants.example.com', '/x')).toBeUndefined();
  });

  it('takes "/*" as the default for everything else', () => {
    const withDefault = new RouteTable([route('default', '/*'), route('billing', '/billing/*')]);
    expect(withDefault.match('GET', 'h', '/')?.id).toBe('default');
    expect(withDefault.match('GET', 'h', '/anything/else')?.id).toBe('default');
    expect(withDefault.match('GET', 'h', '/billing/1')?.id).toBe('billing');
  });

  it('finds the right route among 1,000', () => {
    const routes = Array.from({ length: 1000 }, (_, i) => route(`r${i}`, `/service-${i}/*`));
    const big = new RouteTable(routes);
    expect(big.match('GET', 'h', '/service-999/deep/path')?.id).toBe('r999');
    expect(big.match('GET', 'h', '/service-1000/x')).toBeUndefined();
  });
});
