/** The Worker's entry point: builds the gateway from the policies compiled at build time, once per isolate. */
import compiledPolicies from '../.generated/policies.json' with { type: 'json' };
import { loadCompiledConfig } from './config/load.ts';
import type { Env } from './env.ts';
import { Gateway } from './gateway.ts';
import { logFormatFrom } from './log/write.ts';

let gateway: Gateway | undefined;

export default {
  async fetch(request, env, ctx): Promise<Response> {
    // Built lazily: workerd allows no crypto or I/O at global scope, and env is known only here.
    gateway ??= new Gateway(loadCompiledConfig(compiledPolicies), {
      allowLoopbackHttp: env.ALLOW_LOOPBACK_HTTP === 'true',
      logFormat: logFormatFrom(env.LOG_FORMAT),
      debugFindings: env.DEBUG_FINDINGS === 'true',
    });
    return gateway.handle(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
