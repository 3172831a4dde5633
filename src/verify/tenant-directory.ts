/**
 * The accepted tenants of multi-tenant issuers, per isolate. An inline list is the policy's. A KV list
 * (`tenants.kv`: a document `{ "tenants": [...] }` under that key in GATEWAY_TENANTS) is read once when
 * the isolate first needs it (the only await), then served from memory; once it is older than
 * TENANT_LIST_REFRESH_SECONDS the next request starts a re-read through ctx.waitUntil and is itself judged
 * by the list in memory, so a steady isolate never waits on KV. A read that fails or holds a bad document
 * keeps the last good list (or the inline list alone, before any): tenants are only ever refused for it.
 */
import { MAX_TENANT_LIST_BYTES, TENANT_LIST_REFRESH_SECONDS } from '../config/constants.ts';
import type { CompiledIssuer, Tenancy } from '../config/types.ts';
import { warn } from '../log/warn.ts';

/** The binding GATEWAY_TENANTS, as far as the directory uses it. */
export interface TenantStore {
  get(key: string, type: 'text'): Promise<string | null>;
}

interface KvList {
  tenants: ReadonlySet<string>;
  /** When the list was last read (ms); a re-read starts once it is older than the refresh interval. */
  readAt: number;
  refreshing: boolean;
}

export type TenantLookup = (issuer: CompiledIssuer) => ReadonlySet<string> | Promise<ReadonlySet<string>>;

export class TenantDirectory {
  readonly #inline = new Map<string, ReadonlySet<string>>();
  readonly #kv = new Map<string, KvList>();

  /** The lookup for one request: its store and its waitUntil, the clock in ms. */
  forRequest(store: TenantStore | undefined, waitUntil: (work: Promise<unknown>) => void, nowMs: number): TenantLookup {
    return (issuer) => this.#allowed(issuer.id, issuer.tenancy!, store, waitUntil, nowMs);
  }

  #allowed(id: string, tenancy: Tenancy, store: TenantStore | undefined, waitUntil: (work: Promise<unknown>) => void, nowMs: number): ReadonlySet<string> | Promise<ReadonlySet<string>> {
    if (tenancy.kvKey === undefined) {
      let inline = this.#inline.get(id);
      if (!inline) this.#inline.set(id, (inline = new Set(tenancy.tenants)));
      return inline;
    }
    const list = this.#kv.get(id);
    if (list === undefined) return this.#read(id, tenancy, store, nowMs).then(() => this.#kv.get(id)!.tenants);
    if (!list.refreshing && nowMs - list.readAt >= TENANT_LIST_REFRESH_SECONDS * 1000) {
      list.refreshing = true;
      waitUntil(this.#read(id, tenancy, store, nowMs));
    }
    return list.tenants;
  }

  /** Reads the KV list into memory; never throws. */
  async #read(id: string, tenancy: Tenancy, store: TenantStore | undefined, nowMs: number): Promise<void> {
    const previous = this.#kv.get(id);
    let tenants = previous?.tenants ?? new Set(tenancy.tenants);
    try {
      const text = store ? await store.get(tenancy.kvKey!, 'text') : null;
      const parsed = text === null ? null : parseTenantList(text);
      if (typeof parsed === 'string' || parsed === null) {
        warn('tenant_list_unavailable', { issuer: id, key: tenancy.kvKey, reason: parsed ?? (store ? 'no such key' : 'no GATEWAY_TENANTS binding') });
      } else {
        tenants = new Set([...tenancy.tenants, ...parsed]);
      }
    } catch (error) {
      warn('tenant_list_unavailable', { issuer: id, key: tenancy.kvKey, reason: error instanceof Error ? error.name : 'unknown' });
    }
    this.#kv.set(id, { tenants, readAt: nowMs, refreshing: false });
  }
}

/** The tenants of a KV document `{ "tenants": ["id", ...] }`, or what is wrong with it. */
export function parseTenantList(text: string): string[] | string {
  if (text.length > MAX_TENANT_LIST_BYTES) return `larger than ${MAX_TENANT_LIST_BYTES} bytes`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  const tenants = (value as { tenants?: unknown } | null)?.tenants;
  if (!Array.isArray(tenants) || !tenants.every((t) => typeof t === 'string' && t.length > 0)) return 'not { "tenants": [non-empty strings] }';
  return tenants as string[];
}
