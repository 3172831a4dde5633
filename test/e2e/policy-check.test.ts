/** `npm run check` (the wrangler build command too) on a broken policy: exit 1, and the file, line, path and reason. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'policies-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('fails a broken policy with the file, line, JSON path and what is wrong', async () => {
  writeFileSync(
    join(dir, 'broken.jsonc'),
    `{
  // a route with a typo in a field name
  "routes": {
    "a": { "path": "/a/*", "issuers": ["ghost"], "audiences": ["x"], "origin": "https://o.example" },
    "b": { "path": "/b/*", "mode": "public", "origin": "https://o.example", "methdos": ["GET"] }
  }
}
`,
  );
  const run = promisify(execFile)('node', [join(ROOT, 'scripts/compile-policies.ts'), dir], { cwd: ROOT });
  const failure = await run.then(
    () => null,
    (error: { code: number; stderr: string }) => error,
  );
  expect(failure?.code).toBe(1);
  const file = relative(ROOT, join(dir, 'broken.jsonc'));
  expect(failure?.stderr).toContain(`${file}:5:77: /routes/b/methdos: unknown field "methdos"`);
});

it('fails a broken preset, HMAC issuer and claim rule the same way', async () => {
  const sub = mkdtempSync(join(tmpdir(), 'policies-'));
  writeFileSync(
    join(sub, 'idp.jsonc'),
    `{
  "issuers": {
    "entra": { "preset": "entra", "tenant": "common" },
    "legacy": { "issuer": "https://legacy.example", "jwks_uri": "https://legacy.example/jwks", "algorithms": ["HS256"] }
  },
  "routes": {
    "a": { "path": "/a/*", "issuers": ["legacy"], "audiences": ["x"], "origin": "https://o.example", "claims": [{ "claim": "x", "equals": 1, "one_of": [1] }] }
  }
}
`,
  );
  const failure = await promisify(execFile)('node', [join(ROOT, 'scripts/compile-policies.ts'), sub], { cwd: ROOT }).then(
    () => null,
    (error: { code: number; stderr: string }) => error,
  );
  rmSync(sub, { recursive: true, force: true });
  expect(failure?.code).toBe(1);
  const file = relative(ROOT, join(sub, 'idp.jsonc'));
  expect(failure?.stderr).toContain(`${file}:3:35: /issuers/entra/tenant: the directory (tenant) id, a lower-case GUID`);
  expect(failure?.stderr).toContain(`${file}:4:111: /issuers/legacy/algorithms/0: HS256 needs the secret from a Worker secret ("secret_binding")`);
  expect(failure?.stderr).not.toContain('no issuer "legacy" is defined');
  expect(failure?.stderr).toContain(`${file}:7:113: /routes/a/claims/0: give at most one of "equals", "one_of" and "contains"`);
});

it('passes the repository policies', async () => {
  const { stdout } = await promisify(execFile)('node', [join(ROOT, 'scripts/compile-policies.ts')], { cwd: ROOT });
  expect(stdout).toMatch(/^Policies OK: 4 routes, 1 issuers/);
});
