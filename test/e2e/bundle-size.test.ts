/**
 * The Worker stays under issue 19's budget: src/index.ts bundled, minified and gzipped as `npm run bench`
 * measures it (bench/lib/bundle-size.ts), with the compiled demo policies of .generated/ (npm test compiles
 * them first). Over budget, the message names the largest inputs: look there first for code only the Node
 * tools need, or a dependency module pulled in whole (jose's importJWK once brought every JWS and JWE
 * algorithm table: src/keys/import-key.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { BUNDLE_GZIP_BUDGET_BYTES, measureWorkerBundle } from '../../bench/lib/bundle-size.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const kib = (bytes: number) => `${(bytes / 1024).toFixed(2)} KiB`;

it(`the Worker bundle is under ${kib(BUNDLE_GZIP_BUDGET_BYTES)} gzip`, async () => {
  expect(existsSync(join(ROOT, '.generated', 'policies.json')), 'no .generated/policies.json: run npm run check first').toBe(true);
  const size = await measureWorkerBundle(ROOT);
  const largest = size.inputs
    .slice(0, 12)
    .map(({ path, bytes }) => `  ${String(bytes).padStart(6)} B  ${path}`)
    .join('\n');
  const dependencies = size.inputs.filter(({ path }) => path.includes('node_modules/'));
  const fromDependencies = dependencies.reduce((sum, { bytes }) => sum + bytes, 0);
  expect(
    size.gzipBytes,
    `bundle is ${kib(size.gzipBytes)} gzip (${kib(size.minifiedBytes)} minified), over the budget of ${kib(BUNDLE_GZIP_BUDGET_BYTES)}.\n` +
      `Largest inputs (minified bytes in the bundle):\n${largest}\n` +
      `Dependencies: ${dependencies.length} modules, ${fromDependencies} B minified${dependencies.length > 0 ? `, largest ${dependencies.slice(0, 4).map(({ path, bytes }) => `${path.replace(/^.*node_modules\//, '')} ${bytes} B`).join(', ')}` : ''}.`,
  ).toBeLessThan(BUNDLE_GZIP_BUDGET_BYTES);
});
