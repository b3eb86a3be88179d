/**
 * Reads the Crawl4AI `browser_config` / `crawler_config` params the edge engines honour, with
 * the gateway's limits applied (a client cannot ask for a longer timeout than the cap). Pure.
 */
import type { EdgeCrawlOptions } from '../crawl/types';

/** Hard limits of the edge engines (docs/edge-engines.md). */
export const EDGE_LIMITS = {
  /** Crawl4AI's default `page_timeout` is 60 s; it is also the ceiling here. */
  defaultTimeoutMs: 60_000,
  maxTimeoutMs: 60_000,
  minTimeoutMs: 1_000,
  /** Bytes of one page read by the fetch engine; the rest is not downloaded. */
  maxPageBytes: 5 * 1024 * 1024,
  maxRedirects: 5,
  /** Pages fetched at once by one request (fetch engine). */
  fetchConcurrency: 8,
  /** Tabs open at once for one request (browser engine): the default of `EDGE_BROWSER_TABS`. */
  browserConcurrency: 4,
  /** Longest `screenshot_wait_for` / `delay_before_return_html`, in seconds. */
  maxDelaySeconds: 10,
} as const;

export const DEFAULT_USER_AGENT = 'Mozilla/5.0 (compatible; crawlgate/0.1; +https://github.com/crawlgate)';

export interface PageSettings {
  timeoutMs: number;
  waitFor: { kind: 'css' | 'js'; value: string } | null;
  waitUntil: 'load' | 'domcontentloaded' | 'networkidle0' | 'networkidle2';
  userAgent: string;
  screenshot: boolean;
  pdf: boolean;
  jsCode: string[];
  delayMs: number;
  query: string | undefined;
  viewport: { width: number; height: number };
  /** Declarative hook actions run before the HTML is read (hook-actions.ts). */
  hooks?: EdgeCrawlOptions['hooks'];
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

/** `css:main article` / `js:() => window.ready` / a bare selector (Crawl4AI's `wait_for`). */
export function parseWaitFor(value: unknown): PageSettings['waitFor'] {
  if (typeof value !== 'string' || !value.trim()) return null;
  const trimmed = value.trim();
  if (trimmed.startsWith('js:')) return { kind: 'js', value: trimmed.slice(3).trim() };
  if (trimmed.startsWith('css:')) return { kind: 'css', value: trimmed.slice(4).trim() };
  return { kind: 'css', value: trimmed };
}

function queryOf(crawler: Record<string, unknown>): string | undefined {
  const generator = crawler.markdown_generator as { params?: { content_filter?: { params?: { user_query?: unknown } } } } | undefined;
  const fromFilter = generator?.params?.content_filter?.params?.user_query;
  return typeof fromFilter === 'string' ? fromFilter : undefined;
}

/** The settings for one page from the request's options. */
export function pageSettings(options: EdgeCrawlOptions): PageSettings {
  const crawler = options.crawlerParams ?? {};
  const browser = options.browserParams ?? {};
  const timeout = num(crawler.page_timeout) ?? EDGE_LIMITS.defaultTimeoutMs;
  const waitUntil = crawler.wait_until;
  const jsCode = crawler.js_code;
  const delaySeconds = num(crawler.delay_before_return_html) ?? num(crawler.screenshot_wait_for) ?? 0;
  const width = num(browser.viewport_width) ?? 1280;
  const height = num(browser.viewport_height) ?? 720;
  return {
    timeoutMs: clamp(timeout, EDGE_LIMITS.minTimeoutMs, EDGE_LIMITS.maxTimeoutMs),
    waitFor: parseWaitFor(crawler.wait_for),
    waitUntil:
      waitUntil === 'load' || waitUntil === 'networkidle0' || waitUntil === 'networkidle2'
        ? waitUntil
        : waitUntil === 'networkidle'
          ? 'networkidle0'
          : 'domcontentloaded',
    userAgent:
      typeof browser.user_agent === 'string' && browser.user_agent.length <= 512
        ? browser.user_agent
        : (options.polite?.userAgent ?? DEFAULT_USER_AGENT),
    screenshot: crawler.screenshot === true,
    pdf: crawler.pdf === true,
    jsCode: typeof jsCode === 'string' ? [jsCode] : Array.isArray(jsCode) ? jsCode.filter((s): s is string => typeof s === 'string') : [],
    delayMs: clamp(delaySeconds, 0, EDGE_LIMITS.maxDelaySeconds) * 1000,
    query: options.query ?? queryOf(crawler),
    viewport: { width: clamp(width, 100, 3840), height: clamp(height, 100, 2160) },
    ...(options.hooks?.length ? { hooks: options.hooks } : {}),
  };
}
