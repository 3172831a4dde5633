/**
 * The route tables the origin-agreement property runs over: every policy file of the repository (as
 * policy-examples.test.ts compiles them), and a few tables written to reach what those files do not use:
 * an exact route beside a default, method-specific routes, a stripped prefix and an origin base path, the
 * per-route opt-ins for encoded slashes and `;` parameters, and wildcard hosts.
 */
import type { CompiledConfig } from '../../src/config/types.ts';
import { compileOrThrow } from '../helpers/gateway.ts';
import { deployedPolicyFiles, examplePolicyFiles } from '../helpers/policy-files.ts';

const ISSUERS = {
  corp: { issuer: 'https://id.corp.example/', jwks_uri: 'https://id.corp.example/jwks', algorithms: ['RS256'] },
  partner: { issuer: 'https://id.partner.example/', jwks_uri: 'https://id.partner.example/jwks', algorithms: ['ES256'] },
};
const enforced = (extra: object = {}) => ({ issuers: ['corp'], audiences: ['api'], ...extra });

const SYNTHETIC: Record<string, object> = {
  'synthetic: exact routes and methods beside a public default': {
    settings: { default_origin: 'https://origin.example' },
    issuers: ISSUERS,
    routes: {
      everything: { path: '/*', mode: 'public' },
      settings: { path: '/account/settings', ...enforced({ scopes: ['account:write'] }) },
      account: { path: '/account/*', mode: 'optional', ...enforced() },
      'orders-write': { path: '/orders', methods: ['POST', 'DELETE'], ...enforced({ scopes: ['orders:write'] }) },
      'orders-read': { path: '/orders', methods: ['GET'], mode: 'report-only', ...enforced() },
      'admin-ui': { path: '/Admin/Console/*', ...enforced({ scopes: ['admin'] }) },
      api: { path: '/api/*', cors_preflight: true, ...enforced() },
    },
  },
  'synthetic: stripped prefixes, base paths and a second origin': {
    settings: { default_origin: 'https://app.example' },
    issuers: ISSUERS,
    routes: {
      assets: { path: '/static/*', mode: 'public', origin: { url: 'https://cdn.example/assets', strip_path_prefix: '/static' } },
      v2: { path: '/api/v2/*', origin: { url: 'https://api.example/v2', strip_path_prefix: '/api/v2' }, ...enforced() },
      svc: { path: '/svc/*', origin: { service: 'TEST_ORIGIN_SERVICE', strip_path_prefix: '/svc' }, ...enforced() },
      home: { path: '/', mode: 'public' },
    },
  },
  'synthetic: encoded slashes and matrix parameters allowed per route': {
    settings: { default_origin: 'https://origin.example' },
    issuers: ISSUERS,
    routes: {
      files: { path: '/files/*', allow_in_path: ['encoded_slash'], ...enforced() },
      'files-admin': { path: '/files/admin/*', allow_in_path: ['encoded_slash'], ...enforced({ scopes: ['admin'] }) },
      matrix: { path: '/matrix/*', allow_in_path: ['semicolon'], ...enforced() },
      'matrix-admin': { path: '/matrix/admin/*', allow_in_path: ['semicolon'], ...enforced({ scopes: ['admin'] }) },
      open: { path: '/*', mode: 'public' },
    },
  },
  'synthetic: hosts, wildcard hosts and two issuers': {
    settings: { default_origin: 'https://origin.example' },
    issuers: ISSUERS,
    routes: {
      tenant: { path: '/t/*', host: '*.tenants.example', ...enforced() },
      'tenant-admin': { path: '/t/admin/*', host: '*.tenants.example', ...enforced({ scopes: ['admin'] }) },
      partner: { path: '/t/*', host: 'partner.example', issuers: ['partner'], audiences: ['api'], origin: 'https://partner-origin.example' },
      health: { path: '/health', mode: 'public' },
    },
  },
};

export interface RouteTableCase {
  name: string;
  config: CompiledConfig;
  /** Hosts a client could call: the routes' own (a wildcard as one of its names) and a host no route names. */
  hosts: string[];
}

function hostsOf(config: CompiledConfig): string[] {
  const named = config.routes.map((r) => r.host).filter((h): h is string => h !== null && h !== undefined);
  return [...new Set([...named.map((h) => h.replace(/^\*\./, 'acme.')), 'gw.example'])];
}

export function routeTableCases(): RouteTableCase[] {
  const files = { ...deployedPolicyFiles, ...examplePolicyFiles };
  const cases = Object.entries(files).map(([file, text]) => ({ name: file, config: compileOrThrow(text, file) }));
  for (const [name, policy] of Object.entries(SYNTHETIC)) cases.push({ name, config: compileOrThrow(JSON.stringify(policy), 'synthetic.jsonc') });
  return cases.map((c) => ({ ...c, hosts: hostsOf(c.config) }));
}
