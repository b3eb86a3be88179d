/**
 * Crawl4AI's `MarkdownGenerationResult` from HTML: raw markdown, the citation form with its
 * references, and the filtered `fit_markdown` / `fit_html`. Pure.
 */
import type { MarkdownResult } from '../../crawl/types';
import { parseHtml, type ElementNode } from './html-tree';
import type { PageNotes } from './limits';
import { htmlToMarkdown } from './html-to-markdown';
import { toCitations } from './citations';
import { fitContent } from './content-filter';

export interface GenerateMarkdownOptions {
  baseUrl?: string;
  query?: string;
  /** Where caps that applied are recorded (they end up in the result's `warnings`). */
  notes?: PageNotes;
}

/** Builds every markdown field of a CrawlResult from one parse of the HTML. */
export function generateMarkdown(html: string | ElementNode, options: GenerateMarkdownOptions = {}): MarkdownResult {
  const tree = typeof html === 'string' ? parseHtml(html, options.notes) : html;
  const raw = htmlToMarkdown(tree, { baseUrl: options.baseUrl, notes: options.notes });
  const { markdownWithCitations, referencesMarkdown } = toCitations(raw);
  const fit = fitContent(tree, options);
  return {
    raw_markdown: raw,
    markdown_with_citations: markdownWithCitations,
    references_markdown: referencesMarkdown,
    fit_markdown: fit.fitMarkdown,
    fit_html: fit.fitHtml,
  };
}

export { htmlToMarkdown } from './html-to-markdown';
export { toCitations } from './citations';
export { fitContent, bm25Scores } from './content-filter';
export { PAGE_LIMITS, PageNotes, type PageWarning } from './limits';
