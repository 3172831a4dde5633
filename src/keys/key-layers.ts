/**
 * The shared layers below isolate memory: the Cache API (one per data centre) and KV (global). Reads are
 * awaited by the request that needs them; writes go through ctx.waitUntil so no request waits for them.
 * Either binding may be missing (the Cache API does nothing on *.workers.dev): the layer is then empty.
 */
import { KV_MIN_EXPIRATION_TTL_SECONDS, UNKNOWN_KID_REFRESH_COOLDOWN_SECONDS } from '../config/constants.ts';
import { parseStoredEntry, STORED_DOC_VERSION, type DocKind, type DocNames, type StoredDoc, type StoredEntry } from './stored-doc.ts';
import { warn } from '../log/warn.ts';

export type SharedLayer = 'cache' | 'kv';

export interface LayerBindings {
  kv: KVNamespace | undefined;
  cache: Cache | undefined;
  waitUntil: (promise: Promise<unknown>) => void;
}

export class KeyLayers {
  private readonly bindings: LayerBindings;

  constructor(bindings: LayerBindings) {
    this.bindings = bindings;
  }

  async read(layer: SharedLayer, kind: DocKind, names: DocNames, issuer: string): Promise<StoredEntry | null> {
    let text: string | null = null;
    try {
      if (layer === 'cache') {
        const hit = await this.bindings.cache?.match(names.cache);
        text = hit ? await hit.text() : null;
      } else {
        text = (await this.bindings.kv?.get(names.kv, 'text')) ?? null;
      }
    } catch (error) {
      warn('key_layer_read_failed', { layer, name: names.kv, error: error instanceof Error ? error.name : 'unknown' });
      return null;
    }
    if (text === null) return null;
    const entry = parseStoredEntry(text, kind, issuer);
    if (!entry) warn('key_layer_entry_refused', { layer, name: names.kv });
    return entry;
  }

  /**
   * Stores `doc` in the given layers in the background, kept until `keepUntil` (the end of its stale window).
   * `triedAt` goes to the Cache API's copy only: it is this data centre's last look at the issuer, not KV's.
   */
  write(layers: readonly SharedLayer[], names: DocNames, doc: StoredDoc, keepUntil: number, now: number, triedAt?: number): void {
    const body = JSON.stringify(doc);
    const ttl = Math.max(KV_MIN_EXPIRATION_TTL_SECONDS, keepUntil - now);
    for (const layer of layers) {
      if (layer === 'cache') this.#putCache(names, triedAt === undefined ? body : `${body.slice(0, -1)},"triedAt":${triedAt}}`, ttl);
      else this.#background(layer, names, this.bindings.kv?.put(names.kv, body, { expirationTtl: ttl }));
    }
  }

  /** A look that failed with no set to keep: the mark alone, so the other isolates here wait out the cooldown too. */
  markFailedLook(names: DocNames, issuer: string, now: number): void {
    this.#putCache(names, JSON.stringify({ v: STORED_DOC_VERSION, kind: 'jwks', issuer, triedAt: now }), UNKNOWN_KID_REFRESH_COOLDOWN_SECONDS);
  }

  #putCache(names: DocNames, body: string, ttl: number): void {
    this.#background('cache', names, this.bindings.cache?.put(names.cache, new Response(body, { headers: { 'content-type': 'application/json', 'cache-control': `max-age=${ttl}` } })));
  }

  #background(layer: SharedLayer, names: DocNames, work: Promise<unknown> | undefined): void {
    if (work) {
      this.bindings.waitUntil(
        work.catch((error: unknown) => warn('key_layer_write_failed', { layer, name: names.kv, error: error instanceof Error ? error.name : 'unknown' })),
      );
    }
  }
}
