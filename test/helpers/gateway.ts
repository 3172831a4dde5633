/** A gateway built from policy text, through the same compiler and Gateway class the Worker uses. */
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { compilePolicies } from '../../src/config/compile.ts';
import type { CompiledConfig } from '../../src/config/types.ts';
import { Gateway } from '../../src/gateway.ts';

export function compileOrThrow(text: string, file = 'test.jsonc'): CompiledConfig {
  const result = compilePolicies([{ file, text }]);
  if (!result.ok) throw new Error(`test policy does not compile:\n${result.errors.map((e) => `${e.path}: ${e.message}`).join('\n')}`);
  return result.config;
}

export function gatewayFor(policy: object, options = { allowLoopbackHttp: false }): Gateway {
  return new Gateway(compileOrThrow(JSON.stringify(policy)), options);
}

/** A gateway built from one policy file's text, as `npm run check` would compile it. */
export function gatewayForText(text: string, file: string, options = { allowLoopbackHttp: false }): Gateway {
  return new Gateway(compileOrThrow(text, file), options);
}

/**
 * One request through a gateway, with workerd's own env and an execution context whose waitUntil work is
 * awaited. `bindings` adds to or hides (undefined) env members, e.g. a Worker secret.
 */
export async function send(gateway: Gateway, request: Request, bindings: Record<string, unknown> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await gateway.handle(request, { ...env, ...bindings } as typeof env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
