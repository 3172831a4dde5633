/**
 * Where a route's token may come from (the policy's `token_sources`, docs/configuration.md) and how it is
 * taken. Pure. Exactly one credential: every listed source that is present is read, the first present one is
 * the token, a different value anywhere else (or two different cookies of one name) is 400 request_invalid,
 * and a present source that is malformed is a finding, never "no token" (an optional route stays closed).
 */
import { MAX_TOKEN_BYTES, WEBSOCKET_BEARER_PROTOCOL_PREFIX } from '../config/constants.ts';
import type { TokenSource } from '../config/types.ts';
import { finding, type Finding } from '../findings.ts';
import { base64UrlToBytes, base64UrlEncode } from './base64url.ts';
import { extractBearerToken } from './extract.ts';

export type { TokenSource };

/** The label a record and a trace show for a source: its kind and name, never its value. */
export function sourceLabel(source: TokenSource): string {
  return source.kind === 'header' || source.kind === 'cookie' || source.kind === 'query' ? `${source.kind}:${source.name}` : source.kind;
}

/** What a request offers beyond its headers: the query (only read when a query source is listed). */
export interface TokenInput {
  headers: Headers;
  /** The query with its "?", as the gateway judged it ("" for none). */
  search: string;
}

export type SourceExtraction = { ok: true; token: string; source: TokenSource } | { ok: false; finding: Finding; source?: TokenSource };

/** One source's reading: absent, a token, or present but unusable. */
type Reading = { kind: 'absent'; finding?: Finding } | { kind: 'token'; token: string } | { kind: 'bad'; finding: Finding };

const ABSENT: Reading = { kind: 'absent' };
const bad = (code: 'token_malformed' | 'request_invalid', detail: string): Reading => ({ kind: 'bad', finding: finding(code, { detail }) });

/** A token value as it must stand alone: non-empty, no whitespace, no comma (two values joined), bounded. */
function judgeValue(value: string, what: string): Reading {
  if (value.length === 0) return bad('token_malformed', `empty ${what}`);
  if (/[\s,]/.test(value)) return bad('request_invalid', `more than one credential or stray whitespace in ${what}`);
  if (value.length > MAX_TOKEN_BYTES) return bad('token_malformed', `${what} too large`);
  return { kind: 'token', token: value };
}

function readHeader(headers: Headers, name: string, scheme: string | undefined): Reading {
  const value = headers.get(name);
  if (value === null) return ABSENT;
  if (scheme === undefined) return judgeValue(value, `header ${name}`);
  const space = value.search(/\s/);
  if (space === -1 || value.slice(0, space).toLowerCase() !== scheme.toLowerCase()) return bad('token_malformed', `header ${name} does not start with "${scheme} "`);
  if (value[space] !== ' ' || /\s/.test(value[space + 1] ?? '')) return bad('request_invalid', `stray whitespace in header ${name}`);
  return judgeValue(value.slice(space + 1), `header ${name}`);
}

/** Every pair of a Cookie header (RFC 6265 5.4: "; " between pairs; tolerant of a missing space and of HTTP/2's split headers joined by ", "). */
export function cookiePairs(cookie: string): { name: string; value: string }[] {
  const pairs: { name: string; value: string }[] = [];
  for (const piece of cookie.split(';')) {
    const eq = piece.indexOf('=');
    if (eq === -1) continue;
    pairs.push({ name: piece.slice(0, eq).trim(), value: piece.slice(eq + 1).trim() });
  }
  return pairs;
}

function readCookie(headers: Headers, name: string): Reading {
  const cookie = headers.get('cookie');
  if (cookie === null || !cookie.includes(name)) return ABSENT;
  let found: string | null = null;
  for (const pair of cookiePairs(cookie)) {
    if (pair.name !== name) continue;
    if (found !== null && pair.value !== found) return bad('request_invalid', `two cookies ${name} with different values`);
    found = pair.value;
  }
  return found === null ? ABSENT : judgeValue(found, `cookie ${name}`);
}

/** Sec-WebSocket-Protocol entries (a comma-separated list, RFC 6455 11.3.4), trimmed. */
export const protocolEntries = (value: string): string[] => value.split(',').map((entry) => entry.trim()).filter((entry) => entry.length > 0);

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function readWebSocketProtocol(headers: Headers): Reading {
  const value = headers.get('sec-websocket-protocol');
  if (value === null || !value.includes(WEBSOCKET_BEARER_PROTOCOL_PREFIX)) return ABSENT;
  let found: string | null = null;
  for (const entry of protocolEntries(value)) {
    if (!entry.startsWith(WEBSOCKET_BEARER_PROTOCOL_PREFIX)) continue;
    const bytes = base64UrlToBytes(entry.slice(WEBSOCKET_BEARER_PROTOCOL_PREFIX.length));
    let token: string | null = null;
    try {
      token = bytes === null ? null : utf8.decode(bytes);
    } catch {
      token = null;
    }
    if (token === null) return bad('token_malformed', 'websocket protocol entry is not canonical base64url of UTF-8');
    if (found !== null && token !== found) return bad('request_invalid', 'two websocket bearer protocol entries with different tokens');
    found = token;
  }
  return found === null ? ABSENT : judgeValue(found, 'websocket protocol entry');
}

/** The decoded values of every query parameter named `name` (compared as the gateway's refusal does: decoded, trimmed, lower case). */
export function queryValues(search: string, name: string): string[] {
  const values: string[] = [];
  if (search.length < 2) return values;
  for (const pair of search.slice(1).split(/[&;]/)) {
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    if (decodeQueryPart(rawName).trim().toLowerCase() === name) values.push(decodeQueryPart(eq === -1 ? '' : pair.slice(eq + 1)));
  }
  return values;
}

function decodeQueryPart(raw: string): string {
  const spaced = raw.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

function readQuery(search: string, name: string): Reading {
  if (!search.toLowerCase().includes(name) && !search.includes('%')) return ABSENT;
  const values = queryValues(search, name);
  if (values.length === 0) return ABSENT;
  if (values.some((value) => value !== values[0])) return bad('request_invalid', `two query parameters ${name} with different values`);
  return judgeValue(values[0]!, `query parameter ${name}`);
}

function read(source: TokenSource, input: TokenInput): Reading {
  switch (source.kind) {
    case 'authorization': {
      const bearer = extractBearerToken(input.headers);
      if (bearer.ok) return { kind: 'token', token: bearer.token };
      // No bearer (no header, or another scheme): absent, with the finding that says which.
      return bearer.finding.code === 'token_missing' ? { kind: 'absent', finding: bearer.finding } : { kind: 'bad', finding: bearer.finding };
    }
    case 'header':
      return readHeader(input.headers, source.name, source.scheme);
    case 'cookie':
      return readCookie(input.headers, source.name);
    case 'websocket_protocol':
      return readWebSocketProtocol(input.headers);
    case 'query':
      return readQuery(input.search, source.name);
  }
}

/**
 * The one credential of a request among `sources`, in their order. Every source is read, so a second
 * credential is found wherever it sits; the same value in two sources (Access's header and cookie) is one.
 */
export function extractToken(sources: readonly TokenSource[], input: TokenInput): SourceExtraction {
  let chosen: { token: string; source: TokenSource } | null = null;
  let missing: Finding | undefined;
  for (const source of sources) {
    const reading = read(source, input);
    if (reading.kind === 'absent') {
      missing ??= reading.finding;
      continue;
    }
    if (reading.kind === 'bad') return { ok: false, finding: reading.finding, source };
    if (chosen === null) chosen = { token: reading.token, source };
    else if (chosen.token !== reading.token) {
      return { ok: false, finding: finding('request_invalid', { detail: `different credentials in ${sourceLabel(chosen.source)} and ${sourceLabel(source)}` }), source };
    }
  }
  if (chosen !== null) return { ok: true, ...chosen };
  return { ok: false, finding: missing ?? finding('token_missing') };
}

/**
 * A request that carries `token` in `source`, as a client would send it: for the operator tools, which are
 * given a token and judge it on a route. A cookie comes from the site itself (Sec-Fetch-Site same-origin).
 */
export function carrying(source: TokenSource, token: string): TokenInput {
  switch (source.kind) {
    case 'authorization':
      return { headers: new Headers({ authorization: `Bearer ${token}` }), search: '' };
    case 'header':
      return { headers: new Headers({ [source.name]: source.scheme === undefined ? token : `${source.scheme} ${token}` }), search: '' };
    case 'cookie':
      return { headers: new Headers({ cookie: `${source.name}=${token}`, 'sec-fetch-site': 'same-origin' }), search: '' };
    case 'websocket_protocol':
      return { headers: new Headers({ 'sec-websocket-protocol': WEBSOCKET_BEARER_PROTOCOL_PREFIX + base64UrlEncode(new TextEncoder().encode(token)) }), search: '' };
    case 'query':
      return { headers: new Headers(), search: `?${source.name}=${encodeURIComponent(token)}` };
  }
}
