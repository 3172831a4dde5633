/** `npm run logs -- --stdin`: the script itself, on a recorded `wrangler tail --format json` stream. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

it('prints one line per decision from tail JSON on stdin', async () => {
  const child = spawn('npm', ['run', '-s', 'logs', '--', '--stdin'], { cwd: ROOT });
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  const code = new Promise<number | null>((resolve) => child.on('exit', resolve));
  child.stdin.end(readFileSync(join(ROOT, 'test/fixtures/wrangler-tail.json')));
  expect(await code).toBe(0);
  const lines = stdout.trimEnd().split('\n');
  expect(lines).toHaveLength(5);
  expect(lines[0]).toMatch(/^2026-11-23T18:04:11\.210Z 401 denied GET api\.example\.com\/billing\/invoices route=billing .* \| token_expired exp .*; app_mismatch app_id actual=reports expected=billing$/);
  expect(lines[1]).toBe('2026-11-23T18:04:12.001Z warn jwks_fetch_failed issuer=corp reason=http 503');
  expect(lines[2]).toMatch(/ 200 allowed GET .* origin=200 /);
});
