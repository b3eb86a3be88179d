/**
 * Crawl4AI-compatible crawl routes (shared/API.md "Crawling"). Each route authenticates and checks
 * its permission before the body is read (`protectedRoute`), the strict JSON reader parses the body
 * once (`strictJsonBody`), then one service call answers: `handleCrawl` (policy → origin or edge
 * engine) or the task services in ./crawl-job.ts.
 */
import { z } from '@hono/zod-openapi';
import { jsonBody, createRouter, problemResponses, protectedRoute } from '../http/openapi';
import {
  AnyJsonSchema,
  CrawlJobRequestSchema,
  CrawlRequestSchema,
  CrawlResponseSchema,
  ExecuteJsRequestSchema,
  HtmlRequestSchema,
  MarkdownRequestSchema,
  PdfRequestSchema,
  ScreenshotRequestSchema,
  TaskAcceptedSchema,
  TaskIdSchema,
} from './schemas';
import { handleCrawl, passThrough } from './handle';
import { strictBody, strictJsonBody } from './strict-body';
import { crawlJobStatus, submitCrawlJob } from './crawl-job';

const tags = ['Crawling'];
const ERRORS = problemResponses(400, 401, 403, 413, 422, 429, 502, 503, 504);
/** The crawler's answer, in Crawl4AI's shape. */
const answer = (schema: z.ZodType = AnyJsonSchema, mediaType = 'application/json') => ({
  200: { description: "The crawler's answer (Crawl4AI shape)", content: { [mediaType]: { schema } } },
  ...ERRORS,
});

const crawlRoute = protectedRoute({
  method: 'post',
  path: '/crawl',
  tags,
  summary: 'Crawl URLs; results as JSON',
  permission: 'crawl:run',
  middleware: [strictJsonBody('/crawl')],
  request: jsonBody(CrawlRequestSchema),
  responses: answer(CrawlResponseSchema),
});

const crawlStreamRoute = protectedRoute({
  method: 'post',
  path: '/crawl/stream',
  tags,
  summary: 'Crawl URLs; one NDJSON result a line',
  permission: 'crawl:run',
  middleware: [strictJsonBody('/crawl/stream')],
  request: jsonBody(CrawlRequestSchema),
  responses: answer(AnyJsonSchema, 'application/x-ndjson'),
});

const markdownRoute = protectedRoute({
  method: 'post',
  path: '/md',
  tags,
  summary: 'Markdown of one page',
  permission: 'crawl:run',
  middleware: [strictJsonBody('/md')],
  request: jsonBody(MarkdownRequestSchema),
  responses: answer(),
});

const htmlRoute = protectedRoute({
  method: 'post',
  path: '/html',
  tags,
  summary: 'Preprocessed HTML of one page',
  permission: 'crawl:run',
  middleware: [strictJsonBody('/html')],
  request: jsonBody(HtmlRequestSchema),
  responses: answer(),
});

const screenshotRoute = protectedRoute({
  method: 'post',
  path: '/screenshot',
  tags,
  summary: 'Full-page PNG (base64)',
  permission: 'crawl:screenshot',
  middleware: [strictJsonBody('/screenshot')],
  request: jsonBody(ScreenshotRequestSchema),
  responses: answer(),
});

const pdfRoute = protectedRoute({
  method: 'post',
  path: '/pdf',
  tags,
  summary: 'PDF of one page (base64)',
  permission: 'crawl:pdf',
  middleware: [strictJsonBody('/pdf')],
  request: jsonBody(PdfRequestSchema),
  responses: answer(),
});

const executeJsRoute = protectedRoute({
  method: 'post',
  path: '/execute_js',
  tags,
  summary: 'Run scripts on a page; returns its CrawlResult',
  permission: 'crawl:js',
  middleware: [strictJsonBody('/execute_js')],
  request: jsonBody(ExecuteJsRequestSchema),
  responses: answer(),
});

const crawlJobRoute = protectedRoute({
  method: 'post',
  path: '/crawl/job',
  tags,
  summary: 'Queue a crawl on the origin; the task belongs to the caller',
  permission: 'jobs:write',
  middleware: [strictJsonBody('/crawl/job')],
  request: jsonBody(CrawlJobRequestSchema),
  responses: { 202: { description: 'Queued', content: { 'application/json': { schema: TaskAcceptedSchema } } }, ...ERRORS },
});

const crawlJobStatusRoute = protectedRoute({
  method: 'get',
  path: '/crawl/job/{task_id}',
  tags,
  summary: "Status and result of one of the caller's tasks",
  permission: 'jobs:read',
  request: { params: z.object({ task_id: TaskIdSchema }) },
  responses: {
    200: { description: 'Task status (Crawl4AI shape)', content: { 'application/json': { schema: AnyJsonSchema } } },
    ...problemResponses(401, 403, 404, 422, 429, 502, 503, 504),
  },
});

export const crawlRouter = createRouter()
  .openapi(crawlRoute, (c) => handleCrawl(c, strictBody(c), { route: 'crawl', originPath: '/crawl', fallback: 'fetch' }))
  .openapi(crawlStreamRoute, (c) =>
    handleCrawl(c, strictBody(c), { route: 'crawl', originPath: '/crawl/stream', fallback: 'fetch', stream: true }),
  )
  .openapi(markdownRoute, (c) => handleCrawl(c, strictBody(c), { route: 'md', originPath: '/md', fallback: 'fetch' }))
  .openapi(htmlRoute, (c) => handleCrawl(c, strictBody(c), { route: 'html', originPath: '/html', fallback: 'fetch' }))
  .openapi(screenshotRoute, (c) => handleCrawl(c, strictBody(c), { route: 'screenshot', originPath: '/screenshot', fallback: 'browser' }))
  .openapi(pdfRoute, (c) => handleCrawl(c, strictBody(c), { route: 'pdf', originPath: '/pdf', fallback: 'browser' }))
  .openapi(executeJsRoute, (c) => handleCrawl(c, strictBody(c), { route: 'execute_js', originPath: '/execute_js', fallback: 'browser' }))
  .openapi(crawlJobRoute, async (c) => passThrough(await submitCrawlJob(c, strictBody(c))))
  .openapi(crawlJobStatusRoute, async (c) => passThrough(await crawlJobStatus(c, c.req.valid('param').task_id)));
