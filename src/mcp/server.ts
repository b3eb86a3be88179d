/**
 * The MCP server behind `POST /mcp` (Streamable HTTP, MCP 2025-11-25): the SDK's low-level `Server`
 * and its Web-standard transport, built per request in stateless mode with JSON responses.
 *
 * Why stateless: a Worker request may land on any isolate in any location, and the SDK keeps a
 * stateful session in memory; a session that only one isolate knows would break on the next
 * request. Nothing the tools do needs server-side session state (every tool call is one HTTP route),
 * so each POST gets a fresh server + transport, and the session is a signed id
 * (src/mcp/session.ts) checked on every request without storage.
 *
 * Charging: the `/mcp` POST itself is not counted by the principal rate-limit middleware
 * (src/ratelimit/policy.ts `isMcpMessageRoute`); a post that only carries tool calls is paid by
 * the tool calls' own route requests (weight = URLs, plus a lease), and any other post (initialize,
 * tools/list, notifications, unknown tools) costs 1 here, like an HTTP request. So one tool call
 * costs exactly what its HTTP route costs — never twice.
 */
import type { Context } from 'hono';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import type { AppEnv } from '../env';
import { audit } from '../audit/audit';
import { McpLimiter } from '../crawl/mcp-limits';
import { VERSION } from '../version';
import { listedTools, TOOL_BY_NAME } from './tools';
import { dispatchRoute, innerRequestId, type AppDispatcher } from './dispatch';
import { toolResult } from './results';

/** The server never validates client-supplied schemas (no elicitation); fail closed if asked. */
const NO_SCHEMA_VALIDATION: jsonSchemaValidator = {
  getValidator: () => () => ({ valid: false, data: undefined, errorMessage: 'schema validation is not offered by this server' }),
};

const INSTRUCTIONS =
  'crawlgate: crawl web pages through the gateway. Every tool is one gateway HTTP route and is bound by your key or grant: ' +
  'permissions, rate limits, budgets and the crawl-option policy. A refused call is a tool error naming the reason and when to retry.';

type Message = { method?: unknown; params?: unknown };

/** Messages of a POST body (a JSON-RPC message or a batch). */
export function messagesOf(body: unknown): Message[] {
  const list = Array.isArray(body) ? body : [body];
  return list.filter((m): m is Message => m !== null && typeof m === 'object');
}

/** True when the post holds only calls to known tools: each pays through its own route request. */
export function paidByToolCalls(messages: readonly Message[]): boolean {
  return (
    messages.length > 0 &&
    messages.every((m) => {
      if (m.method !== 'tools/call' || !m.params || typeof m.params !== 'object') return false;
      const name = (m.params as { name?: unknown }).name;
      return typeof name === 'string' && TOOL_BY_NAME.has(name);
    })
  );
}

/** Charges a post that no tool call pays for (1, like an HTTP request); throws the 429/503 when refused. */
export async function chargeProtocolMessage(c: Context<AppEnv>, messages: readonly Message[]): Promise<void> {
  if (paidByToolCalls(messages)) return;
  const admitted = await new McpLimiter(c).admitMessage([]);
  if (!admitted.ok) throw admitted.error;
}

function buildServer(c: Context<AppEnv>, app: AppDispatcher): Server {
  const server = new Server(
    { name: 'crawlgate', title: 'crawlgate', version: VERSION },
    { capabilities: { tools: { listChanged: false } }, instructions: INSTRUCTIONS, jsonSchemaValidator: NO_SCHEMA_VALIDATION },
  );
  let seq = 0;
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listedTools() }));
  server.setRequestHandler(CallToolRequestSchema, async (req): Promise<CallToolResult> => {
    const tool = TOOL_BY_NAME.get(req.params.name);
    // MCP "Tools" §error handling: an unknown tool is a protocol error, not a tool result.
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${req.params.name.slice(0, 100)}`);
    const args = (req.params.arguments ?? {}) as Record<string, unknown>;
    const n = ++seq;
    const res = await dispatchRoute(c, app, tool.route(args), n);
    const result = await toolResult(tool, args, res);
    audit(c, {
      action: 'mcp_tool_called',
      outcome:
        res.ok && !result.isError
          ? 'success'
          : res.status === 401 || res.status === 403 || res.status === 429 || res.status === 402
            ? 'denied'
            : 'failure',
      status: res.status,
      reason: result.isError ? String((result.structuredContent as { code?: unknown } | undefined)?.code ?? 'tool_error') : undefined,
      details: { tool: tool.name, route: tool.route(args).path.split('?')[0], inner_request_id: innerRequestId(c.get('requestId'), n) },
    });
    return result;
  });
  return server;
}

/** Answers one `POST /mcp` with the SDK transport (JSON responses, no session state kept). */
export async function serveMcpPost(c: Context<AppEnv>, app: AppDispatcher, body: unknown): Promise<Response> {
  const server = buildServer(c, app);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  try {
    return await transport.handleRequest(c.req.raw, { parsedBody: body });
  } finally {
    // JSON mode: the answer is complete once handleRequest resolves; nothing outlives the request.
    void server.close().catch(() => {});
  }
}
