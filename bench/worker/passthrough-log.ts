/**
 * The pass-through plus one log line per request: a verification record built and written by the gateway's
 * own code (src/log/record.ts, src/log/write.ts), filled as a cache hit fills it, and logged the way the
 * gateway logs it (once the origin answered, before the answer leaves: no waitUntil task). Against the plain pass-through it shows what one
 * structured log line per request costs in this runtime, apart from everything else the gateway does
 * (the peer "log-line" in `npm run bench`: the floor of any Worker that logs one record per request).
 * LOG_FORMAT as the gateway reads it: "line" writes the record as one JSON.stringify (peer
 * "log-line-record-as-deployed"), the serialization Cloudflare's runtime gives a logged object.
 */
import { newRecord } from '../../src/log/record.ts';
import { logFormatFrom, writeRecord } from '../../src/log/write.ts';
import { fillAsHit } from './hit-record.ts';

interface PassthroughEnv {
  ORIGIN: string;
  LOG_FORMAT?: string;
}

export default {
  async fetch(request, env): Promise<Response> {
    const url = new URL(request.url);
    const started = Date.now();
    const response = await fetch(env.ORIGIN + url.pathname + url.search, request);
    const record = fillAsHit(newRecord(request, url, request.headers.get('cf-ray') ?? crypto.randomUUID(), started), response.status, Date.now() - started);
    writeRecord(record, { format: logFormatFrom(env.LOG_FORMAT), subject: 'plain', analytics: undefined }, true);
    return response;
  },
} satisfies ExportedHandler<PassthroughEnv>;
