/**
 * `npm run check [-- --env NAME]`, and wrangler's build command: compiles the policies into
 * .generated/policies.json. A broken policy fails with the file, line, JSON path and what is wrong, and nothing
 * is written.
 *
 * Policies per wrangler environment (README, "Policies per environment"): the top-level files of policies/ are every
 * environment's; for environment NAME the files of policies/env/NAME/ are laid over them, a file of the same
 * name replacing the top-level one, any other added. NAME comes from `--env NAME` (wrangler.toml's
 * [env.NAME.build] command passes it: wrangler tells a build command nothing about its environment) or from
 * CLOUDFLARE_ENV, wrangler's other way to pick one.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compilePolicies, formatPolicyError, type CompileResult } from '../src/config/compile.ts';

export const ROOT = join(import.meta.dirname, '..');
export const POLICY_DIR = join(ROOT, 'policies');
export const COMPILED_PATH = join(ROOT, '.generated', 'policies.json');
const ENV_DIR = 'env';

// Top level only, on purpose: policies/examples/ is documentation and policies/env/ holds the environments'
// overlays; neither may become live routes by being there.
const policyFiles = (dir: string) => readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile() && /\.jsonc?$/.test(e.name)).map((e) => e.name);

/**
 * `npm start -- --issuer-port/--origin-port` move the demo issuer and echo origin off their usual ports: the
 * JWKS URL and origins of the demo policy follow (the issuer's name stays, so demo tokens keep their iss).
 * scripts/dev.ts passes the ports in the environment, which reaches wrangler's build command too.
 */
function withDemoPorts(text: string): string {
  const { DEMO_ISSUER_PORT: issuer, DEMO_ORIGIN_PORT: origin } = process.env;
  let out = text;
  if (issuer) out = out.replaceAll('"http://127.0.0.1:8788/', `"http://127.0.0.1:${issuer}/`);
  if (origin) out = out.replaceAll('"http://127.0.0.1:8789', `"http://127.0.0.1:${origin}`);
  return out;
}

export function compilePolicyDir(dir = POLICY_DIR, env?: string): CompileResult {
  const chosen = new Map(policyFiles(dir).map((name) => [name, join(dir, name)]));
  if (env !== undefined) {
    const overlay = join(dir, ENV_DIR, env);
    if (!/^[\w-]+$/.test(env) || !existsSync(overlay)) {
      return { ok: false, errors: [{ file: relative(ROOT, overlay), path: '', line: 1, column: 1, message: `no policies for environment "${env}" (make the folder, even empty, to use only the shared ones)` }] };
    }
    for (const name of policyFiles(overlay)) chosen.set(name, join(overlay, name));
  }
  if (chosen.size === 0) {
    return { ok: false, errors: [{ file: relative(ROOT, dir), path: '', line: 1, column: 1, message: 'no policy files (*.jsonc)' }] };
  }
  const files = [...chosen.keys()].sort().map((name) => chosen.get(name)!);
  return compilePolicies(files.map((path) => ({ file: relative(ROOT, path), text: withDemoPorts(readFileSync(path, 'utf8')) })));
}

/** Compiles and writes the output; returns false (after printing every error) when a policy is broken. */
export function compileAndWrite(dir = POLICY_DIR, env?: string): boolean {
  const result = compilePolicyDir(dir, env);
  if (!result.ok) {
    console.error(`Policy check failed${env ? ` (environment ${env})` : ''} (${result.errors.length} error${result.errors.length === 1 ? '' : 's'}):`);
    for (const error of result.errors) console.error(`  ${formatPolicyError(error)}`);
    return false;
  }
  mkdirSync(join(ROOT, '.generated'), { recursive: true });
  writeFileSync(COMPILED_PATH, JSON.stringify(result.config, null, 2) + '\n');
  const { routes, issuers } = result.config;
  console.log(`Policies OK${env ? ` (environment ${env})` : ''}: ${routes.length} routes, ${Object.keys(issuers).length} issuers -> ${relative(ROOT, COMPILED_PATH)}`);
  return true;
}

if (import.meta.main) {
  let parsed;
  try {
    parsed = parseArgs({ options: { env: { type: 'string' } }, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`check: ${(error as Error).message} (usage: npm run check -- [--env NAME] [policy folder])`);
    process.exit(2);
  }
  const dir = parsed.positionals[0] ? resolve(parsed.positionals[0]) : POLICY_DIR;
  const env = parsed.values.env ?? (process.env.CLOUDFLARE_ENV || undefined);
  process.exitCode = compileAndWrite(dir, env) ? 0 : 1;
}
