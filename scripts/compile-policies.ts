/**
 * `npm run check`, and wrangler's build command: compiles policies/*.jsonc into .generated/policies.json.
 * A broken policy fails with the file, line, JSON path and what is wrong, and nothing is written.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { compilePolicies, formatPolicyError, type CompileResult } from '../src/config/compile.ts';

export const ROOT = join(import.meta.dirname, '..');
export const POLICY_DIR = join(ROOT, 'policies');
export const COMPILED_PATH = join(ROOT, '.generated', 'policies.json');

export function compilePolicyDir(dir = POLICY_DIR): CompileResult {
  // Top level only, on purpose: policies/examples/ is documentation and must never become live routes.
  const files = readdirSync(dir).filter((name) => name.endsWith('.jsonc') || name.endsWith('.json')).sort();
  if (files.length === 0) {
    return { ok: false, errors: [{ file: relative(ROOT, dir), path: '', line: 1, column: 1, message: 'no policy files (*.jsonc)' }] };
  }
  return compilePolicies(files.map((name) => ({ file: relative(ROOT, join(dir, name)), text: readFileSync(join(dir, name), 'utf8') })));
}

/** Compiles and writes the output; returns false (after printing every error) when a policy is broken. */
export function compileAndWrite(dir = POLICY_DIR): boolean {
  const result = compilePolicyDir(dir);
  if (!result.ok) {
    console.error(`Policy check failed (${result.errors.length} error${result.errors.length === 1 ? '' : 's'}):`);
    for (const error of result.errors) console.error(`  ${formatPolicyError(error)}`);
    return false;
  }
  mkdirSync(join(ROOT, '.generated'), { recursive: true });
  writeFileSync(COMPILED_PATH, JSON.stringify(result.config, null, 2) + '\n');
  const { routes, issuers } = result.config;
  console.error(`Policies OK: ${routes.length} routes, ${Object.keys(issuers).length} issuers -> ${relative(ROOT, COMPILED_PATH)}`);
  return true;
}

if (import.meta.main) {
  const dir = process.argv[2] ? resolve(process.argv[2]) : POLICY_DIR;
  process.exitCode = compileAndWrite(dir) ? 0 : 1;
}
