/**
 * Builds Crawl4AI's `CrawlResult` from a page's HTML, the same way for both engines: extraction
 * (HTMLRewriter) then markdown from the cleaned HTML.
 */
import type { CrawlResult } from '../crawl/types';
import { extractPage } from './extract';
import { generateMarkdown, PageNotes } from './markdown';
import { parseHtml } from './markdown/html-tree';

export interface PageInput {
  /** The URL the client asked for. */
  url: string;
  /** The URL the content came from (after redirects). */
  finalUrl: string;
  status: number | null;
  html: string;
  headers: Record<string, string>;
  query?: string;
  extraMetadata?: Record<string, string | null>;
}

/**
 * A successful (HTTP status < 400) or HTTP-error result carrying the page's content. Linear in the
 * page; the caps that applied (docs/edge-engines.md "Hostile pages") are listed in `warnings`.
 */
export async function buildResult(input: PageInput): Promise<CrawlResult> {
  const notes = new PageNotes();
  if (input.extraMetadata?.truncated) notes.note('page_truncated', `the page was cut at the byte cap: ${input.extraMetadata.truncated}`);
  const extracted = extractPage(parseHtml(input.html, notes), input.finalUrl, notes);
  const markdown = generateMarkdown(extracted.cleaned, { baseUrl: extracted.baseUrl, query: input.query, notes });
  const httpError = input.status !== null && input.status >= 400;
  const warnings = notes.size ? { warnings: notes.list() } : {};
  return {
    url: input.url,
    success: !httpError,
    status_code: input.status,
    html: input.html,
    cleaned_html: extracted.cleanedHtml,
    markdown,
    links: extracted.links,
    media: extracted.media,
    metadata: { ...extracted.metadata, ...input.extraMetadata },
    error_message: httpError ? `HTTP ${input.status}` : null,
    redirected_url: input.finalUrl,
    response_headers: input.headers,
    screenshot: null,
    pdf: null,
    ...warnings,
  };
}

/** A result for a page that could not be crawled. */
export function failedResult(url: string, message: string, status: number | null = null, redirectedUrl: string | null = null): CrawlResult {
  return {
    url,
    success: false,
    status_code: status,
    html: '',
    cleaned_html: '',
    markdown: null,
    links: { internal: [], external: [] },
    media: { images: [], videos: [], audios: [] },
    metadata: {},
    error_message: message,
    redirected_url: redirectedUrl,
    response_headers: {},
    screenshot: null,
    pdf: null,
  };
}

/** Headers as a plain object (lower-case names; repeated values joined as `fetch` does). */
export function headersObject(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

/** Base64 of bytes, chunked so large screenshots do not overflow the argument list. */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
