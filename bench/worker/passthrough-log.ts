/**
 * The pass-through plus one log line per request: a record of the gateway's shape (27 fields, as
 * src/log/record.ts writes it), logged the way the gateway logs it (console.log of an object, after the
 * answer, in ctx.waitUntil). Against the plain pass-through it shows what one structured log line per
 * request costs in this runtime, apart from everything else the gateway does (scenario "log-line"). Its
 * time field is the epoch number rather than an ISO string: a Date formatted per request costs on its own.
 */
interface PassthroughEnv {
  ORIGIN: string;
}

export default {
  async fetch(request, env, ctx): Promise<Response> {
    const url = new URL(request.url);
    const started = Date.now();
    const response = await fetch(env.ORIGIN + url.pathname + url.search, request);
    const record = {
      v: 1, time: String(started), request_id: request.headers.get('cf-ray') ?? crypto.randomUUID(), route: 'rsa', policy: 'bench',
      method: request.method, host: url.hostname, path: url.pathname, mode: 'enforce', outcome: 'allowed', status: response.status,
      findings: [], finding: null, codes: '', iss: 'https://rsa.bench.example', aud: 'https://bench-api.example', app: 'bench', sub: 'bench-user',
      kid: 'bench-rsa', alg: 'RS256', key_layer: 'memory', token_fp: '0123456789abcdef', token_cache: 'hit', latency_ms: Date.now() - started,
      origin_status: response.status, colo: null, error: null,
    };
    ctx.waitUntil(Promise.resolve().then(() => console.log(record)));
    return response;
  },
} satisfies ExportedHandler<PassthroughEnv>;
