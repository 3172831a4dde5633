/** Compiled issuers and routes for unit tests of the pure stages, with every default filled in. */
import type { CompiledIssuer, CompiledRoute } from '../../src/config/types.ts';

export const compiledIssuer = (overrides: Partial<CompiledIssuer> = {}): CompiledIssuer => ({
  id: 'idp',
  issuer: 'https://idp.example/',
  keySource: { kind: 'jwks', url: 'https://idp.example/jwks' },
  algorithms: ['RS256'],
  appClaim: ['app_id'],
  clockSkewSeconds: 60,
  maxLifetimeSeconds: 3600,
  typ: null,
  ...overrides,
});

export const compiledRoute = (overrides: Partial<CompiledRoute> = {}): CompiledRoute => ({
  id: 'r',
  file: 'test.jsonc',
  host: null,
  path: { kind: 'prefix', value: '/api' },
  methods: null,
  mode: 'enforce',
  issuers: ['idp'],
  audiences: ['api'],
  app: null,
  scopes: [],
  origin: 'https://origin.example',
  forwardAuthorization: false,
  ...overrides,
});
