/** The Worker's bindings (wrangler.toml [vars], KV namespaces, secrets). */
export interface Env {
  /** "true" only in local development (npm start): lets issuers on 127.0.0.1 serve keys over plain http. */
  ALLOW_LOOPBACK_HTTP?: string;
  /** Key cache shared by every data centre. */
  JWKS_CACHE?: KVNamespace;
}
