/**
 * The Worker bundle's size as issue 19 measures it: src/index.ts (the compiled policies of .generated/
 * included) bundled by esbuild, minified, gzipped. One function for `npm run bench` (details.bundle_gzip_bytes)
 * and for the test that keeps it under its budget (test/e2e/bundle-size.test.ts), so the two cannot drift.
 * esbuild minified as `wrangler deploy --minify` bundles, but without wrangler's keep_names, which adds a
 * name helper call per function (~2.6 KiB gzip) and varies with wrangler's version.
 */
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { build } from 'esbuild';

/** What the Worker may weigh, gzipped (issue 19: "bundle stays under 32 KiB gzip"). */
export const BUNDLE_GZIP_BUDGET_BYTES = 32 * 1024;

export interface BundleSize {
  gzipBytes: number;
  minifiedBytes: number;
  /** Every input (src/ files, .generated/policies.json, dependencies' modules) by its minified bytes in the bundle, largest first. */
  inputs: { path: string; bytes: number }[];
}

export async function measureWorkerBundle(root: string): Promise<BundleSize> {
  const result = await build({
    entryPoints: [join(root, 'src', 'index.ts')],
    absWorkingDir: root,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    minify: true,
    write: false,
    metafile: true,
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['node:*', 'cloudflare:*'],
    logLevel: 'silent',
  });
  const output = result.outputFiles[0]!.contents;
  const inputs = Object.entries(Object.values(result.metafile.outputs)[0]!.inputs)
    .map(([path, { bytesInOutput }]) => ({ path, bytes: bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes);
  return { gzipBytes: gzipSync(output).length, minifiedBytes: output.length, inputs };
}
