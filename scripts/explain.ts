/**
 * `npm run -s explain -- --url URL [--method GET] [--token T] [--jwks FILE] [--config FILE] [--allow-loopback-http]`
 * Judges a token the way the deployed gateway would, with the same code, and prints every check with
 * pass/fail and evidence, then the answer (status and WWW-Authenticate). Exit 0 if the request would be let
 * through, 1 if not, 2 on a usage error. The token comes from --token or, without it, from stdin (so it
 * stays out of shell history: `pbpaste | npm run -s explain -- --url ...`). The token is never printed.
 *   --jwks FILE   use this key set ({"keys": [...]}) for the route's issuers instead of fetching theirs
 *   --config FILE compiled policies (default .generated/policies.json; run `npm run check` first)
 *   --allow-loopback-http  fetch keys from an issuer on 127.0.0.1 over http, as `npm start` allows
 */
import { readFileSync } from 'node:fs';
import type { JWK } from 'jose';
import { loadCompiledConfig } from '../src/config/load.ts';
import type { CompiledConfig } from '../src/config/types.ts';
import { KeyStore } from '../src/keys/key-store.ts';
import { explain } from '../src/log/explain.ts';
import { parseCli, usageError } from './cli.ts';
import { COMPILED_PATH } from './compile-policies.ts';

function usage(message: string): never {
  return usageError('explain', message);
}

const { values } = parseCli('explain', {
  options: {
    url: { type: 'string' },
    method: { type: 'string', default: 'GET' },
    token: { type: 'string' },
    jwks: { type: 'string' },
    config: { type: 'string', default: COMPILED_PATH },
    'allow-loopback-http': { type: 'boolean', default: false },
  },
  strict: true,
});

if (!values.url) usage('--url is required');
let url: URL;
try {
  url = new URL(values.url);
} catch {
  usage(`--url is not a URL: ${values.url}`);
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) usage('give the token with --token or on stdin');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
// A pasted "Bearer xxx" or a trailing newline is the token all the same.
const token = (values.token ?? (await readStdin())).trim().replace(/^bearer\s+/i, '');
if (token === '') usage('the token is empty');

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    usage(`cannot read ${what} ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

let config: CompiledConfig;
try {
  config = loadCompiledConfig(readJson(values.config, 'compiled policies'));
} catch (error) {
  usage(error instanceof Error ? error.message : String(error));
}

if (values.jwks) {
  const jwks = readJson(values.jwks, 'key set') as { keys?: JWK[] };
  if (!Array.isArray(jwks?.keys)) usage(`${values.jwks} is not a JWKS ({"keys": [...]})`);
  // Every issuer takes its keys from the file: the same key lookup then runs on them (layer "inline").
  for (const issuer of Object.values(config.issuers)) issuer.keySource = { kind: 'inline', keys: jwks.keys };
  console.log(`keys      from ${values.jwks} (${jwks.keys.length} keys), not fetched`);
}

const keys = new KeyStore({ allowLoopbackHttp: values['allow-loopback-http'] });
const result = await explain({ config, keys, method: values.method.toUpperCase(), url, token, now: Math.floor(Date.now() / 1000) });
for (const line of result.lines) console.log(line);
// The `npm start` demo's issuer serves its keys over plain http on 127.0.0.1, which only this flag allows.
const onLoopbackHttp = (url: string) => /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(url);
const loopbackIssuer = Object.values(config.issuers).some(({ keySource }) => 'url' in keySource && onLoopbackHttp(keySource.url));
if (!values['allow-loopback-http'] && loopbackIssuer && result.lines.some((line) => line.includes('keys_unavailable'))) {
  console.log('hint      this issuer serves its keys over plain http on 127.0.0.1 (the npm start demo), which the gateway');
  console.log('          refuses unless allowed: run explain again with --allow-loopback-http');
}
process.exitCode = result.allowed ? 0 : 1;
