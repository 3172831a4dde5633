/**
 * The outside world as the Worker sees it through fetch(): issuers that serve key sets and count their
 * requests, an echo origin that records what reached it, and an unreachable network for anything else.
 * Only fetch is replaced; KV, the Cache API and the runtime are workerd's own.
 */
import { afterAll, afterEach, beforeAll, vi } from 'vitest';
import { RecordCapture } from './records.ts';

export interface OriginRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The body's bytes as received (body is their UTF-8 reading). */
  bytes: Uint8Array;
}

type Responder = (request: Request) => Response | Promise<Response>;

export class OutsideWorld {
  readonly originRequests: OriginRequest[] = [];
  /** Every URL fetch() was called with, in order, answered or not (kept here: vitest clears mock calls between tests). */
  readonly fetched: string[] = [];
  /** Fetches nothing here answers (a host no test serves): counted by fetchCount() too. */
  #unrouted = 0;
  readonly #issuers = new Map<string, Responder>();
  readonly #fetchCounts = new Map<string, number>();
  readonly #originHosts = new Set<string>();
  readonly #originHandlers = new Map<string, Responder>();
  #spy: ReturnType<typeof vi.spyOn> | undefined;

  /** Serves `body` as JSON at `url`, with the given cache lifetime, until replaced. */
  serveJwks(url: string, body: unknown, maxAgeSeconds = 300): this {
    return this.serve(url, () => Response.json(body, { headers: { 'cache-control': `public, max-age=${maxAgeSeconds}` } }));
  }

  /** An issuer that accepts the connection and never answers: the caller's timeout has to end the request. */
  hang(url: string): this {
    return this.serve(
      url,
      (request) =>
        new Promise<Response>((_resolve, reject) => {
          request.signal.addEventListener('abort', () => reject(request.signal.reason as Error));
        }),
    );
  }

  /**
   * An issuer whose answer the test gives: each fetch of `url` waits until `answer` is called, then gets a copy
   * of that response. Serving the URL otherwise (serve, serveJwks) answers the later fetches at once.
   */
  hold(url: string): { answer: (response: Response) => void } {
    let answer!: (response: Response) => void;
    const given = new Promise<Response>((resolve) => (answer = resolve));
    this.serve(url, async () => (await given).clone());
    return { answer };
  }

  /** An issuer host that is down: fetch fails as it does when nothing answers. */
  down(url: string): this {
    return this.serve(url, () => {
      throw new TypeError('Network connection lost');
    });
  }

  serve(url: string, responder: Responder): this {
    this.#issuers.set(url, responder);
    return this;
  }

  /** An origin host answered by `responder` (a slow, streaming or upgrading origin); not recorded. */
  originHandler(host: string, responder: Responder): this {
    this.#originHandlers.set(host, responder);
    return this;
  }

  /** An origin host whose requests are recorded and answered with an echo, like the demo's echo origin. */
  origin(host: string): this {
    this.#originHosts.add(host);
    return this;
  }

  /** Fetches of `url`; without it, every fetch that did not go to an origin (issuers and unserved hosts alike). */
  fetchCount(url?: string): number {
    if (url !== undefined) return this.#fetchCounts.get(url) ?? 0;
    return [...this.#fetchCounts.values()].reduce((a, b) => a + b, this.#unrouted);
  }

  install(): this {
    this.#spy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      this.fetched.push(url.href);
      const issuer = this.#issuers.get(url.href);
      if (issuer) {
        this.#fetchCounts.set(url.href, (this.#fetchCounts.get(url.href) ?? 0) + 1);
        return issuer(request);
      }
      const handler = this.#originHandlers.get(url.host);
      if (handler) return handler(request);
      if (this.#originHosts.has(url.host)) {
        const bytes = new Uint8Array(await request.arrayBuffer());
        const recorded: OriginRequest = {
          method: request.method,
          url: request.url,
          headers: Object.fromEntries(request.headers),
          body: new TextDecoder().decode(bytes),
          bytes,
        };
        this.originRequests.push(recorded);
        return Response.json({ method: recorded.method, path: url.pathname, query: url.search, headers: recorded.headers });
      }
      // What fetch does when nothing answers at that address.
      this.#unrouted++;
      throw new TypeError(`Network connection lost (no test server at ${url.host})`);
    });
    return this;
  }

  restore(): void {
    this.#spy?.mockRestore();
  }

  lastOriginRequest(): OriginRequest {
    const last = this.originRequests.at(-1);
    if (!last) throw new Error('no request reached the origin');
    return last;
  }
}

export interface WorldHooks {
  world: OutsideWorld;
  logs: RecordCapture;
}

/**
 * The usual file-level setup: the world `build` returns, installed before the file's tests (after the
 * beforeAll hooks registered before this call, so it may use their keys), a record capture beside it,
 * the origin's requests cleared after each test, and both restored after the file.
 */
export function useOutsideWorld(build: () => OutsideWorld | Promise<OutsideWorld>): WorldHooks {
  const hooks = {} as WorldHooks;
  beforeAll(async () => {
    hooks.world = (await build()).install();
    hooks.logs = new RecordCapture();
  });
  afterEach(() => {
    hooks.world.originRequests.length = 0;
  });
  afterAll(() => {
    hooks.world?.restore();
    hooks.logs?.restore();
  });
  return hooks;
}
