/**
 * MCP messages under the HTTP rules (pure apart from the policy call). A Crawl4AI MCP tool is a
 * proxy for its HTTP endpoint, run by the origin with its own credential, so each client message
 * is read with the strict JSON reader, checked as a JSON-RPC 2.0 message with an allow-listed
 * method, its `tools/call` arguments checked against the crawl-option table like the matching
 * HTTP body and shaped for the origin's release (`ORIGIN_PROFILE`) like it, and forwarded as the
 * gateway's own serialisation. A text the gateway cannot read is
 * never forwarded (issue #16: Python's `json` accepts texts `JSON.parse` refuses).
 */
import { GatewayError } from '../http/errors';
import { parseStrictJson } from '../lib/strict-json';
import type { CrawlRoute, PolicyContext } from './policy';
import { decideCrawlPolicy } from './policy';
import type { BodyShape } from './options/table';
import { applyOriginProfile, type OriginProfile } from './options/origin-profile';
import { jsonBodyError } from '../http/request-body';

/** Crawl4AI's MCP tools (server.py `@mcp_tool`) → the route whose permission and body shape apply. */
const TOOLS: Record<string, { route: CrawlRoute; shape: BodyShape }> = {
  crawl: { route: 'crawl', shape: 'crawl' },
  md: { route: 'md', shape: 'md' },
  html: { route: 'html', shape: 'html' },
  screenshot: { route: 'screenshot', shape: 'screenshot' },
  pdf: { route: 'pdf', shape: 'pdf' },
  execute_js: { route: 'execute_js', shape: 'execute_js' },
  ask: { route: 'md', shape: 'ask' }, // library documentation search: crawl:run, no target URL
};

/** Client → server methods of MCP (2025-06-18); anything else is refused rather than forwarded. */
const METHODS = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/roots/list_changed',
]);

const MAX_BATCH = 20;

/** JSON-RPC 2.0 error codes (§5.1) plus the gateway's policy refusal. */
export const RPC = { parse: -32700, invalidRequest: -32600, methodNotFound: -32601, invalidParams: -32602, refused: -32001 } as const;

/** What the rate limits need to know about a message: the tool calls it makes and their URLs. */
export interface ToolCallInfo {
  tool: string;
  route: CrawlRoute;
  urls: number;
  /** The call's JSON-RPC id (undefined for a notification): its answer releases the call's lease. */
  id?: unknown;
}

export type McpInspection =
  | { ok: true; message: string; calls: ToolCallInfo[] }
  | { ok: false; error: GatewayError; id: unknown; rpcCode: number };

class Refusal extends Error {
  constructor(
    readonly error: GatewayError,
    readonly rpcCode: number,
  ) {
    super(error.message);
  }
}

function invalid(path: string, message: string, rpcCode: number = RPC.invalidRequest): Refusal {
  return new Refusal(
    new GatewayError('validation_failed', `Invalid MCP message: ${path}: ${message}`, { extras: { errors: [{ path, message }] } }),
    rpcCode,
  );
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isId = (v: unknown) => v === null || typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));

/** One JSON-RPC message → the message to forward (rebuilt), recording its tool calls. */
function checkOne(msg: unknown, path: string, ctx: McpPolicyContext, calls: ToolCallInfo[]): Record<string, unknown> {
  if (!isPlain(msg) || msg.jsonrpc !== '2.0') throw invalid(path, 'must be a JSON-RPC 2.0 object');
  if (Object.hasOwn(msg, 'id') && !isId(msg.id)) throw invalid(`${path}.id`, 'must be a string, an integer or null');
  if (!Object.hasOwn(msg, 'method')) {
    // A response to a server request (sampling, roots, elicitation): data for the origin only.
    const extra = Object.keys(msg).filter((k) => !['jsonrpc', 'id', 'result', 'error'].includes(k));
    if (extra.length > 0 || Object.hasOwn(msg, 'result') === Object.hasOwn(msg, 'error'))
      throw invalid(path, 'must be a request, a notification or a response');
    return { ...msg };
  }
  const extra = Object.keys(msg).filter((k) => !['jsonrpc', 'id', 'method', 'params'].includes(k));
  if (extra.length > 0) throw invalid(`${path}.${extra[0]}`, 'unknown member');
  if (typeof msg.method !== 'string' || !METHODS.has(msg.method))
    throw invalid(`${path}.method`, 'method not available through the gateway', RPC.methodNotFound);
  if (Object.hasOwn(msg, 'params') && !isPlain(msg.params)) throw invalid(`${path}.params`, 'must be an object', RPC.invalidParams);
  if (msg.method !== 'tools/call') return { ...msg };
  const params = (msg.params ?? {}) as Record<string, unknown>;
  const pextra = Object.keys(params).filter((k) => !['name', 'arguments', '_meta'].includes(k));
  if (pextra.length > 0) throw invalid(`${path}.params.${pextra[0]}`, 'unknown member', RPC.invalidParams);
  const name = typeof params.name === 'string' ? params.name : '';
  const tool = Object.hasOwn(TOOLS, name) ? TOOLS[name] : undefined;
  if (!tool) throw new Refusal(new GatewayError('forbidden', `The MCP tool "${name}" is not available through the gateway`), RPC.refused);
  const args = params.arguments ?? {};
  if (!isPlain(args)) throw invalid(`${path}.params.arguments`, 'must be an object', RPC.invalidParams);
  let decision;
  let toOrigin: Record<string, unknown>;
  try {
    decision = decideCrawlPolicy(tool.route, args, ctx, tool.shape);
    // The origin's own release reads the arguments next: shape them for it as the HTTP routes do.
    toOrigin = applyOriginProfile(ctx.originProfile, tool.shape, decision.body, ctx.permissions);
  } catch (err) {
    if (err instanceof GatewayError)
      throw new Refusal(err, err.code === 'validation_failed' || err.code === 'origin_refuses_field' ? RPC.invalidParams : RPC.refused);
    throw err;
  }
  calls.push({ tool: name, route: tool.route, urls: decision.urls.length, ...(Object.hasOwn(msg, 'id') ? { id: msg.id } : {}) });
  return { ...msg, params: { ...params, arguments: toOrigin } };
}

/** The crawl policy's context plus the origin's release (`ORIGIN_PROFILE`), which reads the arguments after us. */
export interface McpPolicyContext extends PolicyContext {
  originProfile: OriginProfile;
}

/**
 * Checks one client → origin MCP message. Returns the text to forward (the gateway's own
 * serialisation) and its tool calls, or the refusal with the JSON-RPC id it answers.
 */
export function inspectMcpMessage(text: string, ctx: McpPolicyContext): McpInspection {
  const parsed = parseStrictJson(text);
  if (!parsed.ok) return { ok: false, error: jsonBodyError(parsed), id: null, rpcCode: RPC.parse };
  const value = parsed.value;
  const id = isPlain(value) && isId(value.id) ? value.id : null;
  const calls: ToolCallInfo[] = [];
  try {
    let out: unknown;
    if (Array.isArray(value)) {
      if (value.length === 0 || value.length > MAX_BATCH) throw invalid('$', `a batch holds 1 to ${MAX_BATCH} messages`);
      out = value.map((m, i) => checkOne(m, `$[${i}]`, ctx, calls));
    } else {
      out = checkOne(value, '$', ctx, calls);
    }
    return { ok: true, message: JSON.stringify(out), calls };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, error: err.error, id, rpcCode: err.rpcCode };
    throw err;
  }
}

/** A JSON-RPC error answer for a refused message (sent back over the WebSocket). */
export function jsonRpcRefusal(id: unknown, err: GatewayError, rpcCode: number = RPC.refused, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: id ?? null,
    error: { code: rpcCode, message: err.message, data: { code: err.code, ...extra } },
  });
}
