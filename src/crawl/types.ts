import type { PoliteGate } from '../polite/gate';
import type { HookAction } from '../engines/hook-actions';

/** Crawl4AI's result shape (shared/API.md "Crawling"): field names kept so its clients work. */
export interface MarkdownResult {
  raw_markdown: string;
  markdown_with_citations: string;
  references_markdown: string;
  fit_markdown: string;
  fit_html?: string;
}

export interface LinkItem {
  href: string;
  text: string;
  title?: string;
}

export interface MediaItem {
  src: string;
  alt?: string;
  type?: string;
}

export interface CrawlResult {
  url: string;
  success: boolean;
  status_code: number | null;
  html: string;
  cleaned_html: string;
  markdown: MarkdownResult | null;
  links: { internal: LinkItem[]; external: LinkItem[] };
  media: { images: MediaItem[]; videos: MediaItem[]; audios: MediaItem[] };
  metadata: Record<string, string | null>;
  error_message: string | null;
  redirected_url: string | null;
  response_headers: Record<string, string>;
  screenshot: string | null;
  pdf: string | null;
  js_execution_result?: Record<string, unknown> | null;
  /**
   * Caps of the page pipeline that applied (docs/edge-engines.md "Hostile pages"): the result is
   * complete up to them. Absent when none did. Not a Crawl4AI field (its clients ignore it).
   */
  warnings?: Array<{ code: string; detail: string }>;
  /** A stable machine reason for gateway refusals: `robots_disallowed`, `host_busy` (docs/polite-crawling.md). */
  error_code?: string;
}

export type EdgeEngineKind = 'browser' | 'fetch';

/** Options an edge engine receives; configs are Crawl4AI's `{type, params}` objects' params. */
export interface EdgeCrawlOptions {
  browserParams: Record<string, unknown>;
  crawlerParams: Record<string, unknown>;
  allowPrivateTargets: boolean;
  /** Aborted when the client disconnects. */
  signal?: AbortSignal;
  /** Whose request this is (`tenantOf(principal)`): the browser engine reuses a session only within one tenant; none = no reuse. */
  tenant?: string;
  /** Robots.txt, per-host pacing and request signing (src/polite/gate.ts); absent = plain fetches. */
  polite?: PoliteGate;
  /** BM25 query for `fit_markdown` (`/md`'s `q`); else crawler_config's content_filter `user_query`. */
  query?: string;
  /** Crawl4AI 0.9 declarative hook actions the edge runs (edge/hook-actions.ts). */
  hooks?: readonly HookAction[];
  /**
   * Work that may finish after the response (`ctx.waitUntil`). The browser engine then hands its
   * session back there and prepares the tenant's next context (src/engines/browser-warm.ts);
   * without it, both happen before the request ends and no context is prepared.
   */
  background?: (work: Promise<unknown>) => void;
}

/** What the crawl routes call when they crawl at the edge instead of forwarding. */
export interface EdgeEngine {
  readonly kind: EdgeEngineKind;
  /** Yields one result per URL as soon as it is ready (for /crawl/stream). */
  crawl(urls: string[], options: EdgeCrawlOptions): AsyncIterable<CrawlResult>;
  screenshot(url: string, options: EdgeCrawlOptions): Promise<CrawlResult>;
  pdf(url: string, options: EdgeCrawlOptions): Promise<CrawlResult>;
  executeJs(url: string, scripts: string[], options: EdgeCrawlOptions): Promise<CrawlResult>;
}
