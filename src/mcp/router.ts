/**
 * `/mcp`: the gateway's own MCP server over Streamable HTTP (API.md "MCP at the edge"; docs/mcp.md).
 *  - POST: JSON-RPC messages; `initialize` opens a session (`Mcp-Session-Id`, src/mcp/session.ts),
 *    every later message must carry it (400 without, 404 for one this tenant was not given).
 *  - GET: no server-initiated stream is offered (405, which the spec allows).
 *  - DELETE: ends the session (nothing is stored, so this only checks it is the caller's).
 * Any valid credential may connect ('authenticated'); each tool's route checks its own permission.
 * A 401 here names the protected resource metadata (RFC 9728 §5.1): `mcpChallenge` in src/app.ts.
 */
import { z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import { createRouter, jsonBody, problemResponses, protectedRoute } from '../http/openapi';
import { tenantOf, principalOf } from '../auth/principal';
import { requestUrl } from '../http/request-target';
import { chargeProtocolMessage, messagesOf, serveMcpPost } from './server';
import { newSessionId, sessionBelongsTo } from './session';
import type { AppDispatcher } from './dispatch';

const tags = ['MCP'];
const JsonRpcBody = z.union([z.object({}).catchall(z.unknown()), z.array(z.unknown()).min(1).max(100)]).openapi('JsonRpcMessage');

const postRoute = protectedRoute({
  method: 'post',
  path: '/mcp',
  tags,
  summary: 'MCP Streamable HTTP: JSON-RPC messages (tools/list, tools/call, ...)',
  permission: 'authenticated',
  request: jsonBody(JsonRpcBody),
  responses: {
    200: { description: 'JSON-RPC response(s)', content: { 'application/json': { schema: z.unknown() } } },
    202: { description: 'Notifications accepted' },
    ...problemResponses(400, 401, 404, 413, 422, 429, 503),
  },
});

const deleteRoute = protectedRoute({
  method: 'delete',
  path: '/mcp',
  tags,
  summary: 'End an MCP session (Mcp-Session-Id)',
  permission: 'authenticated',
  responses: { 200: { description: 'Session ended' }, ...problemResponses(400, 401, 404, 429) },
});

/** JSON-RPC error bodies, as the SDK transport answers session errors. */
function rpcError(status: 400 | 404, code: number, message: string): Response {
  return Response.json({ jsonrpc: '2.0', error: { code, message }, id: null }, { status });
}

async function checkSession(c: Context<AppEnv>): Promise<Response | null> {
  const id = c.req.header('Mcp-Session-Id');
  if (!id) return rpcError(400, -32000, 'Bad Request: Mcp-Session-Id header is required');
  const ok = await sessionBelongsTo(c.get('config').JWT_SECRET_KEY, tenantOf(principalOf(c)), id);
  return ok ? null : rpcError(404, -32001, 'Session not found');
}

/** The router, given the app it dispatches tool calls to (passed in so no module imports the app). */
export function createMcpRouter(app: () => AppDispatcher) {
  return createRouter()
    .openapi(postRoute, async (c) => {
      const body = c.req.valid('json');
      const messages = messagesOf(body);
      const initializing = messages.some((m) => m.method === 'initialize');
      if (!initializing) {
        const refused = await checkSession(c);
        if (refused) {
          await chargeProtocolMessage(c, []); // a refused post costs 1 like any request, tool calls or not
          return refused as never;
        }
      }
      await chargeProtocolMessage(c, messages);
      const res = await serveMcpPost(c, app(), body);
      if (!initializing || res.status !== 200) return res as never;
      const headers = new Headers(res.headers);
      headers.set('Mcp-Session-Id', await newSessionId(c.get('config').JWT_SECRET_KEY, tenantOf(principalOf(c))));
      return new Response(res.body, { status: res.status, headers }) as never;
    })
    .openapi(deleteRoute, async (c) => {
      const refused = await checkSession(c);
      return (refused ?? new Response(null, { status: 200 })) as never;
    });
}

/** Where this deployment's protected resource metadata lives (RFC 9728 §3.1: inserted before the path). */
export function resourceMetadataUrl(origin: string): string {
  return `${origin}/.well-known/oauth-protected-resource/mcp`;
}

/**
 * App-level, before authentication: a 401 from `/mcp` (no credential, or a bad one) names the
 * protected resource metadata, so an MCP client can discover the authorization server (MCP
 * "Authorization" §2.3, RFC 9728 §5.1).
 */
export function mcpChallenge(): MiddlewareHandler<AppEnv> {
  return async function mcpChallengeMiddleware(c, next) {
    await next();
    if (c.res.status !== 401) return;
    const current = c.res.headers.get('WWW-Authenticate') ?? 'Bearer';
    if (current.includes('resource_metadata=')) return;
    const challenge = `${current}${current === 'Bearer' ? ' ' : ', '}resource_metadata="${resourceMetadataUrl(requestUrl(c).origin)}"`;
    try {
      c.res.headers.set('WWW-Authenticate', challenge);
    } catch {
      // immutable headers: replace the response (cleared first, or Hono copies the old header back)
      const res = new Response(c.res.body, c.res);
      res.headers.set('WWW-Authenticate', challenge);
      c.res = undefined;
      c.res = res;
    }
  };
}
