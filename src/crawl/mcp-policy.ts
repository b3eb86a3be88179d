/**
 * MCP tool calls get the same policy as the HTTP routes (pure apart from the policy call): a
 * Crawl4AI MCP tool is a proxy for its HTTP endpoint, run by the origin with the gateway's own
 * credential, so without this a `crawl:run` caller could reach `execute_js`, hooks or a private
 * URL through `/mcp/messages` or `/mcp/ws`. JSON-RPC 2.0 messages (single or batched).
 */
import { GatewayError } from '../http/errors';
import type { CrawlRoute, PolicyContext } from './policy';
import { decideCrawlPolicy } from './policy';

/** Crawl4AI's MCP tools (server.py `@mcp_tool`) → the route whose policy applies. */
const TOOL_ROUTES: Record<string, CrawlRoute | null> = {
  crawl: 'crawl',
  md: 'md',
  html: 'html',
  screenshot: 'screenshot',
  pdf: 'pdf',
  execute_js: 'execute_js',
  ask: null, // library documentation search: no target URL, no code
};

export type McpInspection = { ok: true; message: string } | { ok: false; error: GatewayError; id: unknown };

function inspectOne(msg: unknown, ctx: PolicyContext): unknown {
  if (!msg || typeof msg !== 'object') return msg;
  const m = msg as { method?: unknown; params?: { name?: unknown; arguments?: unknown } };
  if (m.method !== 'tools/call') return msg;
  const name = typeof m.params?.name === 'string' ? m.params.name : '';
  if (!Object.hasOwn(TOOL_ROUTES, name)) throw new GatewayError('forbidden', `The MCP tool "${name}" is not available through the gateway`);
  const route = TOOL_ROUTES[name];
  const args = m.params?.arguments && typeof m.params.arguments === 'object' ? (m.params.arguments as Record<string, unknown>) : {};
  if (route === null || route === undefined) return msg;
  const decision = decideCrawlPolicy(route, args, ctx);
  return { ...m, params: { ...m.params, arguments: decision.body } };
}

/**
 * Checks one client→origin MCP message. Returns the (possibly rewritten) text to forward, or the
 * refusal with the JSON-RPC id it answers. Non-JSON text is passed through untouched: the origin's
 * own parser refuses it, and it cannot name a tool.
 */
export function inspectMcpMessage(text: string, ctx: PolicyContext): McpInspection {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: true, message: text };
  }
  const id = Array.isArray(parsed) ? null : (parsed as { id?: unknown } | null)?.id ?? null;
  try {
    const out = Array.isArray(parsed) ? parsed.map((x) => inspectOne(x, ctx)) : inspectOne(parsed, ctx);
    return { ok: true, message: out === parsed ? text : JSON.stringify(out) };
  } catch (err) {
    if (err instanceof GatewayError) return { ok: false, error: err, id };
    throw err;
  }
}

/** A JSON-RPC error answer for a refused message (sent back over the WebSocket). */
export function jsonRpcRefusal(id: unknown, err: GatewayError): string {
  return JSON.stringify({ jsonrpc: '2.0', id: id ?? null, error: { code: -32001, message: err.message, data: { code: err.code } } });
}
