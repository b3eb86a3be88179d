/**
 * The MCP tools the gateway serves at `/mcp` (API.md "MCP at the edge"), each one a gateway route:
 * its input schema is that route's zod schema (src/crawl/schemas.ts) as JSON Schema, and a call is
 * the route's HTTP request (src/mcp/dispatch.ts), so the tool has no rules of its own. Pure: no I/O.
 */
import { z } from '@hono/zod-openapi';
import type { Permission } from '../auth/rbac';
import {
  CrawlJobRequestSchema,
  CrawlRequestSchema,
  ExecuteJsRequestSchema,
  HtmlRequestSchema,
  MarkdownRequestSchema,
  PdfRequestSchema,
  ScreenshotRequestSchema,
  TaskIdSchema,
} from '../crawl/schemas';
import { JOB_ID } from '../jobs/job-index';

/** The HTTP request a tool call becomes. */
export interface RouteCall {
  method: 'GET' | 'POST';
  path: string;
  body?: Record<string, unknown>;
}

export interface ToolSpec {
  name: string;
  title: string;
  description: string;
  /** The route's permission (the route checks it; listed here for the docs and `/mcp/schema`). */
  permission: Permission;
  input: z.ZodType;
  /** The route request this call becomes (the route validates the arguments: a bad one is its 422, a tool error). */
  route(args: Record<string, unknown>): RouteCall;
  /** Tool-result shape for a successful answer. */
  result: 'json' | 'markdown' | 'html' | 'image' | 'pdf';
  readOnly: boolean;
}

const JobStatusInput = z.object({ task_id: TaskIdSchema }).strict();
const JobResultsInput = z
  .object({
    task_id: TaskIdSchema,
    cursor: z
      .string()
      .regex(/^\d{1,6}$/)
      .optional()
      .openapi({ description: 'next_cursor of the previous page' }),
    limit: z.number().int().min(1).max(500).optional(),
  })
  .strict();

const post =
  (path: string) =>
  (args: Record<string, unknown>): RouteCall => ({ method: 'POST', path, body: args });

export const TOOLS: readonly ToolSpec[] = [
  {
    name: 'crawl',
    title: 'Crawl URLs',
    permission: 'crawl:run',
    input: CrawlRequestSchema,
    route: post('/crawl'),
    result: 'json',
    readOnly: true,
    description: 'Crawl one or more URLs (POST /crawl). Returns {success, results:[CrawlResult]} with markdown, links, metadata.',
  },
  {
    name: 'md',
    title: 'Page as Markdown',
    permission: 'crawl:run',
    input: MarkdownRequestSchema,
    route: post('/md'),
    result: 'markdown',
    readOnly: true,
    description: 'Markdown of one page (POST /md). f: fit|raw|bm25|llm filter, q: query for bm25/llm.',
  },
  {
    name: 'html',
    title: 'Page as HTML',
    permission: 'crawl:run',
    input: HtmlRequestSchema,
    route: post('/html'),
    result: 'html',
    readOnly: true,
    description: 'Preprocessed HTML of one page (POST /html).',
  },
  {
    name: 'screenshot',
    title: 'Screenshot',
    permission: 'crawl:screenshot',
    input: ScreenshotRequestSchema,
    route: post('/screenshot'),
    result: 'image',
    readOnly: true,
    description: 'Full-page PNG screenshot of one page (POST /screenshot; needs crawl:screenshot).',
  },
  {
    name: 'pdf',
    title: 'PDF',
    permission: 'crawl:pdf',
    input: PdfRequestSchema,
    route: post('/pdf'),
    result: 'pdf',
    readOnly: true,
    description: 'PDF rendering of one page (POST /pdf; needs crawl:pdf).',
  },
  {
    name: 'execute_js',
    title: 'Run JavaScript on a page',
    permission: 'crawl:js',
    input: ExecuteJsRequestSchema,
    route: post('/execute_js'),
    result: 'json',
    readOnly: false,
    description: 'Run scripts on a page and return its CrawlResult (POST /execute_js; needs crawl:js, which no default role grants).',
  },
  {
    name: 'job_submit',
    title: 'Submit a crawl job',
    permission: 'jobs:write',
    input: CrawlJobRequestSchema,
    route: post('/crawl/job'),
    result: 'json',
    readOnly: false,
    description: 'Queue a crawl (POST /crawl/job); returns {task_id}. Poll with job_status, read pages with job_results.',
  },
  {
    name: 'job_status',
    title: 'Job status',
    permission: 'jobs:read',
    input: JobStatusInput,
    result: 'json',
    readOnly: true,
    route: (a) => ({ method: 'GET', path: `/crawl/job/${encodeURIComponent(String(a.task_id))}` }),
    description: 'Status (and, for origin tasks, the result) of one of your jobs (GET /crawl/job/{task_id}).',
  },
  {
    name: 'job_results',
    title: 'Job results',
    permission: 'jobs:read',
    input: JobResultsInput,
    result: 'json',
    readOnly: true,
    route: (a) => {
      const id = String(a.task_id);
      // Gateway jobs page their results; an origin task carries its result in its status.
      if (!JOB_ID.test(id)) return { method: 'GET', path: `/crawl/job/${encodeURIComponent(id)}` };
      const q = new URLSearchParams();
      if (typeof a.cursor === 'string') q.set('cursor', a.cursor);
      if (typeof a.limit === 'number') q.set('limit', String(a.limit));
      const search = q.size ? `?${q}` : '';
      return { method: 'GET', path: `/jobs/${id}/results${search}` };
    },
    description: 'Result pages of one of your jobs (GET /jobs/{id}/results, {results, next_cursor}).',
  },
];

export const TOOL_BY_NAME: ReadonlyMap<string, ToolSpec> = new Map(TOOLS.map((t) => [t.name, t]));

/** A tool as `tools/list` and `/mcp/schema` show it (JSON Schema computed once per isolate). */
export interface ListedTool {
  name: string;
  title: string;
  description: string;
  inputSchema: { type: 'object'; [k: string]: unknown };
  annotations: { title: string; readOnlyHint: boolean; openWorldHint: true };
  _meta: { 'crawlgate/permission': Permission };
}

let listed: ListedTool[] | null = null;

/** The tool list with input schemas from the HTTP API's zod schemas (zod's JSON Schema, the request side). */
export function listedTools(): ListedTool[] {
  listed ??= TOOLS.map((t) => {
    const { $schema: _drop, ...schema } = z.toJSONSchema(t.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    return {
      name: t.name,
      title: t.title,
      description: t.description,
      inputSchema: { ...schema, type: 'object' },
      annotations: { title: t.title, readOnlyHint: t.readOnly, openWorldHint: true },
      _meta: { 'crawlgate/permission': t.permission },
    };
  });
  return listed;
}
