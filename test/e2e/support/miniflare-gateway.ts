/**
 * The gateway Worker in workerd, started from Node with Miniflare, built from the repository's own entry
 * point (src/index.ts) with a policy compiled by src/config/compile.ts in place of .generated/policies.json.
 *
 * How the policy gets in: esbuild bundles src/index.ts as wrangler would, and a resolver plugin answers
 * the entry's one import of `.generated/policies.json` with the test's compiled policy. Nothing in src/
 * knows about tests, and the repository's .generated/ is never touched.
 *
 * Each `startGateway` is a fresh workerd process with a fresh isolate: an empty key cache, as after a deploy.
 */
import { build, type Plugin } from 'esbuild';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import { join } from 'node:path';
import { compilePolicies } from '../../../src/config/compile.ts';
import type { CompiledConfig } from '../../../src/config/types.ts';
import type { Finding, FindingCode } from '../../../src/findings.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const ENTRY = join(ROOT, 'src', 'index.ts');
/** The same compatibility settings as wrangler.toml, so the Worker runs as it does deployed. */
const COMPATIBILITY_DATE = '2026-10-01';
const COMPATIBILITY_FLAGS = ['nodejs_compat'];
/** The key store's warning when an issuer's keys could not be fetched: main's name, and the key layers' (issue 4). */
const KEY_FETCH_FAILURE_EVENT = /"event":"(jwks_fetch_failed|keys_refresh_failed)"/;
/** How long a test waits for a request's log line to arrive from workerd's stdout. */
const RECORD_WAIT_MS = 5000;

export function compilePolicyOrThrow(policy: object): CompiledConfig {
  const result = compilePolicies([{ file: 'interop.jsonc', text: JSON.stringify(policy) }]);
  if (!result.ok) throw new Error(`interop policy does not compile:\n${result.errors.map((e) => `${e.path}: ${e.message}`).join('\n')}`);
  return result.config;
}

/** Answers the entry's import of the build-time policies with the given compiled configuration. */
function compiledPolicyPlugin(config: CompiledConfig): Plugin {
  return {
    name: 'interop-compiled-policy',
    setup(build) {
      build.onResolve({ filter: /\.generated\/policies\.json$/ }, () => ({ path: 'policies.json', namespace: 'interop-policy' }));
      build.onLoad({ filter: /.*/, namespace: 'interop-policy' }, () => ({ contents: JSON.stringify(config), loader: 'json' }));
    },
  };
}

export async function bundleGateway(config: CompiledConfig): Promise<string> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    // workerd provides the node: modules (nodejs_compat) and cloudflare:workers, as wrangler's bundle leaves them:
    // src/warm.ts imports node:util and node:async_hooks, src/index.ts the bindings at load.
    external: ['node:*', 'cloudflare:*'],
    logLevel: 'silent',
    plugins: [compiledPolicyPlugin(config)],
  });
  return result.outputFiles[0]!.text;
}

/** The fields of the verification record (src/log/record.ts) the interop tests read. */
export interface LoggedRecord {
  request_id: string;
  outcome: string;
  status: number;
  /** Finding codes, in order. */
  findings: FindingCode[];
  /** The claim each finding names (null when it names none), in the same order. */
  claims: (string | null)[];
  kid: string | null;
  key_layer: string | null;
}

const RECORD_FIELDS = ['request_id', 'outcome', 'status', 'kid', 'key_layer'] as const;

/**
 * Reads a verification record from one workerd log message. On main the Worker logs the record object
 * with console.log, which workerd prints inspect-style (`{ v: 1, request_id: '...', ... }`), not JSON;
 * a JSON line (if the log format changes to one) is read too. Anything else is not a record.
 */
export function parseRecord(message: string): LoggedRecord | null {
  try {
    const value = JSON.parse(message) as Record<string, unknown> & { findings?: Finding[] };
    if (typeof value?.request_id !== 'string' || !Array.isArray(value.findings)) return null;
    const record = Object.fromEntries(RECORD_FIELDS.map((f) => [f, value[f] ?? null])) as unknown as LoggedRecord;
    return { ...record, findings: value.findings.map((f) => f.code), claims: value.findings.map((f) => f.claim ?? null) };
  } catch {
    // not JSON: the inspect form below
  }
  if (!/^\{\s*v: \d+,/.test(message) || !/\bfindings: \[/.test(message)) return null;
  const field = (name: string): string | null => {
    const match = new RegExp(`^  ${name}: (?:'([^']*)'|(\\d+)|null)`, 'm').exec(message);
    return match ? (match[1] ?? match[2] ?? null) : null;
  };
  // From "findings: [" to the next top-level field (two-space indent); the codes are the findings' own.
  const findingsText = message.slice(message.indexOf('\n  findings: [') + 1).split(/\n  [a-z_]+: /)[0]!;
  // One chunk per finding object, each starting at its code.
  const chunks = findingsText.split(/(?=code: ')/).slice(1);
  return {
    request_id: field('request_id') ?? '',
    outcome: field('outcome') ?? '',
    status: Number(field('status')),
    findings: chunks.map((chunk) => /^code: '([a-z_]+)'/.exec(chunk)![1] as FindingCode),
    claims: chunks.map((chunk) => /\bclaim: '([^']*)'/.exec(chunk)?.[1] ?? null),
    kid: field('kid'),
    key_layer: field('key_layer'),
  };
}

export interface GatewayOptions {
  port: number;
  policy: object;
  /** More Worker bindings (secrets such as GATEWAY_SIGNING_KEY), beside the ALLOW_LOOPBACK_HTTP every interop gateway gets. */
  bindings?: Record<string, string>;
}

export class MiniflareGateway {
  readonly url: string;
  /** Every verification record the Worker logged, in order. */
  readonly records: LoggedRecord[] = [];
  /** How many times the key store logged that it could not fetch an issuer's keys. */
  keyFetchFailures = 0;
  readonly #miniflare: Miniflare;

  private constructor(miniflare: Miniflare, port: number) {
    this.#miniflare = miniflare;
    this.url = `http://127.0.0.1:${port}`;
  }

  static async start({ port, policy, bindings = {} }: GatewayOptions): Promise<MiniflareGateway> {
    const script = await bundleGateway(compilePolicyOrThrow(policy));
    let gateway: MiniflareGateway | undefined;
    const pending: string[] = [];
    const miniflare = new Miniflare(
      convertV4MiniflareOptions({
        host: '127.0.0.1',
        port,
        modules: true,
        script,
        compatibilityDate: COMPATIBILITY_DATE,
        compatibilityFlags: COMPATIBILITY_FLAGS,
        kvNamespaces: ['JWKS_CACHE'],
        // The provider is on loopback over plain http, as in `npm start`; never in production.
        bindings: { ...bindings, ALLOW_LOOPBACK_HTTP: 'true' },
        handleStructuredLogs: ({ message }) => (gateway ? gateway.#log(message) : pending.push(message)),
      }),
    );
    await miniflare.ready;
    gateway = new MiniflareGateway(miniflare, port);
    for (const message of pending) gateway.#log(message);
    return gateway;
  }

  #log(message: string): void {
    const record = parseRecord(message);
    if (record) this.records.push(record);
    else if (KEY_FETCH_FAILURE_EVENT.test(message)) this.keyFetchFailures += 1;
  }

  /**
   * The record of one request, by the id the gateway gave it (in a denial's body, or the origin's
   * x-verified-request-id). workerd's log reaches Node a little after the response: wait for it, bounded.
   */
  async recordFor(requestId: string, timeoutMs = RECORD_WAIT_MS): Promise<LoggedRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const record = this.records.find((r) => r.request_id === requestId);
      if (record) return record;
      if (Date.now() > deadline) throw new Error(`no verification record for request ${requestId} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  fetch(path: string, init?: RequestInit): Promise<Response> {
    return fetch(new URL(path, this.url), init);
  }

  async stop(): Promise<void> {
    await this.#miniflare.dispose();
  }
}
