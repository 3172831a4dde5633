/** Issuer keys and tokens for the benchmark, made in Node with jose, and the JWKS server on loopback. */
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

export type BenchAlg = 'RS256' | 'ES256' | 'EdDSA';

export interface BenchKey {
  alg: BenchAlg;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeKey(alg: BenchAlg, kid: string): Promise<BenchKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface ClaimOptions {
  iss: string;
  aud: string;
  app: string;
  sub?: string;
  lifetimeSeconds?: number;
}

export function sign(key: BenchKey, claims: ClaimOptions, kid = key.kid): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: claims.iss, aud: claims.aud, sub: claims.sub ?? 'bench-user', app_id: claims.app, scope: 'read write' })
    .setProtectedHeader({ alg: key.alg, kid, typ: 'at+jwt' })
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.lifetimeSeconds ?? 3 * 3600))
    .sign(key.privateKey);
}

/** `count` distinct tokens (distinct sub and jti), so none can be answered by the verified-token cache. */
export async function mintPool(key: BenchKey, claims: ClaimOptions, count: number, label: string): Promise<string[]> {
  const pool: string[] = [];
  for (let i = 0; i < count; i++) pool.push(await sign(key, { ...claims, sub: `${label}-${i}` }));
  return pool;
}

/** Serves each key set as JSON at its path, with a long max-age so that no refresh happens during a run. */
export function startJwksServer(port: number, sets: Record<string, JWK[]>): Promise<Server> {
  const server = createServer((req, res) => {
    const keys = sets[req.url ?? ''];
    if (!keys) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=86400' });
    res.end(JSON.stringify({ keys }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
