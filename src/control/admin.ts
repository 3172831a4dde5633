/**
 * The admin endpoint of the emergency controls (docs/control.md): off unless the Worker secret
 * GATEWAY_ADMIN_TOKEN is set; then answered on GATEWAY_ADMIN_PATH (default /.gateway/control) before any
 * route is matched, so no user route can reach it or shadow it. Its credential is that secret as a bearer
 * token, compared in constant time; a user's JWT is never accepted here.
 *
 *   GET  <path>/revocations    the live entries, the distrust marks and the change log
 *   POST <path>/revocations    {"kind":"jti|sub|issuer","value":..,"issuer"?,"app"?,"issued_before"?,"ttl_seconds"?,"by","reason"?}
 *   POST <path>/distrust       {"issuer":..,"kid"?,"ttl_seconds"?,"by","reason"?}
 *   POST <path>/lift           {"id":..,"by"}
 */
import { DEFAULT_ADMIN_PATH, DENY_ENTRY_DEFAULT_TTL_SECONDS, DENY_ENTRY_MAX_TTL_SECONDS, MAX_ADMIN_BODY_BYTES, MAX_DENY_VALUE_CHARS, MAX_NUMERIC_DATE } from '../config/constants.ts';
import type { Env } from '../env.ts';
import { denyListStub, type ControlRecord, type DenyListRpc, type NewEntry, type StoreAnswer } from './deny-list-store.ts';

/** The admin path when the endpoint is on (the secret set), else null: the path is then an ordinary one. */
export function adminPath(env: Env): string | null {
  if (!env.GATEWAY_ADMIN_TOKEN) return null;
  return env.GATEWAY_ADMIN_PATH || DEFAULT_ADMIN_PATH;
}

export const isAdminRequest = (path: string | null, url: URL): path is string => path !== null && (url.pathname === path || url.pathname.startsWith(`${path}/`));

const answer = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });

type Handled = { response: Response; note: string };

/** An admin request refused: `error` in the body, and in the note unless another is given. */
const refused = (status: number, error: string, note = `admin: ${error}`): Handled => ({ response: answer(status, { error }), note });

/** Handles one admin request. `issuerIds`: the policy's issuers, the only ones an entry may name. `now` in seconds. */
export async function handleAdmin(request: Request, url: URL, path: string, env: Env, issuerIds: ReadonlySet<string>, now: number): Promise<Handled> {
  if (!(await credentialMatches(request.headers.get('authorization'), env.GATEWAY_ADMIN_TOKEN!))) {
    return refused(401, 'unauthorized', 'admin: credential refused');
  }
  if (!env.DENY_LIST) return refused(503, 'no DENY_LIST Durable Object bound', 'admin: no store bound');
  try {
    return await change(request, url, path, denyListStub(env.DENY_LIST), issuerIds, now);
  } catch (error) {
    // The store did not answer: the operator is told so (never a 500) and lists to see whether the change was made.
    const reason = `deny list store unreachable: ${error instanceof Error ? error.message.slice(0, 200) : 'unknown'}`;
    return refused(503, reason);
  }
}

async function change(request: Request, url: URL, path: string, store: DenyListRpc, issuerIds: ReadonlySet<string>, now: number): Promise<Handled> {
  const action = url.pathname.slice(path.length);
  if (request.method === 'GET' && action === '/revocations') return { response: answer(200, await store.listing()), note: 'admin: listing' };
  if (request.method !== 'POST' || !['/revocations', '/distrust', '/lift'].includes(action)) {
    return refused(404, 'unknown admin action', `admin: unknown ${request.method} ${action.slice(0, 64)}`);
  }
  const body = await readBody(request);
  if (typeof body === 'string') return refused(400, body);
  const from = request.headers.get('cf-connecting-ip');
  let result: StoreAnswer<ControlRecord>;
  if (action === '/lift') {
    const id = text(body.id);
    const by = text(body.by);
    if (!id || !by) return refused(400, '"id" and "by" are required strings', 'admin: bad lift');
    result = await store.lift(id, by, now, from);
  } else {
    const parsed = action === '/distrust' ? distrustEntry(body, issuerIds, now) : revokeEntry(body, issuerIds, now);
    if (typeof parsed === 'string') return refused(400, parsed);
    result = await store.add(parsed, now, from, action === '/distrust' ? (parsed.kind === 'issuer' ? parsed.value : parsed.issuer!) : null);
  }
  if (!result.ok) return refused(409, result.reason);
  // The audit trail in the Worker's logs, beside the store's own log: who, what, when, from where.
  console.log(JSON.stringify({ event: 'control_change', ...result.value }));
  return { response: answer(200, result.value), note: `admin: ${result.value.action} v${result.value.version}` };
}

/** SHA-256 of both sides, then a constant-time comparison: neither the length nor a prefix of the secret leaks. */
async function credentialMatches(authorization: string | null, secret: string): Promise<boolean> {
  const presented = authorization?.startsWith('Bearer ') ? authorization.slice(7) : '';
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([crypto.subtle.digest('SHA-256', encoder.encode(presented)), crypto.subtle.digest('SHA-256', encoder.encode(secret))]);
  return crypto.subtle.timingSafeEqual(a, b) && presented !== '';
}

async function readBody(request: Request): Promise<Record<string, unknown> | string> {
  const raw = await request.text();
  if (raw.length > MAX_ADMIN_BODY_BYTES) return 'body too large';
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : 'body must be a JSON object';
  } catch {
    return 'body is not JSON';
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 && value.length <= MAX_DENY_VALUE_CHARS ? value : undefined);

function common(body: Record<string, unknown>, issuerIds: ReadonlySet<string>, now: number): { by: string; reason?: string; expiresAt: number; issuer?: string } | string {
  const by = text(body.by);
  if (!by) return '"by" (who asks) is required';
  const ttl = body.ttl_seconds ?? DENY_ENTRY_DEFAULT_TTL_SECONDS;
  if (!Number.isInteger(ttl) || (ttl as number) <= 0 || (ttl as number) > DENY_ENTRY_MAX_TTL_SECONDS) return `"ttl_seconds" must be an integer in 1..${DENY_ENTRY_MAX_TTL_SECONDS}`;
  if (body.issuer !== undefined && !(typeof body.issuer === 'string' && issuerIds.has(body.issuer))) return '"issuer" must be an issuer id of the policy';
  if (body.reason !== undefined && !text(body.reason)) return `"reason" must be a string of at most ${MAX_DENY_VALUE_CHARS} characters`;
  return { by, expiresAt: now + (ttl as number), ...(body.reason ? { reason: body.reason as string } : {}), ...(body.issuer ? { issuer: body.issuer as string } : {}) };
}

function revokeEntry(body: Record<string, unknown>, issuerIds: ReadonlySet<string>, now: number): NewEntry | string {
  const base = common(body, issuerIds, now);
  if (typeof base === 'string') return base;
  const { kind } = body;
  if (kind !== 'jti' && kind !== 'sub' && kind !== 'issuer') return '"kind" must be jti, sub or issuer (a kid: distrust)';
  const value = kind === 'issuer' ? base.issuer : text(body.value);
  if (!value) return kind === 'issuer' ? '"issuer" is required' : `"value" must be a string of 1..${MAX_DENY_VALUE_CHARS} characters`;
  const app = body.app === undefined ? undefined : text(body.app);
  if (body.app !== undefined && (kind !== 'sub' || !app)) return '"app" is a string, for kind sub only';
  const before = body.issued_before;
  if (before !== undefined && (kind === 'jti' || !Number.isInteger(before) || (before as number) < 0 || (before as number) > MAX_NUMERIC_DATE)) {
    return '"issued_before" is a NumericDate (seconds), for kind sub or issuer';
  }
  const { issuer, ...rest } = base;
  return { ...rest, kind, value, ...(kind !== 'issuer' && issuer ? { issuer } : {}), ...(app ? { app } : {}), ...(before !== undefined ? { issuedBefore: before as number } : {}) };
}

function distrustEntry(body: Record<string, unknown>, issuerIds: ReadonlySet<string>, now: number): NewEntry | string {
  const base = common(body, issuerIds, now);
  if (typeof base === 'string') return base;
  if (!base.issuer) return '"issuer" is required';
  if (body.kid === undefined) {
    const { issuer, ...rest } = base;
    return { ...rest, kind: 'issuer', value: issuer };
  }
  const kid = text(body.kid);
  if (!kid) return `"kid" must be a string of 1..${MAX_DENY_VALUE_CHARS} characters`;
  return { ...base, kind: 'kid', value: kid };
}
