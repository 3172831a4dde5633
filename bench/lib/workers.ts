/**
 * The two Workers under test, bundled with esbuild (the bundler wrangler uses) and run in workerd through
 * Miniflare's API: one workerd process per instance, so each one's CPU time is its own.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { cpuNs, workerdChildren } from './proc-cpu.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BUILD_DIR = join(ROOT, 'bench', '.build');
const COMPATIBILITY_DATE = '2026-10-01';

/**
 * Bundles bench/worker/<name>.ts (and the src/ it imports) into bench/.build/<name>.js, minified as wrangler
 * does; `readable` keeps names and layout for a CPU profile (bench/profile.ts) and writes <name>.readable.js.
 */
export async function bundleWorker(name: 'gateway' | 'passthrough' | 'passthrough-log', root = ROOT, readable = false): Promise<string> {
  const outdir = join(root, 'bench', '.build');
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, readable ? `${name}.readable.js` : `${name}.js`);
  await build({
    entryPoints: [join(root, 'bench', 'worker', `${name}.ts`)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2023',
    minify: !readable,
    keepNames: readable,
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    logLevel: 'warning',
  });
  return outfile;
}

export interface WorkerInstance {
  url: string;
  pid: number;
  cpuNs(): number;
  dispose(): Promise<void>;
}

export interface StartOptions {
  scriptPath: string;
  port: number;
  bindings: Record<string, unknown>;
  /** Opens the V8 inspector on 127.0.0.1:<inspectorPort> (bench/profile.ts). */
  inspectorPort?: number;
}

/** Starts one Worker on 127.0.0.1:<port> in its own workerd process. Its logs are dropped (the bench prints its own). */
export async function startWorker({ scriptPath, port, bindings, inspectorPort }: StartOptions): Promise<WorkerInstance> {
  const before = workerdChildren();
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      name: 'bench',
      modules: true,
      modulesRoot: join(scriptPath, '..'),
      scriptPath,
      compatibilityDate: COMPATIBILITY_DATE,
      compatibilityFlags: ['nodejs_compat'],
      host: '127.0.0.1',
      port,
      ...(inspectorPort === undefined ? {} : { inspectorPort }),
      bindings,
      kvNamespaces: ['JWKS_CACHE'],
      // Records are still written by the gateway (it pays for console.log as in production); Miniflare does not print them.
      handleStructuredLogs: () => {},
      logRequests: false,
      // Bindings are JSON values; Miniflare's type for them is narrower than what we build.
    } as Parameters<typeof convertV4MiniflareOptions>[0]),
  );
  await mf.ready;
  const started = [...workerdChildren()].filter((pid) => !before.has(pid));
  if (started.length !== 1) {
    await mf.dispose();
    throw new Error(`expected one new workerd process, found ${started.length}`);
  }
  const pid = started[0]!;
  return { url: `http://127.0.0.1:${port}`, pid, cpuNs: () => cpuNs(pid), dispose: () => mf.dispose() };
}
