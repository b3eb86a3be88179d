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
import { consentRouter } from './oauth/consent';
import { grantsRouter } from './routes/grants';

export interface CreateAppOptions {
  /** Credential verifiers; tests may pass their own to act as a chosen principal. Default: API keys + JWT. */
  verifiers?: AuthenticateOptions['verifiers'];
  /** Where exports read job results (the jobs module's store; tests pass an in-memory one). */
  jobResults?: JobResultsStore;
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
  app.use('/admin/*', ipAllowList((c) => c.get('config').ADMIN_ALLOW_CIDRS));
  // Rate limits that need no principal (per IP, per route group, login attempts) go here.
  app.use('*', clientRateLimits());
  app.use('/mcp', mcpChallenge()); // a 401 at /mcp names the OAuth protected resource metadata (RFC 9728)
  app.use('*', authenticate({ optional: true, verifiers: options.verifiers ?? { apiKey: verifyApiKey, jwt: verifyAccessToken, oauth: verifyOAuthToken } }));
  // Rate limits per principal (key / user) and crawl concurrency leases go here.
  app.use('*', principalRateLimits());
  // Metered requests (crawl routes, jobs): pages, bytes, time and credits, settled when the response ends.
  app.use('*', meterUsage());

  app.route('/', healthRouter);
  app.route('/', metricsRouter);
  // Feature routers are mounted here, one line each:
  app.route('/', apiKeyValidateRouter); // /auth/api-key/validate
  app.route('/', adminKeysRouter);   // /admin/keys
  app.route('/', ownKeysRouter); // /keys (self-service)
  app.route('/', crawlRouter); // /crawl, /md, /html, /screenshot, /pdf, /execute_js, /crawl/job
  app.route('/', mcpRouter); // /mcp/* (relay to the origin's MCP)
  app.route('/', createMcpRouter(() => app)); // /mcp (the gateway's own MCP server; tool calls re-enter this app)
  app.route('/', crawl4aiRouter); // /llm/*, /ask, /config/dump, /schema, /hooks/info, /artifacts/{id}, /monitor/*
  app.route('/', oauthRouter); // /.well-known/oauth-*, /oauth/register, /oauth/token (OAuth 2.1 for MCP clients)
  app.route('/', consentRouter); // /oauth/authorize (sign in + consent)
  app.route('/', grantsRouter); // /grants, /admin/grants
  app.route('/', adminAuditRouter); // /admin/audit
  app.route('/', authRouter); // /auth/*, /token, /.well-known/jwks.json
  app.route('/', adminUsersRouter); // /admin/users
  app.route('/', playgroundRouter); // /playground
  app.route('/', createDashboardRouter(app.fetch)); // /dashboard/* (server-rendered UI over this same API)
  app.route('/', politeRouter); // /.well-known/http-message-signatures-directory, /admin/hosts
  app.route('/', jobsRouter); // /jobs, /jobs/{id}[/results|/cancel|/pause|/resume], /usage
  app.route('/', usageRouter); // /admin/keys/{id}/usage, /keys/{id}/usage, /admin/users/{username}/usage, /usage/export
  app.route('/', createExportsRouter(options.jobResults ?? d1JobResults)); // /jobs/{id}/export, /exports*
  registerDocs(app);

  app.notFound(notFoundHandler(app));
  app.onError(errorHandler());
  return app;
}

/** One app per isolate: built once, reused by every request. */
export const app = createApp();
