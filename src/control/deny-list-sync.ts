/**
 * The deny list as one isolate knows it: a copy in memory, kept within DENY_LIST_BOUND_MS of the store
 * (the Durable Object of src/control/deny-list-store.ts). docs/control.md has the timeline.
 *
 * - Younger than DENY_LIST_POLL_MS: memory answers, nothing else happens.
 * - Between the poll interval and the bound: memory answers; one request asks the store for a newer
 *   version in ctx.waitUntil, never awaited by the request (the steady state of a busy isolate).
 * - Past the bound (an idle isolate, a cold one): the request asks the store itself and waits (at most
 *   DENY_LIST_PULL_TIMEOUT_MS), so no token is ever judged with a list older than the bound while the
 *   store answers. Concurrent requests poll memory while one asks: a request never awaits another's I/O.
 * - The store unreachable: a warn line (`deny_list_unreachable`), the last list keeps serving up to
 *   DENY_LIST_MAX_STALE_MS after it was last confirmed, then the view is no longer current and each issuer
 *   fails closed (503 keys_unavailable) unless DENY_LIST_FAIL_OPEN names it.
 *
 * Only values are shared between requests (the list, timestamps), never a pending promise.
 */
import {
  DENY_LIST_BOUND_MS,
  DENY_LIST_MAX_STALE_MS,
  DENY_LIST_POLL_MS,
  DENY_LIST_POLL_PEER_MS,
  DENY_LIST_PULL_TIMEOUT_MS,
  DENY_LIST_RETRY_MS,
} from '../config/constants.ts';
import type { Env } from '../env.ts';
import { warn } from '../log/warn.ts';
import { compileDenyList, EMPTY_DENY_LIST, NO_REVOCATIONS, type DenyList, type Revocations } from './deny-list.ts';
import { denyListStub, type DenyListSnapshot } from './deny-list-store.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Issuer ids from DENY_LIST_FAIL_OPEN ("a,b"): their tokens are served when the list cannot be had. */
export const failOpenIssuers = (value: string | undefined): ReadonlySet<string> =>
  new Set((value ?? '').split(',').map((id) => id.trim()).filter((id) => id !== ''));

export class DenyListSync {
  #list: DenyList = EMPTY_DENY_LIST;
  /** When the store last answered (ms); -Infinity: never. */
  #confirmedAt = -Infinity;
  /** When an ask started (ms) while it runs; null when none runs. A mark older than the timeout is left over from a cancelled request. */
  #askingSince: number | null = null;
  #failedAt = -Infinity;
  /** Per issuer, the time of its last distrust this isolate has acted on; null until the first answer. */
  #refetchSeen: Record<string, number> | null = null;
  readonly #failOpen: ReadonlySet<string>;
  /** Called when the store says an issuer's keys were distrusted since this isolate last looked. */
  readonly #onDistrust: (issuerId: string) => void;

  constructor(failOpen: ReadonlySet<string>, onDistrust: (issuerId: string) => void) {
    this.#failOpen = failOpen;
    this.#onDistrust = onDistrust;
  }

  /** This request's view: synchronous in the steady state; a promise only past the bound. */
  view(env: Env, ctx: ExecutionContext, nowMs: number): Revocations | Promise<Revocations> {
    if (!env.DENY_LIST) return NO_REVOCATIONS;
    const age = nowMs - this.#confirmedAt;
    if (age < DENY_LIST_POLL_MS) return this.#current(nowMs);
    const asking = this.#askingSince !== null && nowMs - this.#askingSince < DENY_LIST_PULL_TIMEOUT_MS;
    const mayAsk = !asking && nowMs - this.#failedAt >= DENY_LIST_RETRY_MS;
    if (age < DENY_LIST_BOUND_MS) {
      if (mayAsk) ctx.waitUntil(this.#ask(env, nowMs));
      return this.#current(nowMs);
    }
    if (mayAsk) return this.#ask(env, nowMs).then(() => this.#current(nowMs));
    return asking ? this.#waitForPeer(nowMs) : this.#current(nowMs);
  }

  #current(nowMs: number): Revocations {
    return { list: this.#list, current: nowMs - this.#confirmedAt <= DENY_LIST_MAX_STALE_MS, failOpen: this.#failOpen };
  }

  async #waitForPeer(nowMs: number): Promise<Revocations> {
    for (let waited = 0; this.#askingSince !== null && waited < DENY_LIST_PULL_TIMEOUT_MS; waited += DENY_LIST_POLL_PEER_MS) await sleep(DENY_LIST_POLL_PEER_MS);
    return this.#current(nowMs);
  }

  /** Asks the store for a version newer than this isolate's; never throws. */
  async #ask(env: Env, nowMs: number): Promise<void> {
    this.#askingSince = nowMs;
    try {
      const snapshot = await withTimeout(denyListStub(env.DENY_LIST!).snapshotIfNewer(this.#list.version), DENY_LIST_PULL_TIMEOUT_MS);
      if (snapshot !== null) this.#apply(snapshot);
      this.#confirmedAt = nowMs;
    } catch (error) {
      this.#failedAt = nowMs;
      warn('deny_list_unreachable', {
        reason: error instanceof Error ? error.message.slice(0, 200) : 'unknown',
        list_version: this.#list.version,
        confirmed_ms_ago: Number.isFinite(this.#confirmedAt) ? nowMs - this.#confirmedAt : null,
        serving: nowMs - this.#confirmedAt <= DENY_LIST_MAX_STALE_MS ? 'last list' : 'fail closed, except DENY_LIST_FAIL_OPEN issuers',
      });
    } finally {
      this.#askingSince = null;
    }
  }

  #apply(snapshot: DenyListSnapshot): void {
    this.#list = compileDenyList(snapshot.entries, snapshot.version);
    // A cold isolate holds no keys worth dropping: it only learns the marks. A warm one drops the sets of issuers distrusted since.
    if (this.#refetchSeen !== null) {
      for (const [issuerId, at] of Object.entries(snapshot.refetch)) if (this.#refetchSeen[issuerId] !== at) this.#onDistrust(issuerId);
    }
    this.#refetchSeen = { ...snapshot.refetch };
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
