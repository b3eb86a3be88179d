/**
 * A route's HTTP answer as an MCP tool result. A refusal (any non-2xx problem) is a tool error
 * (`isError: true`, MCP "Tools" §error handling) that names the reason and, when the gateway gave
 * one, when to retry — so the model can act on it — with the problem fields as structured content.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ToolSpec } from './tools';

/** What a refusal tells the client, from the route's problem JSON and headers. */
export interface ToolRefusal {
  status: number;
  code: string;
  detail: string;
  retry_after_seconds?: number;
  required?: unknown;
  errors?: unknown;
}

async function readJson(res: Response): Promise<Record<string, unknown> | null> {
  try {
    const v: unknown = JSON.parse(await res.text());
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The refusal's parts (pure apart from reading the body). */
export async function refusalOf(res: Response): Promise<ToolRefusal> {
  const body = (await readJson(res)) ?? {};
  const out: ToolRefusal = {
    status: res.status,
    code: typeof body.code === 'string' ? body.code : `http_${res.status}`,
    detail: typeof body.detail === 'string' ? body.detail : `The route answered HTTP ${res.status}`,
  };
  const retry = Number(res.headers.get('Retry-After'));
  if (res.headers.has('Retry-After') && Number.isFinite(retry) && retry >= 0) out.retry_after_seconds = retry;
  if (body.required !== undefined) out.required = body.required;
  if (body.errors !== undefined) out.errors = body.errors;
  return out;
}

/** A tool error naming the reason and the retry time. */
export function refusalResult(r: ToolRefusal): CallToolResult {
  const retry = r.retry_after_seconds !== undefined ? ` Retry after ${r.retry_after_seconds} s.` : '';
  return {
    isError: true,
    content: [{ type: 'text', text: `${r.code} (HTTP ${r.status}): ${r.detail}${retry}` }],
    structuredContent: { ...r },
  };
}

/** The tool result for an answer; refusals become tool errors. */
export async function toolResult(tool: ToolSpec, args: Record<string, unknown>, res: Response): Promise<CallToolResult> {
  if (!res.ok) return refusalResult(await refusalOf(res));
  const body = await readJson(res);
  if (!body)
    return refusalResult({ status: 502, code: 'origin_unavailable', detail: 'The route answered something other than a JSON object' });
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  switch (tool.result) {
    case 'markdown':
      return { content: [{ type: 'text', text: text(body.markdown) }], structuredContent: body };
    case 'html':
      return { content: [{ type: 'text', text: text(body.html) }], structuredContent: body };
    case 'image': {
      const data = text(body.screenshot);
      if (!data)
        return refusalResult({ status: 502, code: 'crawl_failed', detail: text(body.error_message) || 'The page could not be captured' });
      return { content: [{ type: 'image', data, mimeType: 'image/png' }] };
    }
    case 'pdf': {
      const blob = text(body.pdf);
      if (!blob)
        return refusalResult({ status: 502, code: 'crawl_failed', detail: text(body.error_message) || 'The page could not be printed' });
      return { content: [{ type: 'resource', resource: { uri: text(args.url) || 'about:blank', mimeType: 'application/pdf', blob } }] };
    }
    default:
      return { content: [{ type: 'text', text: JSON.stringify(body) }], structuredContent: body };
  }
}
