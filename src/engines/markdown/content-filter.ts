/**
 * `fit_markdown`: the page without its boilerplate, a simple cousin of Crawl4AI's
 * PruningContentFilter (and BM25ContentFilter when a query is given). Pure.
 *  1. Drop whole regions that are navigation or chrome: nav/header/footer/aside/form elements,
 *     ARIA landmarks of the same kind, and class/id names such as `menu`, `sidebar`, `cookie`.
 *  2. Drop link-farm blocks (most of their text is link text) and tiny fragments.
 *  3. With a query, keep only the markdown blocks that BM25 scores above zero for it
 *     (headings kept when a block under them is kept).
 */
import { parseHtml, type ElementNode, type TreeNode } from './html-tree';
import { serializeHtml } from './html-serialize';
import { htmlToMarkdown } from './html-to-markdown';
import { PAGE_LIMITS, type PageNotes } from './limits';
import { isWhitespace, NO_ATTRIBUTES } from './html-lexer';

const BOILERPLATE_TAGS = new Set([
  'nav',
  'header',
  'footer',
  'aside',
  'form',
  'script',
  'style',
  'noscript',
  'iframe',
  'template',
  'svg',
  'button',
  'dialog',
]);
const BOILERPLATE_ROLES = new Set(['navigation', 'banner', 'contentinfo', 'complementary', 'search', 'menu', 'menubar', 'dialog', 'alert']);
const BOILERPLATE_NAME =
  /(?:^|[\s_-])(?:nav|navbar|navigation|menu|footer|sidebar|breadcrumbs?|cookies?|banner|advert|ads?|social|share|sharing|comments?|related|popup|modal|subscribe|newsletter|skip-link)(?:$|[\s_-])/i;
const PRUNABLE = new Set(['p', 'div', 'section', 'ul', 'ol', 'li', 'table', 'span', 'dl', 'td']);
const KEEP_ALWAYS = new Set([
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'pre',
  'code',
  'img',
  'blockquote',
  'main',
  'article',
  'body',
  'html',
  '#root',
]);

export interface FitOptions {
  baseUrl?: string;
  /** BM25 query (Crawl4AI `user_query`, /md's `q`). */
  query?: string;
  /** Where caps that applied are recorded. */
  notes?: PageNotes;
}

export interface FitResult {
  fitHtml: string;
  fitMarkdown: string;
}

function isBoilerplate(node: ElementNode): boolean {
  if (BOILERPLATE_TAGS.has(node.tag)) return true;
  const attrs = node.attrs;
  if (attrs === NO_ATTRIBUTES) return false;
  if (attrs.role && BOILERPLATE_ROLES.has(attrs.role.toLowerCase())) return true;
  if (attrs.hidden !== undefined || attrs['aria-hidden'] === 'true') return true;
  const cls = attrs.class;
  const id = attrs.id;
  if (cls === undefined && id === undefined) return false;
  return BOILERPLATE_NAME.test(`${cls ?? ''} ${id ?? ''}`.slice(0, 512));
}

/** What the pruning rules need to know about a subtree, computed bottom-up in the same walk. */
interface Stats {
  /** Non-space characters of its text. */
  chars: number;
  /** Words of its text (runs split at element boundaries count apart: close enough for "fewer than 3"). */
  words: number;
  /** Non-space characters inside links. */
  linkChars: number;
  /** Whether an always-kept element (heading, code, image, …) is inside. */
  keeper: boolean;
}

export { isWhitespace } from './html-lexer';

/** Stats per depth, reused: the walk allocates nothing for a subtree it keeps as it is. */
class StatsLevels {
  readonly #levels: Stats[] = [];

  /** The stats of the subtree last pruned at `depth`. */
  at(depth: number): Stats {
    return this.#levels[depth]!;
  }

  /** The stats at `depth`, reset for a new subtree. */
  fresh(depth: number): Stats {
    const stats = this.#levels[depth];
    if (stats === undefined) {
      const made = { chars: 0, words: 0, linkChars: 0, keeper: false };
      this.#levels[depth] = made;
      return made;
    }
    stats.chars = 0;
    stats.words = 0;
    stats.linkChars = 0;
    stats.keeper = false;
    return stats;
  }
}

/** Adds the non-space characters and words of `text` to `stats`. */
function addTextStats(text: string, stats: Stats): void {
  let chars = 0;
  let words = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const space = isWhitespace(text.charCodeAt(i));
    if (!space) chars++;
    if (!space && !inWord) words++;
    inWord = !space;
  }
  stats.chars += chars;
  stats.words += words;
}

/**
 * Prunes one subtree, leaving its stats in `levels.at(depth)`; one visit per node, so linear
 * however deep or wide the tree is. Copy on write: a subtree that loses nothing is returned as it is.
 */
function prune(node: ElementNode, levels: StatsLevels, depth: number): ElementNode {
  const stats = levels.fresh(depth);
  const kids = node.children;
  let kept: TreeNode[] | null = null;
  for (let i = 0; i < kids.length; i++) {
    const child = kids[i]!;
    if (child.type === 'text') {
      kept?.push(child);
      addTextStats(child.text, stats);
      continue;
    }
    let keep = !isBoilerplate(child);
    let pruned = child;
    if (keep) {
      pruned = prune(child, levels, depth + 1);
      const sub = levels.at(depth + 1);
      if (PRUNABLE.has(pruned.tag) && !sub.keeper) {
        if (sub.chars === 0) keep = false;
        else if (sub.chars < 400 && sub.linkChars / sub.chars > 0.6) keep = false;
        else if (sub.words < 3 && pruned.tag !== 'td' && pruned.tag !== 'li') keep = false;
      }
      if (keep) {
        if (pruned.tag !== 'script' && pruned.tag !== 'style') {
          stats.chars += sub.chars;
          stats.words += sub.words;
          stats.linkChars += pruned.tag === 'a' ? sub.chars : sub.linkChars;
        }
        stats.keeper ||= KEEP_ALWAYS.has(pruned.tag) || sub.keeper;
      }
    }
    if (keep && pruned === child) {
      kept?.push(child);
      continue;
    }
    kept ??= kids.slice(0, i);
    if (keep) kept.push(pruned);
  }
  return kept === null ? node : { type: 'element', tag: node.tag, attrs: node.attrs, children: kept };
}

function tokens(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).map((t) => (t.length > 3 && t.endsWith('s') ? t.slice(0, -1) : t));
}

/**
 * BM25 (k1 = 1.2, b = 0.75) score of each block for the query: one pass over each block's tokens
 * counting only the query's terms (at most `PAGE_LIMITS.maxQueryTerms` distinct ones).
 */
export function bm25Scores(blocks: string[], query: string, k1 = 1.2, b = 0.75, notes?: PageNotes): number[] {
  let terms = [...new Set(tokens(query))];
  if (terms.length > PAGE_LIMITS.maxQueryTerms) {
    notes?.note('query_terms', `only the first ${PAGE_LIMITS.maxQueryTerms} distinct query terms were used`);
    terms = terms.slice(0, PAGE_LIMITS.maxQueryTerms);
  }
  const index = new Map(terms.map((t, i) => [t, i]));
  const lengths: number[] = [];
  const freqs = blocks.map((block) => {
    const tf = new Array<number>(terms.length).fill(0);
    const doc = tokens(block);
    lengths.push(doc.length);
    for (const token of doc) {
      const i = index.get(token);
      if (i !== undefined) tf[i]!++;
    }
    return tf;
  });
  const avg = lengths.reduce((s, n) => s + n, 0) / Math.max(blocks.length, 1) || 1;
  const df = terms.map((_, i) => freqs.filter((tf) => tf[i]! > 0).length);
  return freqs.map((tf, d) =>
    terms.reduce((score, _term, i) => {
      const f = tf[i]!;
      if (f === 0) return score;
      const n = df[i]!;
      const idf = Math.log((blocks.length - n + 0.5) / (n + 0.5) + 1);
      return score + (idf * f * (k1 + 1)) / (f + k1 * (1 - b + (b * lengths[d]!) / avg));
    }, 0),
  );
}

function filterByQuery(markdown: string, query: string, notes?: PageNotes): string {
  const blocks = markdown.split(/\n\n+/);
  const scores = bm25Scores(blocks, query, undefined, undefined, notes);
  const keep = blocks.map((_, i) => scores[i]! > 0);
  // keep the nearest heading above a kept block, so the excerpt stays readable
  let heading = -1;
  blocks.forEach((text, i) => {
    if (/^#{1,6} /.test(text)) heading = i;
    else if (keep[i] && heading >= 0) keep[heading] = true;
  });
  return blocks.filter((_, i) => keep[i]).join('\n\n');
}

/** Computes `fit_html` and `fit_markdown` from (cleaned) HTML. */
export function fitContent(input: string | ElementNode, options: FitOptions = {}): FitResult {
  const root = typeof input === 'string' ? parseHtml(input, options.notes) : input;
  const pruned = prune(root, new StatsLevels(), 0);
  const markdown = htmlToMarkdown(pruned, { baseUrl: options.baseUrl });
  const query = options.query?.trim();
  return {
    fitHtml: serializeHtml(pruned),
    fitMarkdown: query ? filterByQuery(markdown, query, options.notes) : markdown,
  };
}
