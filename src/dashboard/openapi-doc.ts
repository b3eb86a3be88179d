/**
 * Lists the dashboard's HTML routes in the OpenAPI document (every served route is documented), as
 * `text/html` pages guarded by the dashboard session rather than a bearer credential.
 */
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../env';

const PUBLIC = new Set(['/dashboard/login', '/dashboard/static/app.css', '/dashboard/static/app.js']);

/** Registers one OpenAPI path per concrete route of `router` (call after all routes are added). */
export function documentDashboard(router: OpenAPIHono<AppEnv>): void {
  const seen = new Set<string>();
  for (const route of router.routes) {
    if (route.method === 'ALL' || route.path.endsWith('*')) continue;
    const key = `${route.method} ${route.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const names = [...route.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1] ?? '');
    const method = route.method.toLowerCase() as 'get' | 'post';
    router.openAPIRegistry.registerPath({
      method,
      path: route.path.replace(/:([A-Za-z_]+)/g, '{$1}'),
      tags: ['dashboard'],
      summary: `Dashboard ${method === 'get' ? 'page' : 'form'}: ${route.path}`,
      'x-permission': PUBLIC.has(route.path) ? 'public' : 'dashboard session (the API it calls enforces permissions)',
      ...(names.length ? { request: { params: z.object(Object.fromEntries(names.map((n) => [n, z.string()]))) } } : {}),
      responses: {
        200: { description: 'HTML page (or the static asset)', content: { 'text/html': { schema: z.string() } } },
        303: { description: 'Redirect (after a form, or to the login page when the session is gone)' },
        403: { description: 'HTML page: cross-site form, bad CSRF token, or the API refused' },
      },
    });
  }
}
