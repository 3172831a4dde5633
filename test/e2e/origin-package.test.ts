/**
 * The origin package as an origin team gets it, following docs/origin.md ("Install"): `npm run pack:origin`
 * in this checkout, `npm install <tarball>` in an empty project (offline here: --prefer-offline takes jose from
 * npm's cache, filled by this checkout's own install). Then, in that project only: ESM import and CJS require
 * (Node 22's require of ESM), a consumer typechecked under `module: nodenext` and `moduleResolution: bundler`
 * with the repository's tsc, and a real assertion minted by the gateway (src/index.ts in workerd, through
 * Miniflare) verified with the installed package, and a tampered copy refused.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MiniflareGateway } from './support/miniflare-gateway.ts';
import { RecordingOrigin } from './support/recording-origin.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const PORTS = { gateway: 18731, origin: 18732 };
const ISSUER = 'https://idp.example.test/';
const API = 'https://orders.example.test';
const run = promisify(execFile);

let work: string;
let consumer: string;
let tarball: string;

/** A consumer that uses the API the way docs/origin.md shows, reading the request to judge from stdin. */
const VERIFY_MJS = `import { createGatewayVerifier } from '@edge-jwt-gateway/origin';
const input = JSON.parse(await new Promise((resolve) => { let text = ''; process.stdin.on('data', (c) => (text += c)).on('end', () => resolve(text)); }));
const verify = createGatewayVerifier({ issuer: input.issuer, audience: input.audience, jwksUrl: input.jwksUrl });
const result = await verify(input.received);
console.log(JSON.stringify(result.ok ? { ok: true, sub: result.identity.sub, route: result.identity.route } : { ok: false, code: result.error.code }));
`;

const CONSUMER_TS = `import { AssertionError, createGatewayVerifier, receivedFrom, type VerifiedIdentity, type VerifyResult } from '@edge-jwt-gateway/origin';
const verify = createGatewayVerifier({ issuer: 'edge-jwt-gateway', audience: 'orders', jwksUrl: 'https://api.example.com/.well-known/gateway-jwks.json' });
export async function identityOf(request: Request): Promise<VerifiedIdentity | null> {
  const result: VerifyResult = await verify(receivedFrom(request));
  if (!result.ok) return result.error instanceof AssertionError ? null : null;
  const sub: string = result.identity.sub;
  return sub === '' ? null : result.identity;
}
`;

function tsconfig(module: string, moduleResolution: string, files: string[]): string {
  // No skipLibCheck: the package's own .d.ts files are checked too. lib dom gives the Fetch API types.
  return JSON.stringify({ compilerOptions: { module, moduleResolution, target: 'es2022', strict: true, noEmit: true, lib: ['es2023', 'dom'], types: [] }, files });
}

async function typecheck(config: string): Promise<{ code: number; output: string }> {
  return run(process.execPath, [TSC, '-p', config], { cwd: consumer }).then(
    ({ stdout }) => ({ code: 0, output: stdout }),
    (error: { code: number; stdout: string }) => ({ code: error.code, output: error.stdout }),
  );
}

async function judge(received: object, gateway: MiniflareGateway): Promise<Record<string, unknown>> {
  const child = run(process.execPath, ['verify.mjs'], { cwd: consumer });
  child.child.stdin!.end(JSON.stringify({ issuer: 'edge-jwt-gateway', audience: 'orders', jwksUrl: `${gateway.url}/.well-known/gateway-jwks.json`, received }));
  return JSON.parse((await child).stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'origin-package-'));
  consumer = join(work, 'consumer');
  // docs/origin.md: `npm run pack:origin` (here with the tarball written to the temporary folder).
  const packed = await run('npm', ['run', '-s', 'pack:origin', '--', '--pack-destination', work], { cwd: ROOT });
  tarball = join(work, packed.stdout.trim().split('\n').pop()!);
  // docs/origin.md: `npm install <tarball>` in the origin's project.
  await run('mkdir', [consumer]);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'an-origin', private: true, type: 'module' }));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: consumer });
  writeFileSync(join(consumer, 'verify.mjs'), VERIFY_MJS);
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the origin package (npm run pack:origin), installed from its tarball into an empty project', () => {
  it('holds built JavaScript and .d.ts only, and depends on jose alone', () => {
    const installed = join(consumer, 'node_modules', '@edge-jwt-gateway', 'origin');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ name: '@edge-jwt-gateway/origin', dependencies: { jose: expect.any(String) } });
    expect(Object.keys(manifest.dependencies as object)).toEqual(['jose']);
    expect(manifest).not.toHaveProperty('private');
    expect(readdirSync(join(installed, 'dist')).sort()).toEqual(['binding.d.ts', 'binding.js', 'index.d.ts', 'index.js', 'verify.d.ts', 'verify.js']);
    expect(readdirSync(installed).sort()).toEqual(['dist', 'package.json']);
    expect(readdirSync(join(consumer, 'node_modules')).sort()).toEqual(['.package-lock.json', '@edge-jwt-gateway', 'jose']);
  });

  it('imports from ESM and requires from CommonJS (Node 22), with the same API', async () => {
    const esm = await run(process.execPath, ['--input-type=module', '-e', "import * as m from '@edge-jwt-gateway/origin'; console.log(Object.keys(m).sort().join())"], { cwd: consumer });
    const cjs = await run(process.execPath, ['-e', "console.log(Object.keys(require('@edge-jwt-gateway/origin')).sort().join())"], { cwd: consumer });
    expect(esm.stdout.trim()).toBe('ASSERTION_TYP,AssertionError,canonicalHeaders,createGatewayVerifier,receivedFrom');
    expect(cjs.stdout).toBe(esm.stdout);
  });

  it.each([
    ['nodenext', 'nodenext'],
    ['esnext', 'bundler'],
  ])('a consumer typechecks under module %s, moduleResolution %s, and a misuse of its types does not', async (module, moduleResolution) => {
    // One tsc run for both files (tsc is slow on a shared machine): the consumer has no error, and the misuse,
    // a number taken for the subject, fails where it should, so the types are real, not `any`.
    writeFileSync(join(consumer, 'consumer.ts'), CONSUMER_TS);
    writeFileSync(join(consumer, 'misuse.ts'), CONSUMER_TS.replace('const sub: string', 'const sub: number'));
    writeFileSync(join(consumer, `tsconfig.${moduleResolution}.json`), tsconfig(module, moduleResolution, ['consumer.ts', 'misuse.ts']));
    const checked = await typecheck(`tsconfig.${moduleResolution}.json`);
    const errors = checked.output.trim().split('\n');
    expect(errors.filter((line) => !line.startsWith('misuse.ts('))).toEqual([]);
    expect(errors).toContain("misuse.ts(6,9): error TS2322: Type 'string' is not assignable to type 'number'.");
    expect(checked.code).toBe(2);
  });

  describe('against a gateway in workerd', () => {
    let gateway: MiniflareGateway;
    let origin: RecordingOrigin;
    let issuerKey: CryptoKey;

    beforeAll(async () => {
      const pair = await generateKeyPair('ES256', { extractable: true });
      issuerKey = pair.privateKey;
      const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
      origin = await RecordingOrigin.start(PORTS.origin);
      const signingKey = { ...generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }), kid: 'package-test-gw' };
      gateway = await MiniflareGateway.start({
        port: PORTS.gateway,
        policy: {
          settings: { default_origin: origin.url, assertion: {} },
          issuers: { idp: { issuer: ISSUER, keys: [publicJwk], algorithms: ['ES256'] } },
          routes: { orders: { path: '/orders/*', issuers: ['idp'], audiences: [API], assertion_audience: 'orders' } },
        },
        bindings: { GATEWAY_SIGNING_KEY: JSON.stringify(signingKey) },
      });
    }, 60_000);

    afterAll(async () => {
      await gateway?.stop();
      await origin?.stop();
    });

    it('verifies the assertion the gateway minted for a forwarded request, and refuses it on another path', async () => {
      const token = await new SignJWT({ sub: 'user-42' }).setProtectedHeader({ alg: 'ES256', kid: 'idp-1' }).setIssuer(ISSUER).setAudience(API).setIssuedAt().setExpirationTime('5m').sign(issuerKey);
      const response = await gateway.fetch('/orders/17', { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      const forwarded = origin.received.find((r) => r.path === '/orders/17')!;
      expect(forwarded.headers['x-verified-assertion']).toEqual(expect.any(String));
      const received = { method: forwarded.method, host: String(forwarded.headers.host), path: '/orders/17', headers: forwarded.headers };
      expect(await judge(received, gateway)).toEqual({ ok: true, sub: 'user-42', route: 'orders' });
      expect(await judge({ ...received, path: '/orders/18' }, gateway)).toEqual({ ok: false, code: 'request_mismatch' });
    });
  });
});
