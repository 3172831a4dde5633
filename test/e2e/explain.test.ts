/**
 * `npm run explain` as operators run it (a Node process on the compiled policies), on a token that passes
 * and on tokens that fail each check, with key sets the test writes (or a stand-in issuer on 127.0.0.1).
 */
import { execFile, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePolicies } from '../../src/config/compile.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const ISSUER_PORT = 18611;
const dir = mkdtempSync(join(tmpdir(), 'explain-'));
const CONFIG = join(dir, 'policies.json');
const JWKS = join(dir, 'jwks.json');
const printedTokens: string[] = [];
let outputs = '';
let issuerServer: Server;

type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let corpKey: Key;
let strangerKey: Key;

function writeConfig() {
  const policy = {
    settings: { realm: 'shop' },
    issuers: {
      corp: { issuer: 'https://corp.example/', jwks_uri: 'https://corp.example/jwks', algorithms: ['RS256'], typ: 'at+jwt' },
      local: { issuer: `http://127.0.0.1:${ISSUER_PORT}`, jwks_uri: `http://127.0.0.1:${ISSUER_PORT}/jwks` },
    },
    routes: {
      orders: { path: '/orders/*', issuers: ['corp'], audiences: ['orders-api'], app: 'shop', scopes: ['orders:read'], origin: 'https://origin.example' },
      local: { path: '/local/*', issuers: ['local'], audiences: ['orders-api'], origin: 'https://origin.example' },
      pub: { path: '/public/*', mode: 'public', origin: 'https://origin.example' },
      audit: { path: '/audit/*', mode: 'report-only', issuers: ['corp'], audiences: ['orders-api'], app: 'shop', origin: 'https://origin.example' },
    },
  };
  const result = compilePolicies([{ file: 'policies/shop.jsonc', text: JSON.stringify(policy) }]);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  writeFileSync(CONFIG, JSON.stringify(result.config));
}

const now = () => Math.floor(Date.now() / 1000);
const claims = (extra: JWTPayload = {}): JWTPayload => ({ iss: 'https://corp.example/', aud: 'orders-api', sub: 'user-42', app_id: 'shop', scope: 'orders:read', iat: now(), exp: now() + 300, ...extra });
async function token(extra: JWTPayload = {}, header: Record<string, unknown> = {}, key: Key | Uint8Array = corpKey): Promise<string> {
  const jwt = await new SignJWT(claims(extra)).setProtectedHeader({ alg: 'RS256', kid: 'corp-1', typ: 'at+jwt', ...header } as never).sign(key);
  printedTokens.push(jwt);
  return jwt;
}

interface Run {
  code: number;
  stdout: string;
}
function explain(args: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      'node',
      ['--experimental-transform-types', '--no-warnings=ExperimentalWarning', 'scripts/explain.ts', '--config', CONFIG, ...args],
      { cwd: ROOT, timeout: 30_000 },
      (error, stdout, stderr) => {
        outputs += stdout + stderr;
        resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout });
      },
    );
    child.stdin!.end(stdin ?? '');
  });
}
const withJwks = (url: string, t: string) => explain(['--url', url, '--jwks', JWKS, '--token', t]);
const ORDERS = 'https://api.example.com/orders/7?debug=1';

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  corpKey = pair.privateKey;
  strangerKey = (await generateKeyPair('RS256', { extractable: true })).privateKey;
  const jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'corp-1', alg: 'RS256', use: 'sig' }] };
  writeFileSync(JWKS, JSON.stringify(jwks));
  writeConfig();
  issuerServer = createServer((request, response) => {
    if (request.url !== '/jwks') return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => issuerServer.listen(ISSUER_PORT, '127.0.0.1', resolve));
});
afterAll(() => {
  issuerServer?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run explain', () => {
  it('passes a valid token through every check, exit 0', async () => {
    const t = await token();
    const run = await withJwks(ORDERS, t);
    expect(run.code).toBe(0);
    const fp = /token_fp=([0-9a-f]{16})/.exec(run.stdout)?.[1];
    expect(run.stdout).toBe(
      [
        `keys      from ${JWKS} (1 keys), not fetched`,
        'request   GET api.example.com/orders/7',
        'route     orders (policies/shop.jsonc), mode enforce, issuers corp',
        `  PASS  token      token_fp=${fp}`,
        '  PASS  shape      alg=RS256 kid=corp-1 typ=at+jwt',
        '  PASS  issuer     issuer=corp iss=https://corp.example/',
        '  PASS  algorithm  alg=RS256 allowed=["RS256"]',
        '  PASS  key        kid=corp-1 key_layer=inline',
        '  PASS  signature  alg=RS256',
        '  PASS  typ        typ is at+jwt',
        '  PASS  iss        iss present and valid',
        '  PASS  times      exp, nbf, iat and lifetime within bounds',
        '  PASS  aud        aud holds one of ["orders-api"]',
        '  PASS  app        app_id is "shop"',
        '  PASS  sub        sub present and valid',
        '  PASS  scope      scopes include ["orders:read"]',
        `token_fp  ${fp} (the record's token_fp for this token)`,
        'answer    forwarded to https://origin.example',
        '',
      ].join('\n'),
    );
  });

  it('reads the token from stdin through the npm script', async () => {
    const t = await token();
    const run = await new Promise<Run>((resolve) => {
      const child = spawn('npm', ['run', '-s', 'explain', '--', '--config', CONFIG, '--url', ORDERS, '--jwks', JWKS], { cwd: ROOT });
      let stdout = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (outputs += c));
      child.on('exit', (code) => resolve({ code: code ?? -1, stdout }));
      child.stdin.end(`Bearer ${t}\n`);
    });
    outputs += run.stdout;
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('answer    forwarded to https://origin.example');
  });

  const failures: [string, () => Promise<string>, string, string][] = [
    ['shape', async () => 'eyJhbGciOiJSUzI1NiJ9.bm90LWpzb24', '  FAIL  shape      token_malformed', 'answer    401 Unauthorized'],
    ['issuer', () => token({ iss: 'https://evil.example/' }), '  FAIL  issuer     issuer_mismatch iss actual=https://evil.example/ expected=["https://corp.example/"]', 'answer    401'],
    // The classic confusion: an HMAC token that names the RSA key's kid.
    ['alg', () => token({}, { alg: 'HS256' }, new TextEncoder().encode('a-shared-secret-of-32-bytes-long')), '  FAIL  algorithm  alg_not_allowed actual=HS256 expected=["RS256"]', 'answer    401'],
    ['kid', () => token({}, { kid: 'corp-9' }), '  FAIL  key        kid_unknown actual=corp-9', 'answer    401'],
    ['signature', () => token({}, {}, strangerKey), '  FAIL  signature  signature_invalid', 'answer    401'],
    ['typ', () => token({}, { typ: 'JWT' }), '  FAIL  typ        typ_mismatch actual=JWT expected=at+jwt', 'answer    401'],
    ['exp', () => token({ iat: now() - 900, exp: now() - 600 }), '  FAIL  times      token_expired exp actual=', 'answer    401'],
    ['aud', () => token({ aud: 'billing-api' }), '  FAIL  aud        audience_mismatch aud actual=["billing-api"] expected=["orders-api"]', 'answer    401'],
    ['app', () => token({ app_id: 'reports' }), '  FAIL  app        app_mismatch app_id actual=reports expected=shop', 'answer    401'],
    ['sub', () => token({ sub: undefined }), '  FAIL  sub        claim_missing sub', 'answer    401'],
    ['scope', () => token({ scope: 'orders:write' }), '  FAIL  scope      scope_insufficient scope actual=["orders:write"] expected=["orders:read"]', 'answer    403 Forbidden'],
  ];

  it.each(failures)('fails the %s check, says why and what the gateway answers, exit 1', async (_name, make, row, answer) => {
    const run = await withJwks(ORDERS, await make());
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(row);
    expect(run.stdout).toContain(answer);
    expect(run.stdout).toMatch(/www-authenticate: Bearer realm="shop", error="(invalid_token|insufficient_scope)"/);
  });

  it('names the required scope in the 403 challenge', async () => {
    const run = await withJwks(ORDERS, await token({ scope: '' }));
    expect(run.stdout).toContain('www-authenticate: Bearer realm="shop", error="insufficient_scope", error_description="The access token does not grant the required scope.", scope="orders:read"');
  });

  it('marks the checks after a failure as not reached', async () => {
    const run = await withJwks(ORDERS, await token({ iss: 'https://evil.example/' }));
    expect(run.stdout).toContain('  -     algorithm  not reached\n  -     key        not reached\n  -     signature  not reached\n  -     claims     not reached');
  });

  it('on a report-only route, says the request is forwarded and what enforce would have answered', async () => {
    const run = await withJwks('https://api.example.com/audit/1', await token({ app_id: 'other' }));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('answer    forwarded to https://origin.example (report_only)\n  enforce would: answer    401 Unauthorized');
  });

  it('answers 404 for a request no route takes, and passes a public route without a token check', async () => {
    const t = await token();
    const none = await withJwks('https://api.example.com/elsewhere', t);
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('  FAIL  route      route_not_found');
    expect(none.stdout).toContain('answer    404 Not Found');
    const pub = await withJwks('https://api.example.com/public/x', t);
    expect(pub.code).toBe(0);
    expect(pub.stdout).toContain('public: no token is checked');
  });

  it("fetches the issuer's keys when no --jwks is given (a stand-in issuer on 127.0.0.1)", async () => {
    const t = await token({ iss: `http://127.0.0.1:${ISSUER_PORT}` });
    const fetched = await explain(['--url', 'https://api.example.com/local/1', '--token', t, '--allow-loopback-http']);
    expect(fetched.stdout).toContain('  PASS  key        kid=corp-1 key_layer=network');
    expect(fetched.code).toBe(0);
    // Without the loopback permission the Worker would refuse http keys, and so does explain: 503.
    const refused = await explain(['--url', 'https://api.example.com/local/1', '--token', t]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('  FAIL  key        keys_unavailable');
    expect(refused.stdout).toContain('answer    503 Service Unavailable');
  });

  it('is a usage error (exit 2) without --url or a token', async () => {
    expect((await explain([])).code).toBe(2);
    expect((await explain(['--url', ORDERS], '')).code).toBe(2);
  });

  it('never printed a token or any of its segments', () => {
    expect(printedTokens.length).toBeGreaterThan(10);
    for (const t of printedTokens) {
      for (const part of [t, ...t.split('.')]) expect(outputs).not.toContain(part);
    }
  });
});
