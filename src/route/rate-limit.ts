/**
 * Rate limits by verified identity (a route's `rate_limit`): the budget is keyed by claims of a token whose
 * signature and claims were all verified, through the Workers Rate Limiting binding the policy names. So an
 * unauthenticated or refused request never spends anyone's budget, and a client cannot spend another's by
 * claiming its identity. The binding's own limit and period (wrangler.toml) decide how many; the gateway
 * decides whose. The one await is the binding's, and only on routes that set a limit.
 */
import type { CompiledRateLimit } from '../config/types.ts';
import { warn } from '../log/warn.ts';
import { readClaim, type Claims } from '../verify/claim-rules.ts';

/** The Workers Rate Limiting binding, as far as the gateway uses it. */
export interface RateLimiter {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

export type RateLimitVerdict = 'within' | 'over' | 'no_binding';

/** The budget key: the route and the values of the key claims (JSON, so "a:b" + "c" never equals "a" + "b:c"). */
export function rateLimitKey(routeId: string, rateLimit: CompiledRateLimit, claims: Claims): string {
  return JSON.stringify([routeId, ...rateLimit.key.map((path) => readClaim(claims, path) ?? null)]);
}

/**
 * Whether this identity is within its budget. A binding that throws lets the request through (the limiter
 * is a brake, not a security check: the token was verified) and says so in a warning; a binding that is
 * not configured at all is reported to the caller, which fails closed.
 */
export async function checkRateLimit(routeId: string, rateLimit: CompiledRateLimit, claims: Claims, env: object): Promise<RateLimitVerdict> {
  const binding = (env as Record<string, unknown>)[rateLimit.binding] as RateLimiter | undefined;
  if (typeof binding?.limit !== 'function') return 'no_binding';
  try {
    const { success } = await binding.limit({ key: rateLimitKey(routeId, rateLimit, claims) });
    return success ? 'within' : 'over';
  } catch (error) {
    warn('rate_limit_unavailable', { route: routeId, binding: rateLimit.binding, reason: error instanceof Error ? error.name : 'unknown' });
    return 'within';
  }
}
