/**
 * Request and response schemas in Crawl4AI's Docker API shapes (deploy/docker/schemas.py), so
 * its clients work unchanged. Unknown fields Crawl4AI may add later pass through the schema; the
 * policy (policy.ts) then refuses identity-changing and file-writing ones and checks URLs.
 */
import { z } from '@hono/zod-openapi';

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

export const HookConfigSchema = z.object({
  code: z.record(z.string(), z.string()),
  timeout: z.number().int().min(1).max(120).optional(),
});

export const CrawlRequestSchema = z
  .object({
    urls: z.array(url).min(1).max(10_000).openapi({ example: ['https://example.com'] }),
    browser_config: ConfigObjectSchema.optional(),
    crawler_config: ConfigObjectSchema.optional(),
    hooks: HookConfigSchema.optional().openapi({ description: 'Runs code on the crawler: needs crawl:js' }),
    engine,
  })
  .catchall(z.unknown())
  .openapi('CrawlRequest');

export const CrawlJobRequestSchema = CrawlRequestSchema.extend({
  webhook_config: z
    .object({ webhook_url: url, webhook_data_in_payload: z.boolean().optional(), webhook_headers: z.record(z.string(), z.string()).optional() })
    .optional(),
}).openapi('CrawlJobRequest');

export const MarkdownRequestSchema = z
  .object({
    url,
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

export const HtmlRequestSchema = z.object({ url, engine }).catchall(z.unknown()).openapi('HTMLRequest');

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
