/**
 * A key store's resolver outside a request, for the operator tools (`npm run explain`), the bench and tests:
 * isolate memory and the issuer only, no KV; background write-backs are not awaited. Its own module, so that
 * the Worker, which resolves keys only within a request (KeyStore.forRequest), does not bundle it.
 */
import type { KeyResolver, KeyStore } from './key-store.ts';

const DETACHED_CONTEXT = { waitUntil: (promise: Promise<unknown>) => void promise.catch(() => undefined) } as ExecutionContext;

export const detachedKeys = (store: KeyStore): KeyResolver => ({
  resolve: (issuer, kid, alg, now) => store.forRequest({}, DETACHED_CONTEXT).resolve(issuer, kid, alg, now),
});
