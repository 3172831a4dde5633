/**
 * The shared layers below isolate memory: the Cache API (one per data centre) and KV (global). Reads are
 * awaited by the request that needs them; writes go through ctx.waitUntil so no request waits for them.
 * Either binding may be missing (the Cache API does nothing on *.workers.dev): the layer is then empty.
 */
import { KV_MIN_EXPIRATION_TTL_SECONDS } from '../config/constants.ts';
import { parseStoredDoc, type DocKind, type DocNames, type StoredDoc } from './stored-doc.ts';
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

  async read(layer: SharedLayer, kind: DocKind, names: DocNames, issuer: string): Promise<StoredDoc | null> {
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
    const doc = parseStoredDoc(text, kind, issuer);
    if (!doc) warn('key_layer_entry_refused', { layer, name: names.kv });
    return doc;
  }

  /** Stores `doc` in the given layers in the background, kept until `keepUntil` (the end of its stale window). */
  write(layers: readonly SharedLayer[], names: DocNames, doc: StoredDoc, keepUntil: number, now: number): void {
    const body = JSON.stringify(doc);
    const ttl = Math.max(KV_MIN_EXPIRATION_TTL_SECONDS, keepUntil - now);
    for (const layer of layers) {
      const work =
        layer === 'cache'
          ? this.bindings.cache?.put(names.cache, new Response(body, { headers: { 'content-type': 'application/json', 'cache-control': `max-age=${ttl}` } }))
          : this.bindings.kv?.put(names.kv, body, { expirationTtl: ttl });
      if (work) {
        this.bindings.waitUntil(
          work.catch((error: unknown) => warn('key_layer_write_failed', { layer, name: names.kv, error: error instanceof Error ? error.name : 'unknown' })),
        );
      }
    }
  }

  /** When this data centre last tried the issuer (any isolate): a failed refresh starts the cooldown everywhere here. */
  async lastAttempt(names: DocNames): Promise<number | null> {
    try {
      const hit = await this.bindings.cache?.match(attemptUrl(names));
      const at = hit ? Number(await hit.text()) : NaN;
      return Number.isSafeInteger(at) ? at : null;
    } catch {
      return null;
    }
  }

  markAttempt(names: DocNames, now: number, cooldownSeconds: number): void {
    const work = this.bindings.cache?.put(attemptUrl(names), new Response(String(now), { headers: { 'cache-control': `max-age=${Math.max(cooldownSeconds, 1)}` } }));
    if (work) this.bindings.waitUntil(work.catch(() => undefined));
  }
}

const attemptUrl = (names: DocNames) => `${names.cache}/attempt`;
