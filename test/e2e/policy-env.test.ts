/**
 * Policies per wrangler environment (README, "Policies per environment"): what wrangler runs as the build
 * command of `--env staging` (read from wrangler.toml by wrangler's own config reader), and what it compiles:
 * policies/ with policies/env/staging/ laid over it, checked for that environment alone.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { unstable_readConfig } from 'wrangler';
import { afterAll, describe, expect, it } from 'vitest';
import { compilePolicyDir } from '../../scripts/compile-policies.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'policy-env-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const buildCommand = (env?: string) => unstable_readConfig({ config: join(ROOT, 'wrangler.toml'), ...(env === undefined ? {} : { env }) }, { hideWarnings: true }).build.command!;

const route = (path: string, origin: string) => ({ path, mode: 'public', origin });
function policyTree(files: Record<string, object | string>): string {
  const dir = mkdtempSync(join(work, 'policies-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

describe('wrangler deploy --env staging', () => {
  it('runs a build command that compiles the staging policies; the top level compiles without them', () => {
    expect(buildCommand('staging')).toBe('node scripts/check-node.cjs && node scripts/compile-policies.ts --env staging');
    expect(buildCommand()).toBe('node scripts/check-node.cjs && node scripts/compile-policies.ts');
  });

  it('staging: policies/env/staging/demo.jsonc takes the place of policies/demo.jsonc (its issuer, audience, origin, routes)', () => {
    const staging = compilePolicyDir(undefined, 'staging');
    const production = compilePolicyDir();
    if (!staging.ok || !production.ok) throw new Error('the repository policies do not compile');
    expect(staging.config.routes.map((r) => r.id).sort()).toEqual(['billing', 'public']);
    expect(staging.config.issuers.demo).toMatchObject({ issuer: 'https://login.staging.example.com/', keySource: { kind: 'jwks', url: 'https://login.staging.example.com/.well-known/jwks.json' } });
    expect(JSON.stringify(staging.config)).toContain('https://staging-api.example.com');
    expect(JSON.stringify(production.config)).not.toContain('staging');
    expect(production.config.routes).toHaveLength(4);
  });

  it('an overlay adds files and replaces a file of the same name; the top level never sees policies/env/', () => {
    const dir = policyTree({
      'shared.jsonc': { routes: { shared: route('/shared/*', 'https://shared.example') } },
      'app.jsonc': { routes: { app: route('/app/*', 'https://prod.example') } },
      'env/qa/app.jsonc': { routes: { app: route('/app/*', 'https://qa.example') } },
      'env/qa/extra.jsonc': { routes: { extra: route('/extra/*', 'https://qa.example') } },
    });
    const qa = compilePolicyDir(dir, 'qa');
    const top = compilePolicyDir(dir);
    if (!qa.ok || !top.ok) throw new Error('does not compile');
    expect(qa.config.routes.map((r) => r.id).sort()).toEqual(['app', 'extra', 'shared']);
    expect(JSON.stringify(qa.config)).not.toContain('https://prod.example');
    expect(top.config.routes.map((r) => r.id).sort()).toEqual(['app', 'shared']);
    expect(JSON.stringify(top.config)).not.toContain('qa.example');
  });

  it('an environment without a folder is refused by name, not compiled as production', () => {
    const result = compilePolicyDir(undefined, 'prodcution');
    expect(result).toMatchObject({ ok: false, errors: [{ file: 'policies/env/prodcution', message: expect.stringContaining('no policies for environment "prodcution"') }] });
  });

  it('the build command of an environment fails on its broken overlay with the readable error alone, exit 1, nothing written', () => {
    const dir = policyTree({
      'app.jsonc': { routes: { app: route('/app/*', 'https://prod.example') } },
      'env/staging/app.jsonc': '{ "routes": { "app": { "path": "/app/*", "mode": "public", "origin": "https://qa.example", "methdos": ["GET"] } } }',
    });
    // The command exactly as wrangler runs it (a shell), given the test's policy folder instead of policies/.
    const run = spawnSync('sh', ['-c', `${buildCommand('staging')} ${dir}`], { cwd: ROOT, encoding: 'utf8' });
    const file = relative(ROOT, join(dir, 'env/staging/app.jsonc'));
    expect(run.stderr).toBe(`Policy check failed (environment staging) (1 error):\n  ${file}:1:92: /routes/app/methdos: unknown field "methdos"\n`);
    expect(run.stdout).toBe('');
    expect(run.status).toBe(1);
    // The top level of the same folder is fine: the error belongs to staging.
    expect(compilePolicyDir(dir).ok).toBe(true);
  });
});
