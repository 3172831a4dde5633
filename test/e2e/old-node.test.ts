/**
 * Every tool started with a Node older than 22.18 (where `node file.ts` fails with a stack about ".ts"): the
 * package.json scripts run as npm would run them on a machine whose only Node is that one (Apple silicon with
 * Node 20, say: no Node package there), and each must stop with one line that says what to do, exit code 1.
 * The old Node is the first one on PATH outside this checkout (the system Node 20 on CI); without one the
 * test is skipped and says so.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const TOOLS = ['start', 'token', 'check', 'logs', 'explain', 'test', 'build', 'deploy'];
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

const outsideDirs = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '' && !dir.startsWith(ROOT) && !dir.includes('node_modules'));
const oldNodeDir = outsideDirs.find((dir) => {
  const node = join(dir, 'node');
  if (!existsSync(node)) return false;
  const [major, minor] = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim().slice(1).split('.').map(Number);
  return major! < 22 || (major === 22 && minor! < 18);
});
if (!oldNodeDir) console.warn('old-node.test.ts: no Node older than 22.18 on PATH outside the checkout; skipped');

describe.skipIf(!oldNodeDir || process.platform === 'win32')('the tools on a Node older than 22.18', () => {
  const PATH = [oldNodeDir!, ...outsideDirs.filter((dir) => dir !== oldNodeDir)].join(delimiter);

  it.each(TOOLS)('npm run %s: one line naming the Node needed and the Node in use, exit code 1, nothing else', (tool) => {
    const run = spawnSync('sh', ['-c', `${scripts[tool]} --help`], { cwd: ROOT, env: { ...process.env, PATH }, encoding: 'utf8' });
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^edge-jwt-gateway needs Node\.js 22\.18\.0 or newer; this is v(1\d|20|21|22)\.[^\n]*\.nvmrc[^\n]*\n$/);
    expect(run.status).toBe(1);
  });

  it('the same guard is silent and lets the tool run on the Node 22 npm puts first', () => {
    const run = spawnSync(process.execPath, ['scripts/check-node.cjs'], { cwd: ROOT, encoding: 'utf8' });
    expect([run.status, run.stdout, run.stderr]).toEqual([0, '', '']);
  });

  it('wrangler\'s build command goes through the guard too', () => {
    expect(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8')).toMatch(/^command = "node scripts\/check-node\.cjs && /m);
  });
});
