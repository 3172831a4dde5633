/**
 * What the Cache API and KV layers hold for an issuer: a fetched key set or discovery document with the
 * times that decide its freshness. Stored as JSON under versioned names (docs/keys.md); read back with the
 * same checks as a network answer, so a stale format or a tampered entry is refused, never trusted.
 */
import type { JWK } from 'jose';
import { DOC_NAME_HASH_HEX_DIGITS, KEY_CACHE_URL_BASE, UNKNOWN_KID_REFRESH_COOLDOWN_SECONDS } from '../config/constants.ts';
import type { CompiledIssuer } from '../config/types.ts';
import { sha256Prefix } from '../log/digest.ts';
import { judgeJwks } from './validate-jwk.ts';

/** Bump when the stored shape changes: old entries are then simply not found. */
export const STORED_DOC_VERSION = 1 as const;

export type DocKind = 'jwks' | 'discovery';

interface StoredDocBase {
  v: typeof STORED_DOC_VERSION;
  /** The configured issuer (`iss`) and the URL the document came from: an entry never crosses issuers. */
  issuer: string;
  source: string;
  /** Seconds since the epoch. */
  fetchedAt: number;
  expiresAt: number;
}
export interface StoredJwks extends StoredDocBase {
  kind: 'jwks';
  keys: JWK[];
}
export interface StoredDiscovery extends StoredDocBase {
  kind: 'discovery';
  jwksUri: string;
}
export type StoredDoc = StoredJwks | StoredDiscovery;

/** Names of one issuer's entries in KV and the Cache API. */
export interface DocNames {
  kv: string;
  cache: string;
}

/**
 * `keys:v1:<kind>:<issuer id>:<hash>`; the hash (SHA-256 of issuer and key source, 16 hex digits) changes
 * when the policy points the issuer elsewhere, so an entry of the old source is never read for the new one.
 */
export async function docNames(kind: DocKind, issuer: CompiledIssuer): Promise<DocNames> {
  const source = 'url' in issuer.keySource ? issuer.keySource.url : issuer.keySource.kind;
  // The log's SHA-256 prefix, cut to the names' own length: a longer log prefix leaves the stored names as they
  // are (a shorter one would fail the known-answer test in test/unit/keys/stored-doc.test.ts).
  const hash = (await sha256Prefix(`${issuer.issuer}\n${source}`)).slice(0, DOC_NAME_HASH_HEX_DIGITS);
  return {
    kv: `keys:v${STORED_DOC_VERSION}:${kind}:${issuer.id}:${hash}`,
    cache: `${KEY_CACHE_URL_BASE}/v${STORED_DOC_VERSION}/${kind}/${issuer.id}/${hash}`,
  };
}

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * A stored entry as read back. In the Cache API a key set's entry also says when an isolate of this data
 * centre last looked at the issuer (`triedAt`, docs/keys.md): the data centre's cooldown. A look that failed
 * with no set to keep leaves that mark alone (`doc` null).
 */
export interface StoredEntry {
  doc: StoredDoc | null;
  triedAt?: number;
}

/**
 * The entry's mark, unless it is more than a cooldown ahead of `now`. A little ahead is a genuine mark: `now` is
 * taken when the request starts, and another isolate may mark later. Far ahead (a poisoned entry, a skewed clock)
 * it would hold the data centre in cooldown for the entry's whole lifetime, and be copied forward with it: it
 * counts as none, so a future mark holds at most about two cooldowns.
 */
export const markAsOf = (entry: StoredEntry | null, now: number): number | undefined =>
  entry?.triedAt !== undefined && entry.triedAt <= now + UNKNOWN_KID_REFRESH_COOLDOWN_SECONDS ? entry.triedAt : undefined;

/** Parses a stored entry; null (and the caller ignores it) unless it is this version, this issuer, this kind and well-formed. */
export function parseStoredEntry(text: string, kind: DocKind, issuer: string): StoredEntry | null {
  let value: { [K in keyof StoredJwks | keyof StoredDiscovery | 'triedAt']?: unknown } | null;
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    return null;
  }
  if (value?.v !== STORED_DOC_VERSION || value.kind !== kind || value.issuer !== issuer) return null;
  const triedAt = isTime(value.triedAt) ? value.triedAt : undefined;
  if (value.fetchedAt === undefined && triedAt !== undefined) return { doc: null, triedAt };
  if (typeof value.source !== 'string' || !isTime(value.fetchedAt) || !isTime(value.expiresAt) || value.expiresAt < value.fetchedAt) return null;
  const base = { v: STORED_DOC_VERSION, issuer, source: value.source, fetchedAt: value.fetchedAt, expiresAt: value.expiresAt };
  if (kind === 'discovery') return typeof value.jwksUri === 'string' ? { doc: { ...base, kind, jwksUri: value.jwksUri } } : null;
  const verdict = judgeJwks({ keys: value.keys });
  return verdict.ok ? { doc: { ...base, kind, keys: verdict.keys }, triedAt } : null;
}
