/** GET /metrics: Prometheus text, for `METRICS_ALLOW_CIDRS` or a principal with `metrics:read`. */
import { createRoute, z } from '@hono/zod-openapi';
import { createRouter, problemResponses, protectedBy } from '../http/openapi';
import { clientAllowed } from '../http/ip-rules';
import { resolvePrincipal } from '../auth/authenticate';
import { assertPermission } from '../auth/require-permission';
import { flushMetrics } from '../metrics/recorder';
import { renderPrometheus } from '../metrics/registry';

const route = createRoute({
  method: 'get',
  path: '/metrics',
  summary: 'Prometheus metrics (allow-listed addresses, or metrics:read)',
  ...protectedBy('metrics:read'),
  responses: {
    200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: z.string() } } },
    ...problemResponses(401, 403),
  },
});

export const metricsRouter = createRouter().openapi(route, async (c) => {
  if (!clientAllowed(c, c.get('config').METRICS_ALLOW_CIDRS) || c.get('config').METRICS_ALLOW_CIDRS.length === 0) {
    await resolvePrincipal(c);
    assertPermission(c, 'metrics:read');
  }
  await flushMetrics(c.env, true);
  const series = await c.env.METRICS.get(c.env.METRICS.idFromName('global')).snapshot();
  return c.text(renderPrometheus(series), 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
});
