/**
 * Checks across routes, at compile time: what no single route is wrong about, but two together are.
 *   - precedence: two routes that tie on host, path and method (or differ only by case, which the gateway
 *     folds for matching: src/route/resolve.ts) would make the answer depend on file order;
 *   - forwarded path spaces: a route whose origin path differs from the gateway path (strip_path_prefix, an
 *     origin base path), or one on another host than its neighbour at the same origin, can deliver paths that
 *     another route protects at that origin. `/static/*` stripped to `/` hands `/static/billing/admin/users`
 *     to the origin as `/billing/admin/users`. Refused unless the delivering route is at least as strict.
 */
import { foldCase } from '../request/canonical-path.ts';
import { atLeastAsStrict } from '../route/strictness.ts';
import type { CompiledRoute, OriginTarget } from './types.ts';

export type RouteReport = (route: CompiledRoute, message: string) => void;

/** A pattern with its variables unnamed: "/t/{tenant}" and "/t/{org}" match the same requests. */
const anyVariable = (route: CompiledRoute) => (route.path.variables ? route.path.value.replace(/\{[a-z0-9_]+\}/g, '{}') : route.path.value);

export function checkPrecedence(routes: readonly CompiledRoute[], report: RouteReport): void {
  const seen = new Map<string, CompiledRoute>();
  for (const route of routes) {
    for (const method of route.methods ?? ['*']) {
      const key = `${route.host ?? ''} ${route.path.kind} ${foldCase(anyVariable(route))} ${method}`;
      const other = seen.get(key);
      if (!other) {
        seen.set(key, route);
      } else if (anyVariable(other) === anyVariable(route)) {
        report(route, `matches exactly the same requests as route "${other.id}" (${other.file}); precedence would be ambiguous`);
      } else {
        report(route, `differs from route "${other.id}" (${other.file}) only by the case of its path; paths are matched case-insensitively as well (origins such as Express and ASP.NET fold case), so precedence would be ambiguous`);
      }
    }
  }
}

/** The origin paths a route can deliver: at which origin, and as a pattern there. */
interface Delivery {
  origin: string;
  kind: 'exact' | 'prefix';
  /** A prefix pattern's path without "/*" ("" for everything). */
  value: string;
  /** The origin receives the gateway's own path and Host: the gateway's precedence is the origin's. */
  identity: boolean;
  base: string;
  strip: string | null;
}

/** Every origin a route can forward to: its one origin, or each an origin_by_claim map can pick. */
const targetsOf = (route: CompiledRoute): OriginTarget[] => (route.forward.originByClaim ? Object.values(route.forward.originByClaim.targets) : [route.forward.origin]);

function deliveryOf(route: CompiledRoute, target: OriginTarget): Delivery {
  let origin: string;
  let base = '';
  let strip: string | null = null;
  if (target.kind === 'same-url') origin = 'same-url';
  else if (target.kind === 'service') {
    origin = `service ${target.binding}`;
    strip = target.stripPathPrefix;
  } else {
    const url = new URL(target.url);
    origin = url.origin;
    base = url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
    strip = target.stripPathPrefix;
  }
  const { kind, value } = literalPattern(route);
  let delivered: string;
  if (strip === null) delivered = base + value;
  else if (value === strip) delivered = kind === 'exact' ? `${base}/` : base;
  else if (value.startsWith(`${strip}/`)) delivered = base + value.slice(strip.length);
  // A strip prefix longer than the pattern strips some paths below it: count everything at the base as reachable.
  else delivered = kind === 'exact' ? base + value : base;
  return { origin, kind, value: delivered, identity: base === '' && strip === null, base, strip };
}

/** A pattern with variables, widened to the literal prefix before its first variable: every path it can deliver, and more. */
function literalPattern(route: CompiledRoute): { kind: 'exact' | 'prefix'; value: string } {
  const { kind, value, variables } = route.path;
  if (variables === undefined) return { kind, value };
  return { kind: 'prefix', value: value.split('/').slice(0, variables[0]!.segment).join('/') };
}

const within = (path: string, prefix: string) => prefix === '' || path === prefix || path.startsWith(`${prefix}/`);

/** Whether two delivered patterns share a path; if so, the more specific one (which owns the shared paths at the origin) first. */
function overlap(a: Delivery, b: Delivery): [Delivery, Delivery] | null {
  if (a.kind === 'exact' && b.kind === 'exact') return a.value === b.value ? [a, b] : null;
  if (a.kind === 'exact') return within(a.value, b.value) ? [a, b] : null;
  if (b.kind === 'exact') return within(b.value, a.value) ? [b, a] : null;
  if (within(a.value, b.value)) return [a, b];
  if (within(b.value, a.value)) return [b, a];
  return null;
}

/** A gateway path through `route` that reaches origin path `originPath`. */
function gatewayPathFor(delivery: Delivery, originPath: string): string {
  const rest = originPath.slice(delivery.base.length) || '/';
  return delivery.strip === null ? rest : `${delivery.strip}${rest === '/' ? '' : rest}`;
}

export function checkForwardedSpaces(routes: readonly CompiledRoute[], report: RouteReport): void {
  const deliveries = routes.flatMap((route) => targetsOf(route).map((target) => ({ route, delivery: deliveryOf(route, target) })));
  for (let i = 0; i < deliveries.length; i++) {
    for (let j = i + 1; j < deliveries.length; j++) {
      const a = deliveries[i]!;
      const b = deliveries[j]!;
      if (a.route === b.route || a.delivery.origin !== b.delivery.origin) continue;
      // Same host, origin paths equal to gateway paths: the gateway matches what the origin routes, most specific first.
      if (a.delivery.identity && b.delivery.identity && a.route.host === b.route.host) continue;
      const shared = overlap(a.delivery, b.delivery);
      if (shared === null) continue;
      const [owner, other] = shared[0] === a.delivery ? [a, b] : [b, a];
      const sameSpecificity = owner.delivery.kind === other.delivery.kind && owner.delivery.value === other.delivery.value;
      const weaker = !atLeastAsStrict(other.route, owner.route) ? [other, owner] : sameSpecificity && !atLeastAsStrict(owner.route, other.route) ? [owner, other] : null;
      if (weaker === null) continue;
      const [through, protectedBy] = weaker as [typeof a, typeof a];
      const originPath = protectedBy.delivery.kind === 'exact' ? protectedBy.delivery.value : `${protectedBy.delivery.value}/x`;
      report(
        through.route,
        `delivers paths that route "${protectedBy.route.id}" (${protectedBy.route.file}) protects at the same origin (${through.delivery.origin}): ` +
          `"${gatewayPathFor(through.delivery, originPath)}" through "${through.route.id}" reaches the origin as "${originPath}", and "${through.route.id}" is not at least as strict as "${protectedBy.route.id}". ` +
          'Give the routes different origins or base paths, or make this route as strict',
      );
    }
  }
}
