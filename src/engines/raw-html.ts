/**
 * Crawl4AI's `raw:` / `raw://` targets: the HTML itself instead of a URL (`raw:<html>...`), on
 * `/md`, `/html`, `/crawl` and `/crawl/stream`. The edge engines never fetch anything for the page
 * itself: the fetch engine parses the HTML as given; the browser engine loads it with
 * `setContent`, so only the page's own sub-requests leave the browser, each through the egress
 * policy and the tab's request interception as for any page. Pure (loading: raw-html-load.ts).
 */

/** Longest raw HTML accepted in a target (the body cap, MAX_BODY_BYTES, bounds it first). */
export const MAX_RAW_HTML_CHARS = 5 * 1024 * 1024;

/** The URL a raw page's links resolve against: none (relative links stay unresolved). */
export const RAW_PAGE_BASE = 'about:blank';

/** True when a target is raw HTML (`raw://` or `raw:`), as Crawl4AI reads it. */
export function isRawHtml(target: string): boolean {
  return target.startsWith('raw:');
}

/** The HTML of a raw target (`raw://<html>` → `<html>`, `raw:<html>` → `<html>`). */
export function rawHtmlOf(target: string): string {
  return target.startsWith('raw://') ? target.slice(6) : target.slice(4);
}
