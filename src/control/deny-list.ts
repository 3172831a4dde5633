/**
 * The deny list (docs/control.md): tokens refused although they verify, by jti, subject, kid or issuer,
 * optionally only those issued before a time. Pure: built once per version of the list, then consulted
 * synchronously from memory on every accepted token (full verification and cache hit alike), so the
 * steady state costs a few Map reads and no await. Every entry expires by itself.
 */
import { finding, type Finding } from '../findings.ts';
import type { Claims } from '../verify/claims.ts';

export type DenyKind = 'jti' | 'sub' | 'kid' | 'issuer';

export interface DenyEntry {
  /** Stable name of the entry, for the log and for lifting it. */
  id: string;
  kind: DenyKind;
  /** The jti, sub or kid; for kind "issuer" the policy's issuer id. */
  value: string;
  /** The policy's issuer id the entry is limited to (jti, sub, kid); absent: any issuer. */
  issuer?: string;
  /** sub only: the app (the issuer's app claim) the entry is limited to. */
  app?: string;
  /** sub and issuer: only tokens whose iat is before this (seconds); a token without iat counts as older. Absent: every token. */
  issuedBefore?: number;
  /** Seconds: from then on the entry is ignored (and the store drops it). */
  expiresAt: number;
  createdAt: number;
  /** Who asked for it and why, as the operator said (the change log keeps the same). */
  by: string;
  reason?: string;
}

/** The entries by what they match, so a check is one Map read per kind. */
export interface DenyList {
  version: number;
  size: number;
  byJti: ReadonlyMap<string, readonly DenyEntry[]>;
  bySub: ReadonlyMap<string, readonly DenyEntry[]>;
  byKid: ReadonlyMap<string, readonly DenyEntry[]>;
  byIssuer: ReadonlyMap<string, readonly DenyEntry[]>;
}

export const EMPTY_DENY_LIST: DenyList = compileDenyList([], 0);

export function compileDenyList(entries: readonly DenyEntry[], version: number): DenyList {
  const maps: Record<DenyKind, Map<string, DenyEntry[]>> = { jti: new Map(), sub: new Map(), kid: new Map(), issuer: new Map() };
  for (const entry of entries) {
    const map = maps[entry.kind];
    const list = map.get(entry.value);
    if (list) list.push(entry);
    else map.set(entry.value, [entry]);
  }
  return { version, size: entries.length, byJti: maps.jti, bySub: maps.sub, byKid: maps.kid, byIssuer: maps.issuer };
}

/** What is judged of an accepted token: its issuer (policy id), header kid and verified claims, its app as the log shows it. */
export interface DenyCheck {
  issuerId: string;
  kid: string | undefined;
  claims: Claims;
  app: string | null;
  now: number;
}

/** The first live entry that refuses this token, or null. */
export function deniedBy(list: DenyList, token: DenyCheck): DenyEntry | null {
  if (list.size === 0) return null;
  const { claims } = token;
  return (
    (typeof claims.jti === 'string' ? first(list.byJti.get(claims.jti), token) : null) ??
    (typeof claims.sub === 'string' ? first(list.bySub.get(claims.sub), token) : null) ??
    (token.kid !== undefined ? first(list.byKid.get(token.kid), token) : null) ??
    first(list.byIssuer.get(token.issuerId), token)
  );
}

function first(entries: readonly DenyEntry[] | undefined, token: DenyCheck): DenyEntry | null {
  if (entries === undefined) return null;
  for (const entry of entries) if (applies(entry, token)) return entry;
  return null;
}

function applies(entry: DenyEntry, { issuerId, claims, app, now }: DenyCheck): boolean {
  if (now >= entry.expiresAt) return false;
  if (entry.kind !== 'issuer' && entry.issuer !== undefined && entry.issuer !== issuerId) return false;
  if (entry.app !== undefined && entry.app !== app) return false;
  if (entry.issuedBefore === undefined) return true;
  // No iat, or not a number: the token cannot show it is newer, so it is ended with the older ones.
  return !(typeof claims.iat === 'number' && claims.iat >= entry.issuedBefore);
}

/**
 * One request's view of the deny list: the list and whether it may still be trusted as current (false once
 * the store has been unreachable past DENY_LIST_MAX_STALE_MS, docs/control.md), and the issuers whose
 * tokens are then served anyway (fail open) rather than refused (fail closed, the default).
 */
export interface Revocations {
  list: DenyList;
  current: boolean;
  failOpen: ReadonlySet<string>;
}

/** No store bound: nothing is revoked, as before emergency controls existed. */
export const NO_REVOCATIONS: Revocations = { list: EMPTY_DENY_LIST, current: true, failOpen: new Set() };

/** The finding that refuses an otherwise accepted token, or null. */
export function revocationFinding(revocations: Revocations, token: DenyCheck): Finding | null {
  if (!revocations.current && !revocations.failOpen.has(token.issuerId)) {
    return finding('keys_unavailable', { detail: 'deny list unreachable past its bound (fail closed)' });
  }
  const entry = deniedBy(revocations.list, token);
  // The entry's id and kind only: its value may be a subject, which the log shows only as the policy allows.
  return entry === null ? null : finding('token_revoked', { detail: `deny entry ${entry.id} (${entry.kind})` });
}
