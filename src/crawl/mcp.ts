/**
 * Crawl4AI's MCP endpoints, forwarded with the gateway's authentication (`crawl:run`):
 * `/mcp/sse` (SSE, streamed), `/mcp/messages[/]` (JSON-RPC posts, tool calls policy-checked),
 * `/mcp/schema`, and `/mcp/ws` (WebSocket proxied message by message, tool calls policy-checked).
 */
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import { createRouter, problemResponses, protectedRoute } from '../http/openapi';
import { GatewayError } from '../http/errors';
import { audit } from '../audit/audit';
import { forwardToOrigin } from './origin/forward';
import { DEFAULT_SOCKET_LIMITS, proxyWebSocket } from './origin/websocket';
import { inspectMcpMessage, RPC, type McpInspection, type McpPolicyContext } from './mcp-policy';
import { McpLimiter, PendingToolCalls, sseAnswerReader } from './mcp-limits';
import { passThrough } from './handle';
import { ownsSession, recordSession } from './origin/ownership';
import { principalOf, tenantOf, type Principal } from '../auth/principal';
import { policyContextFor, type PolicyContext } from './policy';
import { requestUrl } from '../http/request-target';
import { listedTools } from '../mcp/tools';

const ERRORS = problemResponses(401, 403, 413, 422, 429, 502, 503, 504);

function needOrigin(c: Context<AppEnv>): void {
  if (!c.get('config').ORIGIN_URL) throw new GatewayError('service_unavailable', 'MCP is served by the origin crawler; set ORIGIN_URL');
}

function policyContext(c: Context<AppEnv>): McpPolicyContext {
  const config = c.get('config');
  return { ...policyContextFor(principalOf(c), config), originProfile: config.ORIGIN_PROFILE };
}

/** Every refused MCP message leaves an audit row with its reason (never its content). */
function auditRefusal(c: Context<AppEnv>, route: string, r: Extract<McpInspection, { ok: false }>): void {
  if (LIMIT_CODES.has(r.error.code)) return; // audited as `rate_limited` by src/ratelimit/enforce.ts, like the HTTP 429
  const action = r.error.code === 'insufficient_scope' ? 'permission_denied' : 'crawl_requested';
  const reason = typeof r.error.extras?.reason === 'string' && r.rpcCode === -32700 ? r.error.extras.reason : r.error.code;
  audit(c, { action, outcome: 'denied', reason, status: r.error.status, details: { route, rpc_code: r.rpcCode } });
}

const LIMIT_CODES = new Set(['rate_limited', 'concurrency_limited', 'limiter_unavailable']);

const tags = ['MCP'];

const mcpSseRoute = protectedRoute({
  method: 'get',
  path: '/mcp/sse',
  tags,
  summary: 'MCP over Server-Sent Events (streamed from the origin)',
  permission: 'crawl:run',
  responses: { 200: { description: 'SSE stream', content: { 'text/event-stream': { schema: z.string() } } }, ...ERRORS },
});

const mcpSchemaRoute = protectedRoute({
  method: 'get',
  path: '/mcp/schema',
  tags,
  summary: 'The MCP tools and resources the origin offers',
  permission: 'crawl:run',
  responses: { 200: { description: 'Schema', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } }, ...ERRORS },
});

const mcpWsRoute = protectedRoute({
  method: 'get',
  path: '/mcp/ws',
  tags,
  summary: 'MCP over WebSocket (Upgrade: websocket)',
  permission: 'crawl:run',
  responses: { 101: { description: 'Switching protocols' }, ...problemResponses(400, 401, 403, 426, 429, 502, 503, 504) },
});

const SessionQuery = z.object({ session_id: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/) });

/** `/mcp/messages` and `/mcp/messages/` (Crawl4AI's own spelling): the same route twice. */
function mcpMessagesRouteAt<const P extends string>(path: P) {
  return protectedRoute({
    method: 'post',
    path,
    tags,
    summary: 'MCP JSON-RPC messages for an SSE session (`?session_id=`)',
    permission: 'crawl:run',
    request: { query: SessionQuery },
    responses: { 202: { description: 'Accepted' }, ...ERRORS },
  });
}
const mcpMessagesRoute = mcpMessagesRouteAt('/mcp/messages');
const mcpMessagesSlashRoute = mcpMessagesRouteAt('/mcp/messages/');

export const mcpRouter = createRouter();

const SESSION_IN_STREAM = /session_id=([A-Za-z0-9_-]{1,128})/;

/**
 * Watches the start of the SSE stream for the origin's `endpoint` event and binds its session id
 * to the caller's tenant before the client can see (and use) it. A failed write errors the stream:
 * fail closed rather than hand out an unbound session.
 */
export function bindSessionIds(
  body: ReadableStream<Uint8Array>,
  db: D1Database,
  principal: Principal,
  releaseLease?: (leaseId: string) => void,
): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder();
  let seen = '';
  let scanned = 0;
  let session: string | null = null;
  const answerDecoder = new TextDecoder();
  // Each answer on the stream releases the lease its tool call took (sseLeaseId).
  const answers = sseAnswerReader((idJson) => {
    if (session && releaseLease) releaseLease(leaseIdFor(session, idJson));
  });
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      async transform(chunk, controller) {
        if (scanned < 65_536) {
          scanned += chunk.byteLength;
          seen = (seen + decoder.decode(chunk, { stream: true })).slice(-4096);
          let m: RegExpExecArray | null;
          const re = new RegExp(SESSION_IN_STREAM.source, 'g');
          while ((m = re.exec(seen)) !== null) {
            session ??= m[1] as string;
            await recordSession(db, m[1] as string, principal);
          }
        }
        if (releaseLease) answers(answerDecoder.decode(chunk, { stream: true }));
        controller.enqueue(chunk);
      },
    }),
  );
}

mcpRouter.openapi(mcpSseRoute, async (c) => {
  needOrigin(c);
  audit(c, { action: 'crawl_requested', outcome: 'success', details: { route: 'mcp_sse', engine: 'origin', urls: 0 } });
  const res = await forwardToOrigin(c, { method: 'GET', path: '/mcp/sse' });
  if (!res.ok || !res.body) return res;
  const limiter = new McpLimiter(c);
  return new Response(
    bindSessionIds(res.body, c.env.DB, principalOf(c), (id) => limiter.releaseById(id)),
    { status: res.status, headers: res.headers },
  );
});

mcpRouter.openapi(mcpSchemaRoute, async (c) => {
  // Without an origin the gateway serves MCP itself (POST /mcp): its tools and their input schemas.
  if (!c.get('config').ORIGIN_URL) return c.json({ tools: listedTools() as unknown as Record<string, unknown>[] }, 200);
  return passThrough(await forwardToOrigin(c, { method: 'GET', path: '/mcp/schema' }));
});

/** A JSON-RPC post for an SSE session: the session's owner only, policy-checked, rate-limited, leased. */
async function relayMcpMessage(c: Context<AppEnv, string, { out: { query: z.infer<typeof SessionQuery> } }>): Promise<Response> {
  needOrigin(c);
  const { session_id } = c.req.valid('query');
  // Sessions belong to the tenant that opened them: another tenant's id reads as unknown.
  if (!(await ownsSession(c.env.DB, session_id, principalOf(c)))) {
    const charged = await new McpLimiter(c).admitMessage([]);
    throw charged.ok ? new GatewayError('not_found', 'No such MCP session') : charged.error;
  }
  const text = await c.req.text();
  const inspected = inspectMcpMessage(text, policyContext(c));
  // Every post costs the principal's bucket like an HTTP request; a tool call weighs its URLs and takes a lease.
  const admitted = await new McpLimiter(c).admitMessage(inspected.ok ? inspected.calls : [], (call) => sseLeaseId(session_id, call.id));
  if (!admitted.ok) {
    auditRefusal(c, 'mcp_messages', { ok: false, error: admitted.error, id: null, rpcCode: RPC.invalidRequest });
    throw admitted.error;
  }
  if (!inspected.ok) {
    auditRefusal(c, 'mcp_messages', inspected);
    throw inspected.error;
  }
  const search = requestUrl(c).search;
  // Crawl4AI mounts the SSE message endpoint at `/mcp/messages/`.
  let res: Response;
  try {
    res = await forwardToOrigin(c, {
      method: 'POST',
      path: '/mcp/messages/',
      search,
      body: inspected.message,
      contentType: 'application/json',
    });
  } catch (err) {
    await Promise.all(admitted.leases.map((l) => l.release()));
    throw err;
  }
  // The answer arrives on the SSE stream (which releases the lease, see bindSessionIds); a refused post has none.
  if (!res.ok) await Promise.all(admitted.leases.map((l) => l.release()));
  return res;
}

mcpRouter.openapi(mcpMessagesRoute, (c) => relayMcpMessage(c));
mcpRouter.openapi(mcpMessagesSlashRoute, (c) => relayMcpMessage(c));

/**
 * The lease of an SSE tool call is named by its session and JSON-RPC id, so the SSE stream that
 * carries the answer can release it. Long or absent ids get a random name (released by the TTL).
 */
function sseLeaseId(session: string, id: unknown): string {
  return leaseIdFor(session, id === undefined ? '' : JSON.stringify(id));
}

/** The lease id of a call whose id is written `idJson` (JSON text; '' for none). */
function leaseIdFor(session: string, idJson: string): string {
  return idJson && idJson.length <= 128 ? `mcp:${session}:${idJson}` : crypto.randomUUID();
}

mcpRouter.openapi(mcpWsRoute, async (c) => {
  needOrigin(c);
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') {
    throw new GatewayError('bad_request', 'This endpoint needs a WebSocket upgrade (Upgrade: websocket)');
  }
  audit(c, { action: 'crawl_requested', outcome: 'success', details: { route: 'mcp_ws', engine: 'origin', urls: 0 } });
  const ctx = policyContext(c); // fixed at the handshake: the socket acts for this principal only
  const limiter = new McpLimiter(c);
  const pending = new PendingToolCalls();
  return proxyWebSocket(
    c,
    '/mcp/ws',
    {
      inspect: async (text) => {
        const r = inspectMcpMessage(text, ctx);
        // Only tool calls are charged on the socket: the upgrade already paid for the session.
        if (!r.ok || r.calls.length === 0) return r;
        const admitted = await limiter.admitMessage(r.calls);
        if (!admitted.ok)
          return { ok: false, error: admitted.error, id: r.calls.length === 1 ? (r.calls[0]?.id ?? null) : null, rpcCode: RPC.refused };
        pending.add(admitted.leases);
        return r;
      },
      refused: (r) => auditRefusal(c, 'mcp_ws', r),
      fromOrigin: (data) => pending.answered(data),
      ended: () => pending.releaseAll(),
    },
    { ...DEFAULT_SOCKET_LIMITS, maxMessageBytes: c.get('config').MAX_BODY_BYTES },
  );
});
