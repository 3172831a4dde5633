/**
 * The demo gateway's assertion signing key: an Ed25519 private JWK made on first use and kept in .demo/
 * (git-ignored), handed to `wrangler dev` as the GATEWAY_SIGNING_KEY binding. A development key only: in
 * production it is a Worker secret (`wrangler secret put GATEWAY_SIGNING_KEY`, docs/origin.md).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';

const KEY_FILE = join(import.meta.dirname, '..', '..', '.demo', 'gateway-signing-key.json');

export async function demoGatewaySigningKey(): Promise<string> {
  if (existsSync(KEY_FILE)) return readFileSync(KEY_FILE, 'utf8').trim();
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'demo-gateway-1' });
  mkdirSync(join(KEY_FILE, '..'), { recursive: true });
  writeFileSync(KEY_FILE, jwk + '\n', { mode: 0o600 });
  return jwk;
}
