/**
 * HTML → markdown (CommonMark + GFM tables), in the spirit of Crawl4AI's html2text output:
 * headings `#`, emphasis, links `[text](absolute-url "title")`, images `![alt](src)`, lists,
 * block quotes, fenced code, tables. Scripts, styles, forms and embedded frames are dropped.
 * Pure: takes a parsed tree (or a string) and the page URL used to resolve relative links.
 */
import { parseHtml, textContent, type ElementNode, type TreeNode } from './html-tree';
import { NO_ATTRIBUTES } from './html-lexer';
import { type ListMarkers, MarkdownWriter } from './markdown-writer';
import type { PageNotes } from './limits';
import { UrlResolver } from './url-resolver';
import { BLOCK, SKIP, cellsOf, findBaseHref, rowsOf } from './markdown-elements';

export { resolveUrl, UrlResolver } from './url-resolver';

export interface MarkdownOptions {
  /** The page URL: relative `href`/`src` are resolved against it (or its `<base href>`). */
  baseUrl?: string;
  /** Where caps that applied are recorded. */
  notes?: PageNotes;
}

interface Context {
  urls: UrlResolver;
  inLink: boolean;
  out: MarkdownWriter;
}

/**
 * Converts HTML (string or parsed tree) to markdown: one walk of the tree writing into a
 * MarkdownWriter, so the work is linear in the tree whatever its shape.
 */
export function htmlToMarkdown(input: string | ElementNode, options: MarkdownOptions = {}): string {
  const root = typeof input === 'string' ? parseHtml(input, options.notes) : input;
  let base: URL | null = null;
  try {
    base = options.baseUrl ? new URL(options.baseUrl) : null;
  } catch {
    base = null;
  }
  const baseHref = findBaseHref(root);
  if (baseHref) {
    try {
      base = new URL(baseHref, base ?? undefined);
    } catch {
      // an unusable <base href> is ignored, as browsers do
    }
  }
  const out = new MarkdownWriter(options.notes);
  children(root, { urls: new UrlResolver(base), inLink: false, out });
  return out.toString();
}

function children(node: ElementNode, ctx: Context): void {
  const kids = node.children;
  for (let i = 0; i < kids.length; i++) convert(kids[i]!, ctx);
}

/** Whitespace other than single spaces: what `replace(/\s+/g, ' ')` would change. */
const UNCOLLAPSED = /\s\s|[^\S ]/;

/** `text.replace(/\s+/g, ' ')`, without a copy when there is nothing to collapse. */
function collapseSpace(text: string): string {
  return UNCOLLAPSED.test(text) ? text.replace(/\s+/g, ' ') : text;
}

const HEADING_MARKS = ['', '# ', '## ', '### ', '#### ', '##### ', '###### '];

function block(node: ElementNode, ctx: Context): void {
  ctx.out.newline(2);
  children(node, ctx);
  ctx.out.newline(2);
}

function wrap(node: ElementNode, ctx: Context, marker: string): void {
  const index = ctx.out.openMarker(marker);
  children(node, ctx);
  ctx.out.closeMarker(index, marker);
}

function convert(node: TreeNode, ctx: Context): void {
  const out = ctx.out;
  if (node.type === 'text') {
    out.text(collapseSpace(node.text));
    return;
  }
  const tag = node.tag;
  if (SKIP.has(tag)) return;
  const attrs = node.attrs;
  if (attrs !== NO_ATTRIBUTES && (attrs.hidden !== undefined || attrs['aria-hidden'] === 'true')) return;
  switch (tag) {
    case 'h1':
    case 'h2':
    case 'h3':
    case 'h4':
    case 'h5':
    case 'h6': {
      out.newline(2);
      const index = out.openMarker(HEADING_MARKS[Number(tag[1])]!);
      out.enterSingleLine();
      children(node, ctx);
      out.leaveSingleLine();
      out.closeMarker(index, '');
      out.newline(2);
      return;
    }
    case 'br':
      out.newline(1);
      return;
    case 'hr':
      out.newline(2);
      out.text('---');
      out.newline(2);
      return;
    case 'strong':
    case 'b':
      return wrap(node, ctx, '**');
    case 'em':
    case 'i':
      return wrap(node, ctx, '*');
    case 'del':
    case 's':
    case 'strike':
      return wrap(node, ctx, '~~');
    case 'code': {
      const text = textContent(node).replace(/\s+/g, ' ');
      if (!text.trim()) return;
      const fence = text.includes('`') ? '``' : '`';
      out.text(`${fence}${text}${fence}`);
      return;
    }
    case 'pre':
      return preBlock(node, ctx);
    case 'a':
      return link(node, ctx);
    case 'img':
      return image(node, ctx);
    case 'blockquote':
      out.newline(2);
      out.beginQuote();
      children(node, ctx);
      out.endQuote();
      out.newline(2);
      return;
    case 'ul':
    case 'ol':
      return list(node, ctx);
    case 'li':
      return block(node, ctx);
    case 'table':
      return table(node, ctx);
    default:
      if (BLOCK.has(tag)) block(node, ctx);
      else children(node, ctx);
  }
}

function preBlock(node: ElementNode, ctx: Context): void {
  const code = node.children.find((c): c is ElementNode => c.type === 'element' && c.tag === 'code');
  const language = /(?:^|\s)(?:language|lang)-([\w+-]+)/.exec((code?.attrs.class ?? node.attrs.class ?? '').slice(0, 256))?.[1] ?? '';
  const text = trimEndSpace(textContent(node).replace(/^\n/, ''));
  if (!text) return;
  const fence = text.includes('```') ? '~~~' : '```';
  ctx.out.preformatted([`${fence}${language}`, ...text.split('\n'), fence]);
}

/** `text.replace(/\s+$/, '')` without the regex (which is quadratic on long inner space runs). */
function trimEndSpace(text: string): string {
  let end = text.length;
  while (end > 0 && /\s/.test(text[end - 1]!)) end--;
  return text.slice(0, end);
}

function link(node: ElementNode, ctx: Context): void {
  const out = ctx.out;
  const href = ctx.urls.resolve(node.attrs.href);
  if (ctx.inLink || !href || href.startsWith('data:')) {
    out.enterSingleLine();
    children(node, ctx);
    out.leaveSingleLine();
    return;
  }
  const title = node.attrs.title?.replace(/"/g, "'").trim();
  const target = /[\s()]/.test(href) ? `<${href}>` : href;
  const index = out.openMarker('[');
  out.enterSingleLine();
  out.enterBrackets();
  ctx.inLink = true;
  children(node, ctx);
  ctx.inLink = false;
  out.leaveBrackets();
  out.leaveSingleLine();
  out.closeMarker(index, `](${target}${title ? ` "${title}"` : ''})`);
}

function image(node: ElementNode, ctx: Context): void {
  const src = ctx.urls.resolve(node.attrs.src ?? node.attrs['data-src']);
  if (!src || src.startsWith('data:')) return;
  const alt = (node.attrs.alt ?? '').replace(/\s+/g, ' ').replace(/[[\]]/g, '').trim();
  const target = /[\s()]/.test(src) ? `<${src}>` : src;
  ctx.out.text(`![${alt}](${target})`);
}

function list(node: ElementNode, ctx: Context): void {
  const out = ctx.out;
  const ordered = node.tag === 'ol';
  let start = 1;
  if (ordered && node.attrs.start !== undefined) {
    start = Number.parseInt(node.attrs.start.slice(0, 16), 10);
    if (!Number.isFinite(start)) start = 1;
  }
  // made on the first item: a list without items (a page of `<ul>`) allocates nothing
  let markers: ListMarkers | null = null;
  out.newline(2);
  const kids = node.children;
  for (let i = 0; i < kids.length; i++) {
    const child = kids[i]!;
    if (child.type !== 'element') continue;
    markers ??= { ordered, next: start };
    out.beginListItem(markers);
    if (child.tag === 'li') children(child, ctx);
    else convert(child, ctx);
    out.endListItem();
  }
  out.newline(2);
}

/**
 * A GFM table. Only the header row is padded to the widest row (GFM fills short body rows
 * itself), so a wide first row cannot multiply the output by the number of rows.
 */
function table(node: ElementNode, ctx: Context): void {
  const out = ctx.out;
  const rows = rowsOf(node)
    .map(cellsOf)
    .filter((cells) => cells.length > 0);
  if (rows.length === 0) return;
  const width = rows.reduce((max, r) => Math.max(max, r.length), 0);
  out.newline(2);
  const caption = node.children.find((c): c is ElementNode => c.type === 'element' && c.tag === 'caption');
  if (caption) {
    children(caption, ctx);
    out.newline(2);
  }
  const writeRow = (cells: ElementNode[], pad: number) => {
    out.newline(1);
    out.text('|');
    for (const cell of cells) {
      out.space();
      out.enterSingleLine();
      out.enterPipes();
      children(cell, ctx);
      out.leavePipes();
      out.leaveSingleLine();
      out.space();
      out.text('|');
    }
    for (let i = cells.length; i < pad; i++) out.text(' |');
  };
  rows.forEach((cells, i) => {
    writeRow(cells, i === 0 ? width : 0);
    if (i === 0) {
      out.newline(1);
      out.text(`|${' --- |'.repeat(width)}`);
    }
  });
  out.newline(2);
}
