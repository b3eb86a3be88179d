/** CIDR allow-lists per route group (`/metrics`, optionally `/admin`), on `CF-Connecting-IP` only. */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import type { Cidr } from './cidr';
import { ipInCidrs } from './cidr';
import { GatewayError } from './errors';
import { audit } from '../audit/audit';

/** An empty list means "no IP restriction" (the route's own authentication still applies). */
export function clientAllowed(c: Context<AppEnv>, cidrs: readonly Cidr[]): boolean {
  return cidrs.length === 0 || ipInCidrs(c.get('clientIp'), cidrs);
}

export function ipAllowList(select: (c: Context<AppEnv>) => readonly Cidr[]): MiddlewareHandler<AppEnv> {
  return async function ipAllowListMiddleware(c, next) {
    if (!clientAllowed(c, select(c))) {
      audit(c, { action: 'ip_denied', outcome: 'denied', reason: 'not_in_allow_list', status: 403 });
      throw new GatewayError('ip_not_allowed', 'Your address may not use this route');
    }
    await next();
  };
}
