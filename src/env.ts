/** The Worker's bindings (wrangler.toml [vars], KV namespaces, secrets). */
export interface Env {
  /** "true" only in local development (npm start): lets issuers on 127.0.0.1 serve keys over plain http. */
  ALLOW_LOOPBACK_HTTP?: string;
  /** Key cache shared by every data centre. */
  JWKS_CACHE?: KVNamespace;
  /** Accepted tenants of multi-tenant issuers with `tenants.kv` (src/verify/tenant-directory.ts); optional otherwise. */
  GATEWAY_TENANTS?: KVNamespace;
  /** Secret: the private JWK that signs the assertion (settings.assertion, mode "signed"). */
  GATEWAY_SIGNING_KEY?: string;
  /** Secret: the next private JWK, published at the gateway JWKS path before it signs (rotation). */
  GATEWAY_NEXT_SIGNING_KEY?: string;
  /** Secret: the shared HS256 secret (settings.assertion, mode "hmac"). */
  GATEWAY_ASSERTION_SECRET?: string;
  /** "line": one readable log line per decision instead of a JSON object; scripts/dev.ts sets it for npm start. */
  LOG_FORMAT?: string;
  /** "true" only in local development: finding codes in an x-debug-findings header of denied answers (loopback hosts only). */
  DEBUG_FINDINGS?: string;
  /** Workers Rate Limiting binding named by routes' rate_limit (src/route/rate-limit.ts); a route may name another. */
  GATEWAY_RATE_LIMIT?: RateLimit;
  /** Optional Workers Analytics Engine dataset: one data point per request (docs/logging.md). */
  GATEWAY_ANALYTICS?: AnalyticsEngineDataset;
  /** The deny list's Durable Object (docs/control.md); without it nothing is revoked and no store is asked. */
  DENY_LIST?: DurableObjectNamespace; // of DenyListStore (src/control/deny-list-store.ts)
  /** Issuer ids ("a,b") whose tokens are served when the deny list cannot be had past its bound; every other issuer fails closed. */
  DENY_LIST_FAIL_OPEN?: string;
  /** Secret: the bearer credential of the admin endpoint (docs/control.md). Unset: there is no admin endpoint. */
  GATEWAY_ADMIN_TOKEN?: string;
  /** Where the admin endpoint answers (default /.gateway/control); only when GATEWAY_ADMIN_TOKEN is set. */
  GATEWAY_ADMIN_PATH?: string;
}
