/** GET /health: liveness for load balancers; `?deep=1` (metrics:read) also checks D1, KV and the origin. */
import { createRoute, z } from '@hono/zod-openapi';
import type { Env } from '../env';
import { createRouter, problemResponses } from '../http/openapi';
import { VERSION } from '../version';
import { resolvePrincipal } from '../auth/authenticate';
import { assertPermission } from '../auth/require-permission';

const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded', 'misconfigured']),
    timestamp: z.string(),
    version: z.string(),
    checks: z.record(z.string(), z.object({ ok: z.boolean(), ms: z.number(), error: z.string().optional() })).optional(),
  })
  .openapi('Health');

const healthRoute = createRoute({
  method: 'get',
  path: '/health',
  summary: 'Liveness and (with deep=1) dependency checks',
  request: { query: z.object({ deep: z.enum(['0', '1', 'true', 'false']).optional() }) },
  'x-permission': 'public (deep=1: metrics:read)',
  responses: {
    200: { description: 'Healthy', content: { 'application/json': { schema: HealthSchema } } },
    503: { description: 'Misconfigured or a dependency failed', content: { 'application/json': { schema: HealthSchema } } },
    ...problemResponses(401, 403),
  },
});

async function check(fn: () => Promise<unknown>): Promise<{ ok: boolean; ms: number; error?: string }> {
  const t = Date.now();
  try {
    await fn();
    return { ok: true, ms: Date.now() - t };
  } catch (e) {
    return { ok: false, ms: Date.now() - t, error: e instanceof Error ? e.message.slice(0, 200) : 'failed' };
  }
}

/** Dependency checks for deep health (pure I/O, no secrets in results). */
export async function deepChecks(env: Env, originUrl: string | undefined) {
  const checks: Record<string, { ok: boolean; ms: number; error?: string }> = {
    d1: await check(() => env.DB.prepare('SELECT 1 AS one').first()),
    kv: await check(() => env.REVOCATIONS.get('health:probe')),
  };
  if (originUrl) {
    checks.origin = await check(async () => {
      const res = await fetch(new URL('/health', originUrl), { signal: AbortSignal.timeout(3000), redirect: 'manual' });
      if (res.status >= 500) throw new Error(`origin answered ${res.status}`);
      await res.body?.cancel();
    });
  }
  return checks;
}

export const healthRouter = createRouter().openapi(healthRoute, async (c) => {
  const base = { timestamp: new Date().toISOString(), version: VERSION };
  const { deep } = c.req.valid('query');
  if (deep === '1' || deep === 'true') {
    await resolvePrincipal(c);
    assertPermission(c, 'metrics:read');
    const checks = await deepChecks(c.env, c.get('config').ORIGIN_URL);
    const ok = Object.values(checks).every((x) => x.ok);
    return c.json({ status: ok ? ('ok' as const) : ('degraded' as const), ...base, checks }, ok ? 200 : 503);
  }
  return c.json({ status: 'ok' as const, ...base }, 200);
});
