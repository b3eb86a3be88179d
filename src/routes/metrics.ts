/** GET /metrics: Prometheus text, for `METRICS_ALLOW_CIDRS` or a principal with `metrics:read`. */
import { z } from '@hono/zod-openapi';
import { createRouter, problemResponses, protectedRoute } from '../http/openapi';
import { clientAllowed } from '../http/ip-rules';
import { flushMetrics } from '../metrics/recorder';
import { renderPrometheus } from '../metrics/registry';

const metricsRoute = protectedRoute({
  method: 'get',
  path: '/metrics',
  summary: 'Prometheus metrics (allow-listed addresses, or metrics:read)',
  permission: 'metrics:read',
  // An allow-listed scraper needs no credential (an empty list allows nobody this way).
  allowWithout: (c) => c.get('config').METRICS_ALLOW_CIDRS.length > 0 && clientAllowed(c, c.get('config').METRICS_ALLOW_CIDRS),
  responses: {
    200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: z.string() } } },
    ...problemResponses(401, 403),
  },
});

export const metricsRouter = createRouter().openapi(metricsRoute, async (c) => {
  await flushMetrics(c.env, true);
  const series = await c.env.METRICS.get(c.env.METRICS.idFromName('global')).snapshot();
  return c.text(renderPrometheus(series), 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
});
