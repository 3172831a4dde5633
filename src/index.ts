/** The Worker's entry point: warms the request path at load, builds the gateway from the policies compiled at build time, once per isolate. */
import { env as loadEnv } from 'cloudflare:workers';
import compiledPolicies from '../.generated/policies.json' with { type: 'json' };
import { loadCompiledConfig } from './config/load.ts';
import { failOpenIssuers } from './control/deny-list-sync.ts';
import type { Env } from './env.ts';
import { Gateway } from './gateway.ts';
import { warn } from './log/warn.ts';
import { logFormatFrom } from './log/write.ts';
import { readyAtLoad, settleHeap, warmRequestPath } from './warm.ts';

// The deny list's one writer (docs/control.md): a Durable Object class must be exported by the Worker that declares it.
export { DenyListStore } from './control/deny-list-store.ts';

let gateway: Gateway | undefined;

const gatewaySetup = (env: Env) => ({
  config: loadCompiledConfig(compiledPolicies),
  options: {
    allowLoopbackHttp: env.ALLOW_LOOPBACK_HTTP === 'true',
    logFormat: logFormatFrom(env.LOG_FORMAT),
    debugFindings: env.DEBUG_FINDINGS === 'true',
    denyListFailOpen: failOpenIssuers(env.DENY_LIST_FAIL_OPEN),
  },
});

// At load, before any request: the request path run once on synthetic inputs (src/warm.ts), then this
// isolate's Gateway built and its assertion keys imported from the bindings the global scope sees too
// (readyAtLoad), then the young generation emptied (settleHeap). It settles during the load. Were it ever
// still running at the first invocation (only a hang would be), it is abandoned there: said once as failed,
// and what is left of it neither reports, nor replaces that invocation's Gateway, nor settles the heap
// inside a request (the warm-up's own stand-ins never reach a request: src/warm.ts).
let warmFailure: string | null = null;
let loading = true;
void warmRequestPath().then(async (failure) => {
  if (!loading) return;
  warmFailure = failure;
  const ready = await readyAtLoad(() => gatewaySetup(loadEnv), loadEnv);
  if (!loading) return;
  loading = false;
  gateway = ready ?? undefined;
  settleHeap();
});

// Built at load (above), else by the first invocation.
function gatewayFor(env: Env): Gateway {
  if (loading) {
    // Still running (no Gateway yet): abandoned, in the same one line as the warm path's failure if it had one.
    loading = false;
    const abandoned = 'still running at the first request: abandoned';
    warmFailure = warmFailure === null ? abandoned : `${warmFailure}; then ${abandoned}`;
  }
  if (warmFailure !== null) {
    // A bug of ours, said once per isolate, on the first invocation after it is known, where Workers Logs
    // sees it; the invocation is served all the same. Not at load: a line logged there belongs to no invocation.
    warn('warm_up_failed', { reason: warmFailure });
    warmFailure = null;
  }
  if (gateway) return gateway;
  const { config, options } = gatewaySetup(env);
  gateway = new Gateway(config, options);
  return gateway;
}

export default {
  async fetch(request, env, ctx): Promise<Response> {
    return gatewayFor(env).handle(request, env, ctx);
  },

  /** The cron of wrangler.toml: refreshes every issuer's keys into KV and the Cache API, so requests rarely fetch. */
  async scheduled(_controller, env, ctx): Promise<void> {
    const reports = await gatewayFor(env).refreshKeys(env, ctx);
    console.log(JSON.stringify({ event: 'keys_scheduled_refresh', issuers: reports }));
  },
} satisfies ExportedHandler<Env>;
