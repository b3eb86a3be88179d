/**
 * Route declaration helpers: every route is an `@hono/zod-openapi` route, so one zod schema
 * validates the request and documents it in `/openapi.json`. Validation failures become
 * 422 `validation_failed` problems listing each field path.
 */
import { OpenAPIHono, createRoute, z, type RouteConfig } from '@hono/zod-openapi';
import { requirePermission } from '../auth/require-permission';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import type { Permission } from '../auth/rbac';
import { GatewayError } from './errors';
import { bodyReader, routeReadsBody } from './request-body';

/** Hook shared by every router: zod issues → one problem with field paths. */
export function validationHook(result: { success: boolean; error?: z.ZodError }): void {
  if (result.success || !result.error) return;
  const errors = result.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));
  const summary = errors
    .slice(0, 3)
    .map((e) => `${e.path}: ${e.message}`)
    .join('; ');
  throw new GatewayError('validation_failed', `Invalid request: ${summary}`, { extras: { errors } });
}

/**
 * A router for one group of routes; mount it in `src/app.ts`. Every route that reads a body gets
 * `bodyReader` after its own middleware (so `requirePermission` answers first) and before its
 * validators: the body is read strictly once and validators and handlers share that reading
 * (src/http/request-body.ts).
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  const router = new OpenAPIHono<AppEnv>({ defaultHook: (result) => validationHook(result) });
  const register = router.openapi;
  const reader = bodyReader();
  const call = register as (...a: unknown[]) => unknown;
  router.openapi = ((declared: RouteConfig & { routingPath?: string }, ...rest: unknown[]) => {
    const { routingPath, ...documented } = declared;
    const honoPath = routingPath ?? documented.path.replace(/\{([^}]+)\}/g, ':$1');
    let route: RouteConfig = documented;
    if (routeReadsBody(route.method, honoPath, Boolean(route.request?.body?.content))) {
      const own = route.middleware === undefined ? [] : Array.isArray(route.middleware) ? route.middleware : [route.middleware];
      route = { ...route, middleware: [...own, reader] };
    }
    if (routingPath === undefined) return call(route, ...rest);
    // Documented under its OpenAPI path, routed by its Hono pattern (same middleware and validators).
    const { middleware: _middleware, hide, ...doc } = route;
    if (!hide) router.openAPIRegistry.registerPath(doc);
    return call({ ...route, hide: true, path: routingPath }, ...rest);
  }) as typeof router.openapi;
  return router;
}

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().openapi({ example: 'invalid_credentials' }),
    request_id: z.string(),
  })
  .openapi('Problem');

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed request',
  401: 'Missing or invalid credentials',
  403: 'Authenticated but not allowed (insufficient_scope, ip_not_allowed)',
  404: 'Not found (or owned by another principal)',
  409: 'Conflict',
  413: 'Body larger than MAX_BODY_BYTES',
  422: 'Body failed validation (validation_failed)',
  429: 'Rate or concurrency limit reached',
  500: 'Gateway misconfigured or internal error',
  502: 'Origin unavailable',
  503: 'A dependency (rate limiter) is unavailable',
  504: 'Origin timed out',
};

/** Problem responses for the OpenAPI document. */
export function problemResponses(...statuses: number[]) {
  const out: Record<number, { description: string; content: { 'application/problem+json': { schema: typeof ProblemSchema } } }> = {};
  for (const s of statuses) {
    out[s] = { description: PROBLEM_DESCRIPTIONS[s] ?? 'Error', content: { 'application/problem+json': { schema: ProblemSchema } } };
  }
  return out;
}

/** The OpenAPI fields of a protected route: security schemes and permission (used by `protectedRoute`). */
function protectedBy(permission: Permission | Permission[] | 'authenticated') {
  const perms = Array.isArray(permission) ? permission : [permission];
  return {
    security: [{ bearerAuth: [] }, { apiKeyHeader: [] }] as Array<Record<string, string[]>>,
    'x-permission': perms.join(' '),
  };
}

/** A required JSON body (required: validation runs even without a JSON content type). */
export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return { body: { required: true, description, content: { 'application/json': { schema } } } };
}

type ProtectedConfig = Omit<RouteConfig, 'security'> & {
  /** The permission(s) the route needs; `'authenticated'` = any valid credential. */
  permission: Permission | Permission[] | 'authenticated';
  /**
   * Lets a request through the guard without a credential when true (e.g. /metrics from an
   * allow-listed address). The OpenAPI document still states the permission.
   */
  allowWithout?: (c: Context<AppEnv>) => boolean;
  /** Middleware that runs before the guard and may answer without it (e.g. a redirect). */
  before?: MiddlewareHandler<AppEnv>[];
  /**
   * A Hono path pattern that routes this documented `path` when OpenAPI's `{param}` cannot say it,
   * e.g. `/llm/:url{.+}` for `/llm/{url}` whose value keeps its slashes. Guard, middleware and
   * validators are the same; only the routing differs (createRouter).
   */
  routingPath?: string;
};

/**
 * The one way to declare a protected route: the permission is stated once and yields both the
 * OpenAPI `security`/`x-permission` and the `requirePermission` middleware, which runs first (before
 * the route's own middleware and before the body is read). The shared security suite
 * (test/security/every-route.test.ts) drives the 401/403/429 cases from `x-permission`.
 */
export function protectedRoute<const C extends ProtectedConfig>(config: C) {
  const { permission, middleware, allowWithout, before, ...rest } = config;
  const perms = permission === 'authenticated' ? [] : Array.isArray(permission) ? permission : [permission];
  const own = middleware === undefined ? [] : Array.isArray(middleware) ? middleware : [middleware];
  const required = requirePermission(...perms);
  const guard: MiddlewareHandler<AppEnv> = allowWithout
    ? async function guardUnlessAllowed(c, next) {
        if (allowWithout(c)) return next();
        return required(c, next);
      }
    : required;
  return createRoute({
    ...rest,
    ...protectedBy(permission),
    middleware: [...(before ?? []), guard, ...own] as const,
  } as Omit<C, 'permission' | 'middleware' | 'allowWithout' | 'before'> & { middleware: MiddlewareHandler<AppEnv>[] });
}
