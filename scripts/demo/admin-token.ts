/**
 * The demo gateway's admin credential (docs/control.md): 32 random bytes made on first use and kept in
 * .demo/ (git-ignored), handed to `wrangler dev` as GATEWAY_ADMIN_TOKEN; `npm run revoke` and friends read
 * it from there when they talk to a loopback gateway. In production it is a Worker secret.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ADMIN_TOKEN_FILE = join(import.meta.dirname, '..', '..', '.demo', 'admin-token');

export function demoAdminToken(): string {
  if (existsSync(ADMIN_TOKEN_FILE)) return readFileSync(ADMIN_TOKEN_FILE, 'utf8').trim();
  const token = randomBytes(32).toString('base64url');
  mkdirSync(join(ADMIN_TOKEN_FILE, '..'), { recursive: true });
  writeFileSync(ADMIN_TOKEN_FILE, token + '\n', { mode: 0o600 });
  return token;
}
