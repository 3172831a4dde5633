/**
 * `npm run revoke` / `distrust` / `revocations`, the scripts themselves, against the gateway Worker in a
 * real workerd process (Miniflare, src/index.ts bundled as wrangler would, the DENY_LIST Durable Object of
 * wrangler.toml declared), over HTTP on 127.0.0.1:18950 (this file's port). The revocation reaches the
 * isolate within the bound on the wall clock here: the one place a test waits for it (about 10 s).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DENY_LIST_BOUND_MS } from '../../src/config/constants.ts';
import { bundleGateway, compilePolicyOrThrow } from './support/miniflare-gateway.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const PORT = 18950;
const URL_ = `http://127.0.0.1:${PORT}`;
const ADMIN = 'e2e-admin-credential-0123456789abcdef0123';
let miniflare: Miniflare;
let privateKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey;
  const policy = {
    issuers: { idp: { issuer: 'https://idp.example/', keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }], algorithms: ['ES256'] } },
    // No origin listens there: an accepted token gets 502, a refused one 401; the gateway's judgement is what is tested.
    routes: { orders: { path: '/orders/*', issuers: ['idp'], audiences: ['api'], origin: 'https://origin.invalid' } },
  };
  miniflare = new Miniflare(
    convertV4MiniflareOptions({
      host: '127.0.0.1',
      port: PORT,
      modules: true,
      script: await bundleGateway(compilePolicyOrThrow(policy)),
      compatibilityDate: '2026-10-01',
      compatibilityFlags: ['nodejs_compat'],
      kvNamespaces: ['JWKS_CACHE'],
      durableObjects: { DENY_LIST: 'DenyListStore' },
      bindings: { GATEWAY_ADMIN_TOKEN: ADMIN },
      handleStructuredLogs: () => undefined,
    }),
  );
  await miniflare.ready;
});
afterAll(() => miniflare?.dispose());

const cli = (command: string, args: string[], env: Record<string, string> = { GATEWAY_ADMIN_TOKEN: ADMIN }) =>
  promisify(execFile)('node', [join(ROOT, 'scripts/control.ts'), command, '--url', URL_, ...args], { cwd: ROOT, env: { ...process.env, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

const token = (jti: string) =>
  new SignJWT({ sub: 'u1', aud: 'api', jti }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://idp.example/').setIssuedAt().setExpirationTime('5m').sign(privateKey);
const status = async (jwt: string) => (await fetch(`${URL_}/orders/1`, { headers: { authorization: `Bearer ${jwt}` } })).status;

it('usage errors: one line on stderr, exit 2, nothing sent', async () => {
  for (const [command, args] of [['revoke', []], ['revoke', ['--jti', 'a', '--sub', 'b']], ['revoke', ['--bogus']], ['distrust', ['--kid', 'k1']], ['revoke', ['--jti', 'a', '--issued-before', 'yesterday-ish']]] as const) {
    const result = await cli(command, [...args]);
    expect(result.code, `${command} ${args.join(' ')}`).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  }
  const insecure = await promisify(execFile)('node', [join(ROOT, 'scripts/control.ts'), 'revocations', '--url', 'http://gateway.example'], { cwd: ROOT, env: { ...process.env, GATEWAY_ADMIN_TOKEN: ADMIN } }).catch((e: { code: number }) => e);
  expect((insecure as { code: number }).code).toBe(2);
});

it('a wrong credential: the gateway refuses, one line, exit 1', async () => {
  const result = await cli('revocations', [], { GATEWAY_ADMIN_TOKEN: 'not-the-credential' });
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/^revocations: 401 /);
});

it('revoke, then the token is refused within the bound; revocations lists it with who and when', { timeout: 30_000 }, async () => {
  const jwt = await token('e2e-leaked');
  expect(await status(jwt)).toBe(502);
  const revoked = await cli('revoke', ['--jti', 'e2e-leaked', '--issuer', 'idp', '--reason', 'e2e', '--by', 'bob']);
  expect(revoked.code).toBe(0);
  expect(revoked.stdout).toMatch(/^revoke v\d+ at .*: jti-\d+ {2}jti=e2e-leaked issuer=idp .* by bob: e2e$/m);
  await new Promise((resolve) => setTimeout(resolve, DENY_LIST_BOUND_MS + 500));
  expect(await status(jwt)).toBe(401);
  expect(await status(await token('e2e-other'))).toBe(502);
  const listing = await cli('revocations', []);
  expect(listing.code).toBe(0);
  expect(listing.stdout).toContain('jti=e2e-leaked');
  expect(listing.stdout).toMatch(/ revoke by bob.*: jti-\d+ jti=e2e-leaked$/m);
});
