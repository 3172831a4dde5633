/**
 * The one writer of the deny list: a Durable Object (one instance, named "global", for the whole
 * deployment), bound as DENY_LIST (wrangler.toml). Every isolate reads a version number and, when it
 * changed, the whole list (src/control/deny-list-sync.ts); only the admin endpoint writes
 * (src/control/admin.ts). Each change bumps the version and is kept as a record with who, what and when.
 * The caller passes `now` (seconds), so tests move the clock; expired entries are dropped on each write.
 *
 * A fetch-style object (one POST per method, JSON in and out) rather than an RPC class: it needs no import
 * of `cloudflare:workers` (DurableObject) of its own.
 */
import { CONTROL_LOG_MAX_RECORDS, DENY_LIST_MAX_ENTRIES } from '../config/constants.ts';
import type { DenyEntry } from './deny-list.ts';

/** What an isolate receives: the live entries, and per issuer the version at which its keys were last distrusted. */
export interface DenyListSnapshot {
  version: number;
  entries: DenyEntry[];
  refetch: Record<string, number>;
}

/** One change, as the store keeps it and the Worker logs it (event `control_change`). */
export interface ControlRecord {
  at: number;
  by: string;
  action: 'revoke' | 'distrust' | 'lift';
  /** The entry added, or for "lift" the id lifted. */
  entry: DenyEntry | { id: string };
  version: number;
  /** The admin request's client address, when the platform says it. */
  from: string | null;
}

export type StoreAnswer<T> = { ok: true; value: T } | { ok: false; reason: string };

interface State extends DenyListSnapshot {
  log: ControlRecord[];
}

export type NewEntry = Omit<DenyEntry, 'id' | 'createdAt'>;

export class DenyListStore {
  #state: State | undefined;
  readonly #storage: DurableObjectStorage;

  constructor(ctx: DurableObjectState) {
    this.#storage = ctx.storage;
  }

  /** POST /<method> with the arguments as a JSON array; answers the result as JSON. Only the Worker can reach it. */
  async fetch(request: Request): Promise<Response> {
    const method = new URL(request.url).pathname.slice(1) as keyof DenyListRpc;
    const args = (await request.json()) as unknown[];
    if (!STORE_METHODS.includes(method) || !Array.isArray(args)) return new Response('unknown method', { status: 404 });
    const call = this[method] as (...a: unknown[]) => Promise<unknown>;
    return Response.json(await call.apply(this, args));
  }

  async #load(): Promise<State> {
    this.#state ??= (await this.#storage.get<State>('state')) ?? { version: 0, entries: [], refetch: {}, log: [] };
    return this.#state;
  }

  async #commit(state: State, record: Omit<ControlRecord, 'version'>): Promise<ControlRecord> {
    state.version += 1;
    const full = { ...record, version: state.version };
    state.log.push(full);
    if (state.log.length > CONTROL_LOG_MAX_RECORDS) state.log.splice(0, state.log.length - CONTROL_LOG_MAX_RECORDS);
    await this.#storage.put('state', state);
    return full;
  }

  /** null when the caller already holds this version: the steady state costs a number, not the list. */
  async snapshotIfNewer(version: number): Promise<DenyListSnapshot | null> {
    const state = await this.#load();
    if (state.version === version) return null;
    return { version: state.version, entries: state.entries, refetch: state.refetch };
  }

  async listing(): Promise<{ version: number; entries: DenyEntry[]; refetch: Record<string, number>; log: ControlRecord[] }> {
    return this.#load();
  }

  /** Adds an entry; `refetchIssuer` also tells every isolate to drop that issuer's cached keys (distrust). */
  async add(entry: NewEntry, now: number, from: string | null, refetchIssuer: string | null): Promise<StoreAnswer<ControlRecord>> {
    const state = await this.#load();
    state.entries = state.entries.filter((e) => now < e.expiresAt);
    if (state.entries.length >= DENY_LIST_MAX_ENTRIES) return { ok: false, reason: `the deny list holds ${DENY_LIST_MAX_ENTRIES} live entries already` };
    const full: DenyEntry = { id: `${entry.kind}-${state.version + 1}`, ...entry, createdAt: now };
    state.entries.push(full);
    if (refetchIssuer !== null) state.refetch[refetchIssuer] = state.version + 1;
    return { ok: true, value: await this.#commit(state, { at: now, by: entry.by, action: refetchIssuer === null ? 'revoke' : 'distrust', entry: full, from }) };
  }

  async lift(id: string, by: string, now: number, from: string | null): Promise<StoreAnswer<ControlRecord>> {
    const state = await this.#load();
    if (!state.entries.some((e) => e.id === id)) return { ok: false, reason: `no entry ${id}` };
    state.entries = state.entries.filter((e) => e.id !== id && now < e.expiresAt);
    return { ok: true, value: await this.#commit(state, { at: now, by, action: 'lift', entry: { id }, from }) };
  }
}

/** What the Worker calls on the store, every method returning a promise. */
export type DenyListRpc = Pick<DenyListStore, 'snapshotIfNewer' | 'listing' | 'add' | 'lift'>;
/** Every method of DenyListRpc, each once: a method added there and not here fails to compile. */
const STORE_METHODS = Object.keys({ snapshotIfNewer: true, listing: true, add: true, lift: true } satisfies Record<keyof DenyListRpc, true>) as (keyof DenyListRpc)[];

/** The one instance for the whole deployment, called like an object; a failed call throws. */
export function denyListStub(namespace: DurableObjectNamespace): DenyListRpc {
  const stub = namespace.get(namespace.idFromName('global'));
  const call = async (method: keyof DenyListRpc, args: unknown[]) => {
    // The host is never resolved: a Durable Object's fetch goes to the object whatever the URL says.
    const response = await stub.fetch(`https://deny-list.invalid/${method}`, { method: 'POST', body: JSON.stringify(args) });
    if (!response.ok) throw new Error(`deny list store answered ${response.status}`);
    return response.json();
  };
  // One forwarding function per method of STORE_METHODS, the list the store's fetch() accepts.
  return Object.fromEntries(STORE_METHODS.map((method) => [method, (...args: unknown[]) => call(method, args)])) as unknown as DenyListRpc;
}
