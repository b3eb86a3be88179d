/**
 * The whole request path at a glance (shared/ARCHITECTURE.md): middleware order here, routers below.
 *   1. security headers (outermost, so errors and proxied responses get them too), request id
 *   2. request target (one decoded path + matched route; ambiguous spellings 400), config guard,
 *      metrics, host rules (trusted hosts, HTTPS redirect), CORS, body gate (cap 413, media type 415)
 *   3. IP rate limit → authenticate (optional here: public routes stay public, a bad credential is
 *      still a 401) → principal rate limits / concurrency leases → router (requirePermission) → handler
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from './env';
import { createRouter } from './http/openapi';
import { securityHeaders } from './http/security-headers';
import { requestId } from './http/request-id';
import { configGuard } from './http/config-guard';
import { observe } from './http/observe';
import { hostRules } from './http/host-rules';
import { strictCors } from './http/cors';
import { bodyGate, acceptedTypesOf } from './http/request-body';
import { requestTarget } from './http/request-target';
import { ipAllowList } from './http/ip-rules';
import { authenticate, type AuthenticateOptions } from './auth/authenticate';
import { verifyApiKey } from './keys/verify';
import { verifyAccessToken } from './auth/jwt/verify-access';
import { verifyOAuthToken } from './oauth/verify';
import { clientRateLimits } from './ratelimit/client-limits';
import { principalRateLimits } from './ratelimit/principal-limits';
import { meterUsage } from './metering/meter-middleware';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { healthRouter } from './routes/health';
import { metricsRouter } from './routes/metrics';
import { registerDocs } from './routes/docs';
import { adminKeysRouter } from './routes/admin/keys';
import { ownKeysRouter } from './routes/keys';
import { apiKeyValidateRouter } from './routes/auth-api-key';
import { crawlRouter } from './crawl/router';
import { mcpRouter } from './crawl/mcp';
import { adminAuditRouter } from './routes/admin/audit';
import { authRouter } from './routes/auth';
import { adminUsersRouter } from './routes/admin/users';
import { playgroundRouter } from './routes/playground';
import { createDashboardRouter } from './dashboard/router';
import { createExportsRouter } from './routes/exports';
import type { JobResultsStore } from './exports/source';
import { d1JobResults } from './jobs/results';
import { jobsRouter } from './routes/jobs';
import { politeRouter } from './routes/polite';
import { createMcpRouter, mcpChallenge } from './mcp/router';
import { crawl4aiRouter } from './crawl/crawl4ai-routes';
import { usageRouter } from './routes/usage';
import { oauthRouter } from './oauth/router';
import { createConsentRouter } from './oauth/consent';
import { grantsRouter } from './routes/grants';

export interface CreateAppOptions {
  /** Credential verifiers; tests may pass their own to act as a chosen principal. Default: API keys, JWTs and OAuth tokens; a kind left out keeps its default. */
  verifiers?: AuthenticateOptions['verifiers'];
  /** Where exports read job results (the jobs module's store; tests pass an in-memory one). */
  jobResults?: JobResultsStore;
}

/** One router of the app: its area and the paths it serves (each route's path starts with one). */
export interface RouterMount {
  area: string;
  paths: readonly string[];
  router: OpenAPIHono<AppEnv>;
}

/**
 * Every router by area, in mount order, with the paths it serves in plain sight; routers keep
 * absolute paths (so each reads and tests on its own) and test/http/mounts.test.ts holds every
 * router to the paths listed here. `/openapi.json` and `/docs` are registered by `registerDocs`.
 */
export function routerMounts(app: OpenAPIHono<AppEnv>, options: CreateAppOptions = {}): RouterMount[] {
  return [
    { area: 'operations', paths: ['/health'], router: healthRouter },
    { area: 'operations', paths: ['/metrics'], router: metricsRouter },
    { area: 'auth', paths: ['/auth/api-key/validate'], router: apiKeyValidateRouter },
    { area: 'admin', paths: ['/admin/keys'], router: adminKeysRouter },
    { area: 'keys', paths: ['/keys'], router: ownKeysRouter },
    { area: 'crawl', paths: ['/crawl', '/md', '/html', '/screenshot', '/pdf', '/execute_js'], router: crawlRouter },
    { area: 'crawl', paths: ['/mcp'], router: mcpRouter }, // relay to the origin's MCP
    { area: 'mcp', paths: ['/mcp'], router: createMcpRouter(() => app) }, // the gateway's own MCP server; tool calls re-enter this app
    { area: 'crawl', paths: ['/llm', '/ask', '/config/dump', '/schema', '/hooks/info', '/artifacts', '/monitor'], router: crawl4aiRouter },
    {
      area: 'oauth',
      paths: ['/.well-known/oauth-authorization-server', '/.well-known/oauth-protected-resource', '/oauth/register', '/oauth/token'],
      router: oauthRouter,
    },
    { area: 'oauth', paths: ['/oauth/authorize'], router: createConsentRouter(app.fetch) }, // sign in + consent
    { area: 'oauth', paths: ['/grants', '/admin/grants'], router: grantsRouter },
    { area: 'admin', paths: ['/admin/audit'], router: adminAuditRouter },
    { area: 'auth', paths: ['/auth', '/token', '/.well-known/jwks.json'], router: authRouter },
    { area: 'admin', paths: ['/admin/users'], router: adminUsersRouter },
    { area: 'playground', paths: ['/playground'], router: playgroundRouter },
    { area: 'dashboard', paths: ['/dashboard'], router: createDashboardRouter(app.fetch) }, // server-rendered UI over this same API
    { area: 'polite', paths: ['/.well-known/http-message-signatures-directory', '/admin/hosts'], router: politeRouter },
    { area: 'jobs', paths: ['/jobs', '/usage'], router: jobsRouter },
    {
      area: 'metering',
      paths: ['/admin/keys/{id}/usage', '/keys/{id}/usage', '/admin/users/{username}/usage', '/usage/export'],
      router: usageRouter,
    },
    { area: 'exports', paths: ['/jobs/{id}/export', '/exports'], router: createExportsRouter(options.jobResults ?? d1JobResults) },
  ];
}

export function createApp(options: CreateAppOptions = {}): OpenAPIHono<AppEnv> {
  const app = createRouter();

  app.use('*', requestId());
  app.use('*', securityHeaders());
  // One reading of the path (Hono's decoded routing path + the matched route) for every decision below.
  app.use('*', requestTarget());
  app.use('*', configGuard());
  app.use('*', observe());
  app.use('*', hostRules());
  app.use('*', strictCors());
  // The body, read once within MAX_BODY_BYTES; a media type the route does not read is 415 here.
  app.use('*', bodyGate(acceptedTypesOf(app)));
  app.use(
    '/admin/*',
    ipAllowList((c) => c.get('config').ADMIN_ALLOW_CIDRS),
  );
  // Rate limits that need no principal (per IP, per route group, login attempts) go here.
  app.use('*', clientRateLimits());
  app.use('/mcp', mcpChallenge()); // a 401 at /mcp names the OAuth protected resource metadata (RFC 9728)
  app.use(
    '*',
    authenticate({
      optional: true,
      verifiers: { apiKey: verifyApiKey, jwt: verifyAccessToken, oauth: verifyOAuthToken, ...options.verifiers },
    }),
  );
  // Rate limits per principal (key / user) and crawl concurrency leases go here.
  app.use('*', principalRateLimits());
  // Metered requests (crawl routes, jobs): pages, bytes, time and credits, settled when the response ends.
  app.use('*', meterUsage());

  // The routers, by area (routerMounts above: a new router is one line there).
  for (const mount of routerMounts(app, options)) app.route('/', mount.router);
  registerDocs(app);

  app.notFound(notFoundHandler(app));
  app.onError(errorHandler());
  return app;
}

/** One app per isolate: built once, reused by every request. */
export const app = createApp();
