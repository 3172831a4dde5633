/**
 * The origin side outside workerd: assertions minted by the gateway's own signing code (src/forward), checked
 * in plain Node by the demo echo origin (which uses edge-jwt-gateway/origin with a fetched JWKS, as the Hono
 * example does through receivedFrom), and by the Python recipe of docs/origin.md, the very code block, run
 * with python3 + PyJWT when one is installed. The Go recipe is not run: no Go toolchain here.
 * Servers listen on ephemeral ports on 127.0.0.1.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEchoOrigin } from '../../scripts/demo/servers.ts';
import { mintAssertion } from '../../src/forward/assertion.ts';
import { compileAssertion } from '../../src/forward/compile-forward.ts';
import { signingSetup, type SigningSetup } from '../../src/forward/signing-keys.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const settings = compileAssertion({}, { prefix: 'x-verified-', requestIdHeader: null }, (path, message) => {
  throw new Error(`assertion/${path.join('/')}: ${message}`);
})!;
let setup: SigningSetup;
let jwksServer: Server;
let echo: Server;
let jwksUrl: string;
let echoUrl: string;

const url = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

beforeAll(async () => {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const result = await signingSetup(settings, { GATEWAY_SIGNING_KEY: JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'e2e-1' }) });
  if (!result.ok) throw new Error(result.reason);
  setup = result.setup;
  jwksServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: setup.published })));
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUrl = `${url(jwksServer)}/.well-known/gateway-jwks.json`;
  echo = await startEchoOrigin(0, jwksUrl);
  echoUrl = url(echo);
});
afterAll(() => {
  jwksServer?.close();
  echo?.close();
});

/**
 * The headers the gateway would send for GET <host><path><query>, the assertion included; `tokenExp` is the
 * IdP token's exp (default: an hour on).
 */
async function forwarded(host: string, path: string, query = '', tokenExp?: number, audience = 'billing'): Promise<Record<string, string>> {
  // What the assertion covers: every identity header but the request id, which the gateway sends beside it.
  const identity: [string, string][] = [
    ['x-verified-route', 'billing'],
    ['x-verified-sub', 'user-1'],
    ['x-verified-groups', 'a,b%2Cc'],
  ];
  const now = Math.floor(Date.now() / 1000);
  const token = await mintAssertion(
    {
      settings, audience, subject: 'user-1', requestId: 'req-e2e', request: { method: 'GET', host, path, query }, tokenExp: tokenExp ?? now + 3600,
      identityHeaders: identity, identity: { idp: 'https://idp.example/', app: 'billing', route: 'billing', claims: { 'x-verified-groups': ['a', 'b,c'] } }, now,
    },
    setup.signer,
  );
  return { ...Object.fromEntries(identity), 'x-verified-request-id': 'req-e2e', 'x-verified-assertion': token };
}

describe('in plain Node: the demo echo origin with edge-jwt-gateway/origin', () => {
  it('verifies a genuine assertion and refuses a tampered header', async () => {
    const host = new URL(echoUrl).host;
    const headers = await forwarded(host, '/billing/x');
    const genuine = (await (await fetch(`${echoUrl}/billing/x`, { headers })).json()) as { assertion: Record<string, unknown> };
    expect(genuine.assertion).toMatchObject({ verified: true, sub: 'user-1', app: 'billing', assertion_id: 'req-e2e', claims: { 'x-verified-groups': ['a', 'b,c'] } });
    const tampered = (await (await fetch(`${echoUrl}/billing/x`, { headers: { ...headers, 'x-verified-sub': 'admin' } })).json()) as { assertion: Record<string, unknown> };
    expect(tampered.assertion).toMatchObject({ verified: false, error: 'headers_mismatch' });
    const replayed = (await (await fetch(`${echoUrl}/billing/y`, { headers })).json()) as { assertion: Record<string, unknown> };
    expect(replayed.assertion).toMatchObject({ verified: false, error: 'request_mismatch' });
  });

  it('binds the query as sent: the same query verifies, another one or none is a request_mismatch', async () => {
    const host = new URL(echoUrl).host;
    const headers = await forwarded(host, '/billing/x', '?status=open&sort=-date');
    const check = async (pathAndQuery: string) => ((await (await fetch(`${echoUrl}${pathAndQuery}`, { headers })).json()) as { assertion: Record<string, unknown> }).assertion;
    expect(await check('/billing/x?status=open&sort=-date')).toMatchObject({ verified: true, sub: 'user-1' });
    expect(await check('/billing/x?status=closed&sort=-date')).toMatchObject({ verified: false, error: 'request_mismatch' });
    expect(await check('/billing/x')).toMatchObject({ verified: false, error: 'request_mismatch' });
  });

  it('refuses an assertion minted 45 s after the token expired (inside the gateway\'s skew): it expires with the token', async () => {
    const host = new URL(echoUrl).host;
    const headers = await forwarded(host, '/billing/x', '', Math.floor(Date.now() / 1000) - 45);
    const report = ((await (await fetch(`${echoUrl}/billing/x`, { headers })).json()) as { assertion: Record<string, unknown> }).assertion;
    expect(report).toMatchObject({ verified: false, error: 'expired' });
  });
});

/** A python3 that can import PyJWT and cryptography: $PYTHON, python3 on PATH, or Debian's /usr/bin/python3. */
function findPython(): string | null {
  for (const candidate of [process.env.PYTHON, 'python3', '/usr/bin/python3']) {
    if (!candidate) continue;
    if (spawnSync(candidate, ['-c', 'import jwt, cryptography'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return null;
}
const python = findPython();

/** The ```python block of docs/origin.md, and a harness that calls it with a request given as JSON. */
function pythonProgram(): string {
  const doc = readFileSync(join(ROOT, 'docs', 'origin.md'), 'utf8');
  const recipe = /## Verifying in Python[\s\S]*?```python\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!recipe) throw new Error('docs/origin.md has no Python recipe block');
  return `${recipe}
import json, sys
r = json.load(sys.stdin)
try:
    claims = verify_gateway_assertion(r["method"], r["host"], r["path"], r["query"], r["headers"],
                                      jwks_client=jwt.PyJWKClient(r["jwks_url"]), audience=r["audience"])
    print(json.dumps({"ok": True, "sub": claims["sub"], "jti": claims["jti"]}))
except jwt.InvalidTokenError as e:
    print(json.dumps({"ok": False, "error": type(e).__name__ + ": " + str(e)}))
`;
}

describe.skipIf(python === null)(`the Python recipe of docs/origin.md (${python ?? 'skipped: no python3 with PyJWT and cryptography found'})`, () => {
  // Asynchronous on purpose: the recipe fetches the key set from a server in this very process.
  const run = (request: object) =>
    new Promise<{ ok: boolean; error?: string; sub?: string }>((resolve, reject) => {
      const child = spawn(python!, ['-c', pythonProgram()], { stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk) => (out += chunk));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`python exited with ${code}`))));
      child.stdin.end(JSON.stringify(request));
    });

  it('accepts a genuine assertion and rejects tampering, replay and a wrong audience', async () => {
    const host = 'orders.internal';
    const headers = await forwarded(host, '/v2/42');
    const base = { method: 'GET', host, path: '/v2/42', query: '', headers, jwks_url: jwksUrl, audience: 'billing' };
    expect(await run(base)).toEqual({ ok: true, sub: 'user-1', jti: 'req-e2e' });
    expect((await run({ ...base, headers: { ...headers, 'x-verified-sub': 'admin' } })).error).toContain('headers_mismatch');
    expect((await run({ ...base, headers: { ...headers, 'x-verified-role': 'admin' } })).error).toContain('headers_mismatch');
    expect((await run({ ...base, path: '/v2/43' })).error).toContain('request_mismatch');
    expect((await run({ ...base, method: 'POST' })).error).toContain('request_mismatch');
    expect((await run({ ...base, audience: 'reports' })).error).toMatch(/^InvalidAudienceError/);
  });

  it('binds the query (raw, with or without "?") and refuses an assertion that outlives its token', async () => {
    const host = 'orders.internal';
    const headers = await forwarded(host, '/v2/42', '?status=open&sort=-date');
    const base = { method: 'GET', host, path: '/v2/42', query: 'status=open&sort=-date', headers, jwks_url: jwksUrl, audience: 'billing' };
    expect(await run(base)).toEqual({ ok: true, sub: 'user-1', jti: 'req-e2e' });
    expect(await run({ ...base, query: '?status=open&sort=-date' })).toEqual({ ok: true, sub: 'user-1', jti: 'req-e2e' });
    expect((await run({ ...base, query: 'status=closed&sort=-date' })).error).toContain('request_mismatch');
    expect((await run({ ...base, query: '' })).error).toContain('request_mismatch');
    const late = await forwarded(host, '/v2/42', '', Math.floor(Date.now() / 1000) - 45);
    expect((await run({ ...base, query: '', headers: late })).error).toMatch(/^ExpiredSignatureError/);
  });
});
