/**
 * Hard caps of the page pipeline (docs/edge-engines.md "Hostile pages"). Every step from HTML to
 * markdown, links and citations is linear in the page; these caps bound the shapes that would
 * still blow up the output or the stack. A cap truncates and is reported in the result's
 * `warnings` (one entry per kind of cap, with how often it applied) — it never fails the page.
 */
export const PAGE_LIMITS = {
  /** Open elements kept nested; deeper start tags become siblings (Chromium's parser does this at 512). */
  maxDepth: 256,
  /** Characters of one attribute value; longer values are cut (URL attributes are dropped). */
  maxAttributeChars: 8192,
  /** Attributes kept per element. */
  maxAttributes: 64,
  /** Entries in `links.internal` + `links.external`. */
  maxLinks: 10_000,
  /** Entries in `media.images` + `videos` + `audios`. */
  maxMedia: 10_000,
  /** Characters of one link text, the title and one metadata value. */
  maxTextField: 2048,
  /** `<meta>` entries read into `metadata`. */
  maxMetadata: 256,
  /** Nested block quotes / list items that add a markdown line prefix. */
  maxPrefixDepth: 16,
  /** Distinct terms of a BM25 query (`q`, `user_query`). */
  maxQueryTerms: 32,
} as const;

/** A cap that applied, as the client sees it in `CrawlResult.warnings`. */
export interface PageWarning {
  code: string;
  detail: string;
}

/** Collects the caps that applied while processing one page (one entry per code, counted). */
export class PageNotes {
  readonly #counts = new Map<string, { count: number; what: string }>();

  /** Records that the cap `code` applied (`what` explains it, once). */
  note(code: string, what: string): void {
    const entry = this.#counts.get(code);
    if (entry) entry.count++;
    else this.#counts.set(code, { count: 1, what });
  }

  get size(): number {
    return this.#counts.size;
  }

  list(): PageWarning[] {
    return [...this.#counts].map(([code, { count, what }]) => ({ code, detail: `${what} (${count}×)` }));
  }
}
