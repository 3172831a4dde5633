/**
 * CPU per verification inside workerd: the gateway's own verify path (authenticate(): bearer extraction,
 * shape gate, issuer and algorithm, key lookup, verifySignatureBytes, claims) next to the floor, one
 * crypto.subtle.verify with an already-imported key, same algorithm, same token, same process.
 *
 * One call runs `n` iterations of one variant. The harness reads the workerd process's CPU time around the
 * call and subtracts a `noop` call with the same n, so the request's own cost cancels out. The in-runtime
 * clock is reported too: in local workerd performance.now() advances during synchronous code (1 ms steps),
 * in production it does not (it only moves across I/O), so it is a cross-check, not the figure.
 */
import type { Algorithm, CompiledConfig } from '../../src/config/types.ts';
import { sha256Prefix } from '../../src/log/digest.ts';
import { KeyStore } from '../../src/keys/key-store.ts';
import { detachedKeys } from '../../src/keys/detached-keys.ts';
import { ALPHABET_CHECKED, base64UrlToBytes, base64UrlToBytesInJs, decodedLength, decodeBase64UrlInto } from '../../src/token/base64url.ts';
import { extractBearerToken } from '../../src/token/extract.ts';
import { parseTokenShape } from '../../src/token/shape.ts';
import { authenticate } from '../../src/verify/authenticate.ts';
import { checkClaims } from '../../src/verify/claims.ts';
import { verifySignatureBytes } from '../../src/verify/signature.ts';
import { TokenCache } from '../../src/verify/token-cache.ts';

export interface MicroFixture {
  /** A compiled config with one inline-key issuer and one route ("micro") accepting `token`. */
  config: CompiledConfig;
  token: string;
  publicJwk: JsonWebKey;
}
export type MicroFixtures = Record<string, MicroFixture>;

/** WebCrypto's own parameters, written out here so the floor shares no code with the gateway. */
const FLOOR_PARAMS: Record<string, { import: SubtleCryptoImportKeyAlgorithm; verify: SubtleCryptoSignAlgorithm }> = {
  RS256: { import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, verify: { name: 'RSASSA-PKCS1-v1_5' } },
  ES256: { import: { name: 'ECDSA', namedCurve: 'P-256' }, verify: { name: 'ECDSA', hash: 'SHA-256' } },
  EdDSA: { import: { name: 'Ed25519' }, verify: { name: 'Ed25519' } },
};

interface Prepared {
  floor: () => Promise<unknown>;
  verify: () => Promise<unknown>;
  cached: () => Promise<unknown>;
  noop: () => Promise<unknown>;
  /** The verify path's stages alone, to see where its cost above the floor goes. */
  extract: () => Promise<unknown>;
  shape: () => Promise<unknown>;
  resolve: () => Promise<unknown>;
  signature: () => Promise<unknown>;
  claims: () => Promise<unknown>;
  /** The shape gate's signature decode as the gate does it (native from 128 characters), and in plain JavaScript: BENCHMARKS.md's "Native base64url only for text of 128 characters or more". */
  'shape-b64-signature': () => Promise<unknown>;
  'shape-b64-signature-js': () => Promise<unknown>;
  /** The log's token fingerprint (SHA-256 prefix), computed on the full path since issue 6. */
  fingerprint: () => Promise<unknown>;
}

const prepared = new Map<string, Prepared>();

async function prepare(algName: string, fixture: MicroFixture): Promise<Prepared> {
  const { config, token } = fixture;
  const route = config.routes.find((r) => r.id === 'micro')!;
  const params = FLOOR_PARAMS[algName]!;
  const floorKey = await crypto.subtle.importKey('jwk', fixture.publicJwk, params.import, false, ['verify']);
  const [head, body, sig] = token.split('.') as [string, string, string];
  const data = new TextEncoder().encode(`${head}.${body}`);
  const signature = base64UrlToBytes(sig)!;
  const keys = detachedKeys(new KeyStore({ allowLoopbackHttp: true }));
  const cache = new TokenCache();
  const headers = new Headers({ authorization: `Bearer ${token}` });
  const now = () => Math.floor(Date.now() / 1000);
  const expectOk = async (promise: Promise<{ ok: boolean; evidence: { tokenCache?: unknown } }>, wanted: unknown) => {
    const result = await promise;
    if (!result.ok || result.evidence.tokenCache !== wanted) throw new Error(`micro ${algName}: verify path did not answer as expected`);
  };
  // Warm both paths once (key import, cache fill), outside any measurement.
  await expectOk(authenticate({ headers, route, config, keys, now: now() }), null);
  await expectOk(authenticate({ headers, route, config, keys, now: now(), tokenCache: cache }), 'miss');
  await expectOk(authenticate({ headers, route, config, keys, now: now(), tokenCache: cache }), 'hit');
  if (!(await crypto.subtle.verify(params.verify, floorKey, signature, data))) throw new Error(`micro ${algName}: floor does not verify`);
  const shape = parseTokenShape(token);
  if (!shape.ok) throw new Error(`micro ${algName}: token refused by the shape gate`);
  const parsed = shape.token;
  const issuer = config.issuers[route.issuers[0]!]!;
  const alg = parsed.header.alg as Algorithm;
  const lookup = await keys.resolve(issuer, parsed.header.kid, alg, now());
  if (!lookup.ok) throw new Error(`micro ${alg}: no key`);
  const gatewayKey = lookup.key;
  return {
    floor: () => crypto.subtle.verify(params.verify, floorKey, signature, data),
    verify: () => authenticate({ headers, route, config, keys, now: now() }),
    cached: () => authenticate({ headers, route, config, keys, now: now(), tokenCache: cache }),
    noop: () => Promise.resolve(true),
    extract: async () => extractBearerToken(headers),
    shape: async () => parseTokenShape(token),
    resolve: async () => keys.resolve(issuer, parsed.header.kid, alg, now()),
    signature: () => verifySignatureBytes(alg, gatewayKey, parsed.signature, parsed.signingInput),
    claims: async () => checkClaims({ header: parsed.header, claims: parsed.payload, issuer, route, now: now() }),
    // As the gate decodes: into a buffer it made (one per token for the signature, the signing input and the payload).
    'shape-b64-signature': async () => decodeBase64UrlInto(sig, new Uint8Array(decodedLength(sig.length)), ALPHABET_CHECKED),
    'shape-b64-signature-js': async () => base64UrlToBytesInJs(sig),
    fingerprint: () => sha256Prefix(token),
  };
}

export async function runMicro(fixtures: MicroFixtures, query: URLSearchParams): Promise<{ elapsed_ms: number; n: number }> {
  const alg = query.get('alg') ?? 'RS256';
  const variant = (query.get('variant') ?? 'noop') as keyof Prepared;
  const n = Math.min(Number(query.get('n') ?? '100'), 100_000);
  const fixture = fixtures[alg];
  if (!fixture) throw new Error(`no micro fixture for ${alg}`);
  let p = prepared.get(alg);
  if (!p) prepared.set(alg, (p = await prepare(alg, fixture)));
  const run = p[variant];
  const started = performance.now();
  for (let i = 0; i < n; i++) await run();
  return { elapsed_ms: performance.now() - started, n };
}
