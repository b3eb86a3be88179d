/**
 * `fit_markdown`: the page without its boilerplate, a simple cousin of Crawl4AI's
 * PruningContentFilter (and BM25ContentFilter when a query is given). Pure.
 *  1. Drop whole regions that are navigation or chrome: nav/header/footer/aside/form elements,
 *     ARIA landmarks of the same kind, and class/id names such as `menu`, `sidebar`, `cookie`.
 *  2. Drop link-farm blocks (most of their text is link text) and tiny fragments.
 *  3. With a query, keep only the markdown blocks that BM25 scores above zero for it
 *     (headings kept when a block under them is kept).
 */
import { parseHtml, serializeHtml, textContent, type ElementNode, type TreeNode } from './html-tree';
import { htmlToMarkdown } from './html-to-markdown';

const BOILERPLATE_TAGS = new Set(['nav', 'header', 'footer', 'aside', 'form', 'script', 'style', 'noscript', 'iframe', 'template', 'svg', 'button', 'dialog']);
const BOILERPLATE_ROLES = new Set(['navigation', 'banner', 'contentinfo', 'complementary', 'search', 'menu', 'menubar', 'dialog', 'alert']);
const BOILERPLATE_NAME = /(?:^|[\s_-])(?:nav|navbar|navigation|menu|footer|sidebar|breadcrumbs?|cookies?|banner|advert|ads?|social|share|sharing|comments?|related|popup|modal|subscribe|newsletter|skip-link)(?:$|[\s_-])/i;
const PRUNABLE = new Set(['p', 'div', 'section', 'ul', 'ol', 'li', 'table', 'span', 'dl', 'td']);
const KEEP_ALWAYS = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'pre', 'code', 'img', 'blockquote', 'main', 'article', 'body', 'html', '#root']);

export interface FitOptions {
  baseUrl?: string;
  /** BM25 query (Crawl4AI `user_query`, /md's `q`). */
  query?: string;
}

export interface FitResult {
  fitHtml: string;
  fitMarkdown: string;
}

function linkTextLength(node: TreeNode): number {
  if (node.type === 'text') return 0;
  if (node.tag === 'a') return textContent(node).replace(/\s+/g, '').length;
  return node.children.reduce((sum, child) => sum + linkTextLength(child), 0);
}

function isBoilerplate(node: ElementNode): boolean {
  if (BOILERPLATE_TAGS.has(node.tag)) return true;
  if (node.attrs.role && BOILERPLATE_ROLES.has(node.attrs.role.toLowerCase())) return true;
  if (node.attrs.hidden !== undefined || node.attrs['aria-hidden'] === 'true') return true;
  return BOILERPLATE_NAME.test(`${node.attrs.class ?? ''} ${node.attrs.id ?? ''}`);
}

function hasKeeper(node: ElementNode): boolean {
  return node.children.some((c) => c.type === 'element' && (KEEP_ALWAYS.has(c.tag) || hasKeeper(c)));
}

function prune(node: ElementNode): ElementNode {
  const kept: TreeNode[] = [];
  for (const child of node.children) {
    if (child.type === 'text') {
      kept.push(child);
      continue;
    }
    if (isBoilerplate(child)) continue;
    const pruned = prune(child);
    if (PRUNABLE.has(pruned.tag) && !hasKeeper(pruned)) {
      const text = textContent(pruned).replace(/\s+/g, '');
      const words = textContent(pruned).trim().split(/\s+/).filter(Boolean).length;
      if (text.length === 0) continue;
      if (text.length < 400 && linkTextLength(pruned) / text.length > 0.6) continue;
      if (words < 3 && pruned.tag !== 'td' && pruned.tag !== 'li') continue;
    }
    kept.push(pruned);
  }
  return { ...node, children: kept };
}

function tokens(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).map((t) => (t.length > 3 && t.endsWith('s') ? t.slice(0, -1) : t));
}

/** BM25 (k1 = 1.2, b = 0.75) score of each block for the query. */
export function bm25Scores(blocks: string[], query: string, k1 = 1.2, b = 0.75): number[] {
  const terms = [...new Set(tokens(query))];
  const docs = blocks.map(tokens);
  const avg = docs.reduce((s, d) => s + d.length, 0) / Math.max(docs.length, 1) || 1;
  const df = new Map(terms.map((t) => [t, docs.filter((d) => d.includes(t)).length]));
  return docs.map((doc) =>
    terms.reduce((score, term) => {
      const tf = doc.filter((t) => t === term).length;
      if (tf === 0) return score;
      const n = df.get(term) ?? 0;
      const idf = Math.log((docs.length - n + 0.5) / (n + 0.5) + 1);
      return score + (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * doc.length) / avg));
    }, 0),
  );
}

function filterByQuery(markdown: string, query: string): string {
  const blocks = markdown.split(/\n{2,}/);
  const scores = bm25Scores(blocks, query);
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
  const root = typeof input === 'string' ? parseHtml(input) : input;
  const pruned = prune(root);
  const markdown = htmlToMarkdown(pruned, { baseUrl: options.baseUrl });
  const query = options.query?.trim();
  return {
    fitHtml: serializeHtml(pruned),
    fitMarkdown: query ? filterByQuery(markdown, query) : markdown,
  };
}
