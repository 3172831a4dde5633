/**
 * The benchmark's world: issuer keys, the bench policy (compiled with the gateway's own compiler), the
 * tokens each scenario sends, and the micro-benchmark's fixtures.
 */
import { compilePolicies } from '../../src/config/compile.ts';
import type { CompiledConfig } from '../../src/config/types.ts';
import { makeKey, mintPool, sign, type BenchAlg, type BenchKey } from './tokens.ts';

export const AUDIENCE = 'https://bench-api.example';
export const APP = 'bench';
export const issuerUrl = (id: string) => `https://${id}.bench.example`;

export interface BenchKeys {
  rsa: BenchKey;
  ec: BenchKey;
  ed: BenchKey;
  /** Issuers whose JWKS holds 1 and 100 ES256 keys; tokens use the last key of each set. */
  sets: Record<'k1' | 'k100', BenchKey[]>;
  /** A key no issuer publishes: its signatures under the rsa issuer's kid are refused. */
  stranger: BenchKey;
}

export async function makeBenchKeys(): Promise<BenchKeys> {
  const set = async (n: number, id: string) => Promise.all(Array.from({ length: n }, (_, i) => makeKey('ES256', `${id}-${i}`)));
  return {
    rsa: await makeKey('RS256', 'rsa-1'),
    ec: await makeKey('ES256', 'ec-1'),
    ed: await makeKey('EdDSA', 'ed-1'),
    sets: { k1: await set(1, 'k1'), k100: await set(100, 'k100') },
    stranger: await makeKey('RS256', 'stranger'),
  };
}

export const JWKS_PATHS = ['rsa', 'ec', 'ed', 'k1', 'k100'] as const;

export function jwksSets(keys: BenchKeys) {
  return {
    '/rsa': [keys.rsa.publicJwk],
    '/ec': [keys.ec.publicJwk],
    '/ed': [keys.ed.publicJwk],
    '/k1': keys.sets.k1.map((k) => k.publicJwk),
    '/k100': keys.sets.k100.map((k) => k.publicJwk),
  };
}

const ALGS: Record<(typeof JWKS_PATHS)[number], BenchAlg> = { rsa: 'RS256', ec: 'ES256', ed: 'EdDSA', k1: 'ES256', k100: 'ES256' };

function compileOrThrow(policy: object): CompiledConfig {
  const result = compilePolicies([{ file: 'bench.jsonc', text: JSON.stringify(policy) }]);
  if (!result.ok) throw new Error(`bench policy does not compile:\n${result.errors.map((e) => `${e.path}: ${e.message}`).join('\n')}`);
  return result.config;
}

/**
 * One route per issuer (/rsa/*, /ec/*, ...) plus `fillerRoutes` routes /svc<i>/* on the rsa issuer; the
 * signed assertion on (EdDSA, the defaults) unless `assertion` is false; `logAllowed` is settings.log_allowed.
 */
export function benchConfig(
  fillerRoutes: number,
  jwksBase: string,
  originBase: string,
  { assertion = true, logAllowed }: { assertion?: boolean; logAllowed?: number } = {},
): CompiledConfig {
  const issuers: Record<string, object> = {};
  const routes: Record<string, object> = {};
  for (const id of JWKS_PATHS) {
    issuers[id] = { issuer: issuerUrl(id), jwks_uri: `${jwksBase}/${id}`, algorithms: [ALGS[id]], typ: 'at+jwt' };
    routes[id] = { path: `/${id}/*`, issuers: [id], audiences: [AUDIENCE], app: APP, scopes: ['read'] };
  }
  for (let i = 0; i < fillerRoutes; i++) {
    routes[`svc${i}`] = { path: `/svc${i}/*`, methods: ['GET', 'POST'], issuers: ['rsa'], audiences: [AUDIENCE], app: APP, scopes: ['read'] };
  }
  return compileOrThrow({ settings: { realm: 'bench', default_origin: originBase, ...(assertion ? { assertion: {} } : {}), ...(logAllowed !== undefined ? { log_allowed: logAllowed } : {}) }, issuers, routes });
}

export const claimsFor = (id: string) => ({ iss: issuerUrl(id), aud: AUDIENCE, app: APP });

export interface BenchTokens {
  rsa: string;
  ec: string;
  ed: string;
  k1: string;
  k100: string;
  rejected: string;
}

export async function repeatedTokens(keys: BenchKeys): Promise<BenchTokens> {
  const last = (set: BenchKey[]) => set[set.length - 1]!;
  return {
    rsa: await sign(keys.rsa, claimsFor('rsa')),
    ec: await sign(keys.ec, claimsFor('ec')),
    ed: await sign(keys.ed, claimsFor('ed')),
    k1: await sign(last(keys.sets.k1), claimsFor('k1')),
    k100: await sign(last(keys.sets.k100), claimsFor('k100')),
    // Signed by a key the issuer never published, under its kid: refused as signature_invalid after one verify.
    rejected: await sign(keys.stranger, claimsFor('rsa'), keys.rsa.kid),
  };
}

export { mintPool };

/** Per algorithm: an inline-key issuer and a route "micro", compiled, with a token it accepts. */
export async function microFixtures(keys: BenchKeys) {
  const fixtures: Record<string, { config: CompiledConfig; token: string; publicJwk: object }> = {};
  for (const key of [keys.rsa, keys.ec, keys.ed]) {
    const config = compileOrThrow({
      issuers: { micro: { issuer: issuerUrl('micro'), keys: [key.publicJwk], algorithms: [key.alg], typ: 'at+jwt' } },
      routes: { micro: { path: '/micro/*', issuers: ['micro'], audiences: [AUDIENCE], app: APP, scopes: ['read'], origin: 'https://origin.example' } },
    });
    fixtures[key.alg] = { config, token: await sign(key, claimsFor('micro')), publicJwk: key.publicJwk };
  }
  return fixtures;
}
