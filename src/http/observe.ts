/**
 * Per-request bookkeeping: the request count/latency metric by matched route template, flushed in
 * the background.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import { countRequest, flushMetrics } from '../metrics/recorder';
import { matchedTemplate } from './request-target';

export function observe(): MiddlewareHandler<AppEnv> {
  return async function observeMiddleware(c, next) {
    const started = Date.now();
    // Set once by requestTarget (src/http/request-target.ts); computed here only if it did not run.
    if (c.get('routeTemplate') === undefined) c.set('routeTemplate', matchedTemplate(c) ?? 'unmatched');
    await next();
    countRequest(c.get('routeTemplate') ?? 'unmatched', c.req.method, c.res.status, Date.now() - started);
    try {
      c.executionCtx.waitUntil(flushMetrics(c.env));
    } catch {
      // no execution context (direct app.fetch in a unit test)
    }
  };
}
