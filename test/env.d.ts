// What `cloudflare:workers` and `cloudflare:test` hold in these tests: the Worker of wrangler.toml.
declare namespace Cloudflare {
  interface Env extends import('../src/env.ts').Env {}
  interface Exports {
    default: Fetcher;
  }
}
