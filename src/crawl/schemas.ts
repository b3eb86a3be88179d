/**
 * Request and response schemas in Crawl4AI's Docker API shapes (deploy/docker/schemas.py), so
 * its clients work unchanged. They document the routes and check the top level; every field,
 * nested ones included, is then checked against the crawl-option allow-list (options/table.ts),
 * which refuses anything it does not list with 422 and its JSON path.
 */
import { z } from '@hono/zod-openapi';
import { MIN_WEBHOOK_SECRET_LENGTH } from '../webhooks/sign';
import { WEBHOOK_EVENTS } from '../webhooks/events';
import { MAX_RAW_HTML_CHARS } from '../engines/raw-html';

const MAX_URL_CHARS = 8192;

/** Crawl4AI's `{type, params}` config objects (`BrowserConfig`, `CrawlerRunConfig`). */
export const ConfigObjectSchema = z
  .object({
    type: z.string().max(100).optional(),
    params: z.record(z.string(), z.unknown()).optional(),
  })
  .catchall(z.unknown())
  .openapi('Crawl4AIConfig', { example: { type: 'CrawlerRunConfig', params: { cache_mode: 'bypass' } } });

const engine = z.enum(['browser', 'fetch']).optional().openapi({ description: 'Crawl at the edge instead of forwarding to ORIGIN_URL' });
const url = z.string().min(1).max(MAX_URL_CHARS);
/** A URL or Crawl4AI `raw:` HTML (the crawl-option policy bounds each form: 8192 for URLs, edge/raw-html.ts for HTML). */
const target = z.string().min(1).max(MAX_RAW_HTML_CHARS);

export const HookConfigSchema = z.object({
  hooks: z
    .array(z.object({ action: z.string(), params: z.record(z.string(), z.unknown()).optional() }))
    .max(10)
    .optional()
    .openapi({ description: 'Crawl4AI 0.9 declarative hook actions (add_cookies / set_headers need crawl:headers)' }),
  code: z.record(z.string(), z.string()).optional().openapi({ description: 'Crawl4AI ≤ 0.8 Python hooks: needs crawl:js' }),
  timeout: z.number().int().min(1).max(120).optional(),
});

/** The gateway job's webhook, one schema for `POST /jobs` and `POST /crawl/job` (docs/jobs.md). */
export const JobWebhookSchema = z
  .strictObject({
    url: z.string().max(2048),
    secret: z
      .string()
      .min(MIN_WEBHOOK_SECRET_LENGTH)
      .max(256)
      .openapi({ description: 'HMAC-SHA-256 key for X-Crawlgate-Signature; stored sealed (AES-GCM), never in clear' }),
    events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(4).optional(),
  })
  .openapi('JobWebhook');

export const CrawlRequestSchema = z
  .object({
    urls: z
      .array(target)
      .min(1)
      .max(10_000)
      .openapi({ example: ['https://example.com'] }),
    browser_config: ConfigObjectSchema.optional(),
    crawler_config: ConfigObjectSchema.optional(),
    hooks: HookConfigSchema.optional().openapi({ description: 'Runs code on the crawler: needs crawl:js' }),
    engine,
  })
  .catchall(z.unknown())
  .openapi('CrawlRequest');

export const CrawlJobRequestSchema = CrawlRequestSchema.extend({
  webhook_config: z
    .object({
      webhook_url: url,
      webhook_data_in_payload: z.boolean().optional(),
      webhook_headers: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  webhook: JobWebhookSchema.optional().openapi({
    description: 'Only for jobs the gateway runs (no ORIGIN_URL, or an `engine`): as on POST /jobs',
  }),
}).openapi('CrawlJobRequest');

export const MarkdownRequestSchema = z
  .object({
    url: target,
    f: z.enum(['fit', 'raw', 'bm25', 'llm']).optional(),
    q: z.string().max(2000).nullable().optional(),
    c: z.string().max(100).nullable().optional(),
    provider: z.string().max(200).nullable().optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    base_url: url.nullable().optional(),
    engine,
  })
  .catchall(z.unknown())
  .openapi('MarkdownRequest');

export const HtmlRequestSchema = z.object({ url: target, engine }).catchall(z.unknown()).openapi('HTMLRequest');

export const ScreenshotRequestSchema = z
  .object({ url, screenshot_wait_for: z.number().min(0).max(60).nullable().optional(), engine })
  .catchall(z.unknown())
  .openapi('ScreenshotRequest');

export const PdfRequestSchema = z.object({ url, engine }).catchall(z.unknown()).openapi('PDFRequest');

export const ExecuteJsRequestSchema = z
  .object({ url, scripts: z.array(z.string().max(100_000)).min(1).max(50), engine })
  .catchall(z.unknown())
  .openapi('JSEndpointRequest');

export const TaskIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'must be a task id');

/** Results pass through from the origin; documented loosely so new Crawl4AI fields never break. */
export const CrawlResponseSchema = z
  .object({ success: z.boolean(), results: z.array(z.record(z.string(), z.unknown())) })
  .catchall(z.unknown())
  .openapi('CrawlResponse');

export const AnyJsonSchema = z.record(z.string(), z.unknown()).openapi('Crawl4AIResponse');

export const TaskAcceptedSchema = z.object({ task_id: z.string() }).catchall(z.unknown()).openapi('TaskAccepted');
