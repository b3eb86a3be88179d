/**
 * Per-request bookkeeping: the matched route template (for metrics and audit) and the request
 * count/latency metric, flushed in the background.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { AppEnv } from '../env';
import { countRequest, flushMetrics } from '../metrics/recorder';

/** The path template of the handler that serves this request (not a middleware), or "unmatched". */
export function routeTemplateOf(c: Context<AppEnv>): string {
  const routes = matchedRoutes(c).filter((r) => r.method !== 'ALL');
  return routes.at(-1)?.path ?? 'unmatched';
}

export function observe(): MiddlewareHandler<AppEnv> {
  return async function observeMiddleware(c, next) {
    const started = Date.now();
    c.set('routeTemplate', routeTemplateOf(c));
    await next();
    countRequest(c.get('routeTemplate') ?? 'unmatched', c.req.method, c.res.status, Date.now() - started);
    try {
      c.executionCtx.waitUntil(flushMetrics(c.env));
    } catch {
      // no execution context (direct app.fetch in a unit test)
    }
  };
}
