/**
 * OAuth 2.1 endpoints for MCP clients (API.md "MCP at the edge"), as ordinary routes of the app so
 * they get the request id, security headers, host rules, the body cap and the per-IP limits:
 *  - GET /.well-known/oauth-authorization-server (RFC 8414), POST /oauth/register (RFC 7591),
 *    POST /oauth/token (code + PKCE, refresh, RFC 7009 revocation): the provider answers them;
 *  - GET /.well-known/oauth-protected-resource[/mcp] (RFC 9728): the `/mcp` resource's metadata.
 * The provider reflects any `Origin` into CORS headers; the request it sees carries none, so the
 * gateway's own exact-match CORS policy (src/http/cors.ts) is the only one.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { createRouter, problemResponses } from '../http/openapi';
import { requestBody } from '../http/request-body';
import { requestUrl } from '../http/request-target';
import { authorizationServer, mcpResource, REQUIRED_SCOPES } from './server';

const tags = ['OAuth'];
const anyJson = z.record(z.string(), z.unknown());

/** Hands the request to the provider, with the body as the gateway read it and no Origin header. */
async function provider(c: Context<AppEnv>): Promise<Response> {
  const raw = c.req.raw;
  const headers = new Headers(raw.headers);
  headers.delete('Origin');
  const bytes = requestBody(c).bytes;
  const req = new Request(raw.url, {
    method: raw.method,
    headers,
    body: raw.method === 'GET' || raw.method === 'HEAD' ? undefined : bytes,
  });
  let ctx: ExecutionContext | undefined;
  try {
    ctx = c.executionCtx as ExecutionContext;
  } catch {
    ctx = undefined;
  }
  const res = await authorizationServer(requestUrl(c).origin, c.get('config')).fetch(req, c.env, ctx as ExecutionContext);
  return new Response(res.body, res);
}

/** RFC 9728 §2 metadata for `<origin>/mcp`. */
export function protectedResourceMetadata(origin: string) {
  return {
    resource: mcpResource(origin),
    authorization_servers: [origin],
    scopes_supported: [...REQUIRED_SCOPES],
    bearer_methods_supported: ['header'],
    resource_name: 'crawlgate MCP server',
    resource_documentation: `${origin}/docs`,
  };
}

const asMetadata = createRoute({
  method: 'get',
  path: '/.well-known/oauth-authorization-server',
  tags,
  summary: 'OAuth 2.0 authorization server metadata (RFC 8414)',
  'x-permission': 'public',
  responses: { 200: { description: 'Metadata', content: { 'application/json': { schema: anyJson } } } },
});

const prm = (path: string) =>
  createRoute({
    method: 'get',
    path,
    tags,
    summary: 'OAuth 2.0 protected resource metadata for /mcp (RFC 9728)',
    'x-permission': 'public',
    responses: { 200: { description: 'Metadata', content: { 'application/json': { schema: anyJson } } } },
  });

const register = createRoute({
  method: 'post',
  path: '/oauth/register',
  tags,
  summary: 'Dynamic client registration (RFC 7591)',
  'x-permission': 'public (IP rate limit)',
  request: { body: { required: true, content: { 'application/json': { schema: anyJson } } } },
  responses: {
    201: { description: 'The registered client', content: { 'application/json': { schema: anyJson } } },
    ...problemResponses(400, 413, 415, 429),
  },
});

const token = createRoute({
  method: 'post',
  path: '/oauth/token',
  tags,
  summary: 'Token endpoint: authorization_code (PKCE S256), refresh_token; token revocation (RFC 7009)',
  'x-permission': 'public (OAuth client authentication, PKCE)',
  request: { body: { required: true, content: { 'application/x-www-form-urlencoded': { schema: z.record(z.string(), z.string()) } } } },
  responses: {
    200: { description: 'Tokens', content: { 'application/json': { schema: anyJson } } },
    ...problemResponses(400, 401, 413, 415, 429),
  },
});

export const oauthRouter = createRouter()
  .openapi(asMetadata, async (c) => (await provider(c)) as never)
  .openapi(prm('/.well-known/oauth-protected-resource'), (c) => c.json(protectedResourceMetadata(requestUrl(c).origin), 200))
  .openapi(prm('/.well-known/oauth-protected-resource/mcp'), (c) => c.json(protectedResourceMetadata(requestUrl(c).origin), 200))
  .openapi(register, async (c) => (await provider(c)) as never)
  .openapi(token, async (c) => (await provider(c)) as never);
