/**
 * The emergency controls' operator commands (docs/control.md), talking to the gateway's admin endpoint:
 *
 *   npm run revoke -- --jti ID [--issuer ID]                     one token
 *   npm run revoke -- --sub ID [--issuer ID] [--app ID] [--issued-before T]   a subject's tokens (older than T)
 *   npm run revoke -- --issuer ID [--issued-before T]             an issuer's tokens (older than T)
 *   npm run distrust -- --issuer ID [--kid KID]                   a signing key (or the whole issuer); every isolate refetches
 *   npm run revocations [-- --lift ENTRY-ID] [-- --json]          list, or lift an entry
 *
 * Common: --reason TEXT, --ttl SECONDS (entry lifetime; default 31 days), --by WHO (default $USER@host),
 * --url URL (default $GATEWAY_URL or http://127.0.0.1:8787, the `npm start` gateway), --path (default
 * $GATEWAY_ADMIN_PATH or /.gateway/control). The credential: $GATEWAY_ADMIN_TOKEN, or for a loopback
 * gateway the one `npm start` made (.demo/admin-token). T: seconds since 1970, an ISO date, or "now".
 * Usage errors: one line on stderr, exit 2; a refusal by the gateway: one line, exit 1.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { ADMIN_TOKEN_FILE } from './demo/admin-token.ts';

const command = process.argv[2];

function usage(message: string): never {
  console.error(`${command ?? 'control'}: ${message}`);
  process.exit(2);
}

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    args: process.argv.slice(3),
    options: {
      jti: { type: 'string' },
      sub: { type: 'string' },
      kid: { type: 'string' },
      issuer: { type: 'string' },
      app: { type: 'string' },
      'issued-before': { type: 'string' },
      ttl: { type: 'string' },
      reason: { type: 'string' },
      by: { type: 'string' },
      lift: { type: 'string' },
      json: { type: 'boolean', default: false },
      url: { type: 'string', default: process.env.GATEWAY_URL ?? 'http://127.0.0.1:8787' },
      path: { type: 'string', default: process.env.GATEWAY_ADMIN_PATH ?? '/.gateway/control' },
    },
  }).values;
}
try {
  parsed = parse();
} catch (error) {
  usage((error as Error).message.split('\n')[0]!);
}
const values = parsed;

const isLoopback = (url: URL) => ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);

function target(): { url: URL; credential: string } {
  let url: URL;
  try {
    url = new URL(values.path!, values.url);
  } catch {
    usage(`--url ${values.url} is not a URL`);
  }
  // The credential never travels in clear text beyond this machine.
  if (url.protocol !== 'https:' && !isLoopback(url)) usage(`--url must be https for a gateway that is not on loopback`);
  const credential = process.env.GATEWAY_ADMIN_TOKEN ?? (isLoopback(url) && existsSync(ADMIN_TOKEN_FILE) ? readFileSync(ADMIN_TOKEN_FILE, 'utf8').trim() : '');
  if (!credential) usage('set GATEWAY_ADMIN_TOKEN (the Worker secret of the same name)');
  return { url, credential };
}

function seconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (value === 'now') return Math.floor(Date.now() / 1000);
  if (/^\d+$/.test(value)) return Number(value);
  const parsedDate = Date.parse(value);
  if (Number.isNaN(parsedDate)) usage(`${flag} takes seconds since 1970, an ISO date or "now"`);
  return Math.floor(parsedDate / 1000);
}

function common(): Record<string, unknown> {
  const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0)) usage('--ttl takes a positive number of seconds');
  return {
    by: values.by ?? `${userInfo().username}@${hostname()}`,
    ...(values.reason ? { reason: values.reason } : {}),
    ...(ttl ? { ttl_seconds: ttl } : {}),
    ...(values.issuer ? { issuer: values.issuer } : {}),
  };
}

function revokeBody(): Record<string, unknown> {
  const chosen = (['jti', 'sub'] as const).filter((k) => values[k] !== undefined);
  if (chosen.length > 1) usage('give one of --jti or --sub');
  if (values.kid !== undefined) usage('a key is distrusted, not revoked: npm run distrust -- --issuer ID --kid KID');
  const kind = chosen[0] ?? (values.issuer ? 'issuer' : undefined);
  if (!kind) usage('give --jti ID, --sub ID or --issuer ID');
  const issuedBefore = seconds(values['issued-before'], '--issued-before');
  if (issuedBefore !== undefined && kind === 'jti') usage('--issued-before goes with --sub or --issuer');
  if (values.app !== undefined && kind !== 'sub') usage('--app goes with --sub');
  return { kind, ...(kind === 'issuer' ? {} : { value: values[kind] }), ...(values.app ? { app: values.app } : {}), ...(issuedBefore !== undefined ? { issued_before: issuedBefore } : {}), ...common() };
}

async function call(action: string, body: Record<string, unknown> | null): Promise<unknown> {
  const { url, credential } = target();
  const endpoint = new URL(`${url.pathname.replace(/\/$/, '')}/${action}`, url);
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: body === null ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
      ...(body === null ? {} : { body: JSON.stringify(body) }),
      redirect: 'manual',
    });
  } catch (error) {
    console.error(`${command}: ${endpoint.origin} cannot be reached (${(error as Error).message}); is the gateway running (npm start)?`);
    process.exit(1);
  }
  const text = await response.text();
  if (!response.ok) {
    console.error(`${command}: ${response.status} ${text.slice(0, 300)}`);
    process.exit(1);
  }
  return JSON.parse(text);
}

const when = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

interface Entry { id: string; kind: string; value: string; issuer?: string; app?: string; issuedBefore?: number; expiresAt: number; by: string; reason?: string }
interface Record_ { at: number; by: string; action: string; version: number; entry: Entry | { id: string }; from: string | null }

function describe(entry: Entry): string {
  const scope = [entry.issuer && `issuer=${entry.issuer}`, entry.app && `app=${entry.app}`, entry.issuedBefore !== undefined && `issued-before=${when(entry.issuedBefore)}`].filter(Boolean).join(' ');
  return `${entry.id}  ${entry.kind}=${entry.value}${scope ? ` ${scope}` : ''}  until ${when(entry.expiresAt)}  by ${entry.by}${entry.reason ? `: ${entry.reason}` : ''}`;
}

function printRecord(record: Record_): void {
  if (values.json) return void console.log(JSON.stringify(record));
  const what = 'kind' in record.entry ? describe(record.entry) : record.entry.id;
  console.log(`${record.action} v${record.version} at ${when(record.at)}: ${what}`);
  console.log(`every isolate applies it within 10 s (docs/control.md)`);
}

switch (command) {
  case 'revoke':
    printRecord((await call('revocations', revokeBody())) as Record_);
    break;
  case 'distrust': {
    if (!values.issuer) usage('give --issuer ID (and --kid KID for one key)');
    if (values.jti || values.sub || values['issued-before'] || values.app) usage('distrust takes --issuer and --kid only; tokens are revoked with npm run revoke');
    printRecord((await call('distrust', { ...(values.kid ? { kid: values.kid } : {}), ...common() })) as Record_);
    break;
  }
  case 'revocations': {
    if (values.lift) {
      printRecord((await call('lift', { id: values.lift, by: values.by ?? `${userInfo().username}@${hostname()}` })) as Record_);
      break;
    }
    const listing = (await call('revocations', null)) as { version: number; entries: Entry[]; log: Record_[] };
    if (values.json) {
      console.log(JSON.stringify(listing, null, 2));
      break;
    }
    const now = Math.floor(Date.now() / 1000);
    const live = listing.entries.filter((e) => e.expiresAt > now);
    console.log(`deny list v${listing.version}: ${live.length} live ${live.length === 1 ? 'entry' : 'entries'}`);
    for (const entry of live) console.log(`  ${describe(entry)}`);
    console.log(`last changes:`);
    for (const record of listing.log.slice(-10)) console.log(`  v${record.version} ${when(record.at)} ${record.action} by ${record.by}${record.from ? ` from ${record.from}` : ''}: ${'kind' in record.entry ? `${record.entry.id} ${record.entry.kind}=${record.entry.value}` : record.entry.id}`);
    break;
  }
  default:
    usage('run as npm run revoke, npm run distrust or npm run revocations');
}
