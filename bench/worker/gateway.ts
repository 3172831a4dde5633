/**
 * The gateway as the benchmark runs it: src/index.ts's Gateway, with the compiled bench policy from a
 * binding instead of .generated/, and LOG_FORMAT read as src/index.ts reads it ("line": the record as one
 * JSON.stringify, the serialization the deployed runtime gives a logged object), plus endpoints under
 * /__bench/ that the load never touches:
 *   /__bench/stats   requests served and key imports so far (crypto.subtle.importKey calls, counted here),
 *                    and whether the warm-up at load failed (null when it ran through)
 *   /__bench/micro   the in-runtime micro-benchmark (micro.ts)
 *   /__bench/request whole-request CPU in one isolate, gateway against a plain fetch (request-cost.ts)
 *   /__bench/gc      a full garbage collection, when workerd runs with --expose-gc (bench/memory.ts)
 */
import { loadCompiledConfig } from '../../src/config/load.ts';
import type { Env } from '../../src/env.ts';
import { Gateway } from '../../src/gateway.ts';
import { logFormatFrom } from '../../src/log/write.ts';
import { env as loadEnv } from 'cloudflare:workers';
import { readyAtLoad, settleHeap, warmRequestPath } from '../../src/warm.ts';
import { runMicro, type MicroFixtures } from './micro.ts';
import { runRequestCost, type RequestCostFixture } from './request-cost.ts';

interface BenchEnv extends Env {
  CONFIG: unknown;
  MICRO: MicroFixtures;
  REQUEST_COST: RequestCostFixture;
}

let gateway: Gateway | undefined;
const gatewaySetup = (env: BenchEnv) => ({ config: loadCompiledConfig(env.CONFIG), options: { allowLoopbackHttp: true, logFormat: logFormatFrom(env.LOG_FORMAT) } });

// As src/index.ts does: the request path run once at load (src/warm.ts), then the Gateway built and its
// assertion keys imported (readyAtLoad), the young generation emptied (settleHeap). "still running" stays
// for a warm-up that had not settled by the first request, which abandons it.
let warmFailure: string | null = 'still running';
let invoked = false;
void warmRequestPath().then(async (failure) => {
  if (invoked) return;
  warmFailure = failure;
  const bindings = loadEnv as unknown as BenchEnv;
  const ready = await readyAtLoad(() => gatewaySetup(bindings), bindings);
  gateway ??= ready ?? undefined;
  settleHeap();
});

let requests = 0;
let keyImports = 0;

/** Every key import, by anyone (jose's importJWK included), goes through WebCrypto's importKey. */
function countKeyImports(): void {
  const subtle = crypto.subtle;
  const importKey = subtle.importKey;
  subtle.importKey = function (this: SubtleCrypto, ...args: Parameters<SubtleCrypto['importKey']>) {
    keyImports++;
    return importKey.apply(this, args);
  } as SubtleCrypto['importKey'];
}

export default {
  async fetch(request, env, ctx): Promise<Response> {
    if (!invoked) {
      invoked = true;
      // Patched here, not at global scope: workerd refuses to start a script that touches crypto there.
      countKeyImports();
    }
    if (!gateway) {
      const { config, options } = gatewaySetup(env);
      gateway = new Gateway(config, options);
    }
    // A plain substring test: the load's requests should pay nothing for these endpoints.
    if (request.url.includes('/__bench/')) {
      const url = new URL(request.url);
      if (url.pathname === '/__bench/stats') return Response.json({ requests, key_imports: keyImports, warm_failure: warmFailure });
      if (url.pathname === '/__bench/micro') return Response.json(await runMicro(env.MICRO, url.searchParams));
      if (url.pathname === '/__bench/request') return Response.json(await runRequestCost(env.CONFIG, env.REQUEST_COST, url.searchParams, env, ctx));
      if (url.pathname === '/__bench/gc') {
        const gc = (globalThis as { gc?: () => void }).gc;
        gc?.();
        return Response.json({ collected: gc !== undefined });
      }
    }
    requests++;
    return gateway.handle(request, env, ctx);
  },
} satisfies ExportedHandler<BenchEnv>;
