/**
 * Strict CORS: exact origin matches from `CORS_ORIGINS` only, `Vary: Origin` always, configured
 * headers only. A look-alike origin (`https://app.example.com.evil.test`) gets no CORS header at all.
 * Hono's `cors()` default (`*`) is deliberately not used.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import { GatewayError } from './errors';

const ALLOW_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';
const ALLOW_HEADERS = 'Authorization, Content-Type, X-API-Key, X-Request-Id';
const EXPOSE_HEADERS =
  'X-Request-Id, RateLimit, RateLimit-Policy, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, WWW-Authenticate';

/** Pure: is this Origin header allowed? Compares the serialised origin exactly. */
export function isAllowedOrigin(origin: string | null, allowed: readonly string[]): origin is string {
  return origin !== null && origin !== 'null' && allowed.includes(origin);
}

export function strictCors(): MiddlewareHandler<AppEnv> {
  return async function strictCorsMiddleware(c, next) {
    const origin = c.req.header('Origin') ?? null;
    const allowed = isAllowedOrigin(origin, c.get('config').CORS_ORIGINS);
    const isPreflight = c.req.method === 'OPTIONS' && c.req.header('Access-Control-Request-Method') !== undefined;
    if (isPreflight) {
      if (!allowed) throw new GatewayError('cors_origin_denied', 'This origin may not call the API from a browser');
      return new Response(null, {
        status: 204,
        headers: {
          'Access-Control-Allow-Origin': origin,
          'Access-Control-Allow-Methods': ALLOW_METHODS,
          'Access-Control-Allow-Headers': ALLOW_HEADERS,
          'Access-Control-Max-Age': '600',
          Vary: 'Origin',
        },
      });
    }
    await next();
    c.header('Vary', 'Origin', { append: true });
    if (allowed) {
      c.header('Access-Control-Allow-Origin', origin);
      c.header('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    }
  };
}
