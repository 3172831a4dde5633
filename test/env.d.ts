// What `cloudflare:workers` and `cloudflare:test` hold in these tests: the Worker of wrangler.toml.
declare namespace Cloudflare {
  interface Env {
    ALLOW_LOOPBACK_HTTP?: string;
  }
  interface Exports {
    default: Fetcher;
  }
}
