/**
 * The Workers under test, bundled with esbuild (the bundler wrangler uses) and run in workerd: one workerd
 * process per instance, so each one's CPU time is its own. Two ways to run one:
 *   startWorkerDirect: `workerd serve` on a config written here, the Worker alone in the process. What
 *     the benchmark and the profiler use: the CPU of the Worker and the runtime serving it, nothing else.
 *   startWorker: through Miniflare's API, as `wrangler dev` and the tests run Workers. Miniflare puts its
 *     own entry Worker in front of every request and reads structured logs from the process: about
 *     470 µs of CPU per request on this machine, paid by both sides of a comparison, which dilutes every
 *     ratio (`npm run bench -- --harness miniflare` shows it).
 */
import { execFileSync, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { appendFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { convertV4MiniflareOptions, Miniflare } from 'miniflare';
import { cpuNs, workerdChildren } from './proc-cpu.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
const WORKERD = join(ROOT, 'node_modules', 'workerd', 'bin', 'workerd');
export const BUILD_DIR = join(ROOT, 'bench', '.build');
const COMPATIBILITY_DATE = '2026-10-01';

/**
 * Bundles bench/worker/<name>.ts (and the src/ it imports) into bench/.build/<name>.js, minified as wrangler
 * does; `readable` keeps names and layout for a CPU profile (bench/profile.ts) and writes <name>.readable.js.
 * `root` bundles another checkout of the project instead (bench/cold.ts --baseline), written as <name>.<label>.js.
 */
export async function bundleWorker(
  name: 'gateway' | 'passthrough' | 'passthrough-log' | 'peer-jose' | 'peer-hono',
  { readable = false, root = ROOT, label = '' }: { readable?: boolean; root?: string; label?: string } = {},
): Promise<string> {
  mkdirSync(BUILD_DIR, { recursive: true });
  const outfile = join(BUILD_DIR, `${name}${label ? `.${label}` : ''}${readable ? '.readable' : ''}.js`);
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
    // workerd provides the node: modules (nodejs_compat, on by default since 2026-08-04) and cloudflare:workers, as wrangler leaves them.
    external: ['node:*', 'cloudflare:*'],
    mainFields: ['module', 'main'],
    logLevel: 'warning',
  });
  return outfile;
}

/** The bench gateway of another revision: checked out in a temporary worktree (sharing node_modules), bundled, removed. */
export async function bundleRevision(revision: string): Promise<{ label: string; script: string }> {
  const git = (...gitArgs: string[]) => execFileSync('git', gitArgs, { cwd: ROOT, encoding: 'utf8' }).trim();
  const sha = git('rev-parse', '--short', `${revision}^{commit}`);
  const tree = join(BUILD_DIR, `baseline-${sha}`);
  if (existsSync(tree)) git('worktree', 'remove', '--force', tree);
  git('worktree', 'add', '--detach', tree, sha);
  try {
    symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
    return { label: sha, script: await bundleWorker('gateway', { root: tree, label: sha }) };
  } finally {
    git('worktree', 'remove', '--force', tree);
  }
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
  /** Opens the V8 inspector on 127.0.0.1:<inspectorPort> (startWorkerDirect only; bench/lib/setup.ts startInspectedGateway). */
  inspectorPort?: number;
  /** V8 flags for this workerd (startWorkerDirect only; bench/cold.ts --v8-flags), e.g. --no-lazy. Diagnosis only. */
  v8Flags?: string[];
  /** Writes the workerd's stdout (the Worker's console.log, V8's --trace-gc lines) to this file instead of dropping it (startWorkerDirect only; bench/faults.ts). */
  stdoutPath?: string;
}

/** Starts one Worker on 127.0.0.1:<port> in its own workerd process. Its logs are dropped (the bench prints its own). */
export async function startWorker({ scriptPath, port, bindings }: StartOptions): Promise<WorkerInstance> {
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

/**
 * Starts one Worker on 127.0.0.1:<port> in its own `workerd serve`, configured here: the bundle as its one
 * module, each binding as text (strings) or JSON (anything else), outbound fetches allowed to loopback
 * (the origin and JWKS are there). No KV namespace is bound: the key layers skip KV when it is absent, and
 * in steady state a request never reads it (keys come from isolate memory). Records go to stdout, which
 * workerd writes to /dev/null here: the Worker pays for console.log, nothing reads it.
 */
export async function startWorkerDirect({ scriptPath, port, bindings, inspectorPort, v8Flags = [], stdoutPath }: StartOptions): Promise<WorkerInstance> {
  const dir = join(BUILD_DIR, `workerd-${port}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'worker.js'), readFileSync(scriptPath));
  const lines: string[] = [];
  for (const [name, value] of Object.entries(bindings)) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new Error(`binding name ${name} is not an upper-case identifier`);
    const isText = typeof value === 'string';
    writeFileSync(join(dir, `${name}.binding`), isText ? value : JSON.stringify(value));
    lines.push(`(name = "${name}", ${isText ? 'text' : 'json'} = embed "${name}.binding")`);
  }
  writeFileSync(
    join(dir, 'config.capnp'),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = (
      modules = [(name = "worker.js", esModule = embed "worker.js")],
      compatibilityDate = "${COMPATIBILITY_DATE}",
      bindings = [${lines.join(', ')}],
      globalOutbound = "loopback",
    )),
    (name = "loopback", network = (allow = ["local", "private", "public"])),
  ],
  v8Flags = [${v8Flags.map((flag) => JSON.stringify(flag)).join(', ')}],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
`,
  );
  if (stdoutPath !== undefined) rmSync(`${stdoutPath}.stderr`, { force: true });
  const inspect = inspectorPort === undefined ? [] : [`--inspector-addr=127.0.0.1:${inspectorPort}`];
  const child = spawn(WORKERD, ['serve', '--experimental', ...inspect, join(dir, 'config.capnp')], { cwd: dir, stdio: ['ignore', stdoutPath === undefined ? 'ignore' : openSync(stdoutPath, 'w'), 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
    // With stdoutPath, stderr is kept beside it: a workerd that dies mid-run says why there.
    if (stdoutPath !== undefined) appendFileSync(`${stdoutPath}.stderr`, chunk);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  // Ready when the socket accepts a connection; a workerd that exits or never listens fails the start.
  const deadline = Date.now() + 15_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`workerd did not start on ${port}: ${stderr.trim() || 'no output'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, cpuNs: () => cpuNs(child.pid!), dispose: stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
