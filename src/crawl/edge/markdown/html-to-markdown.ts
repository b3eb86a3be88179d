/**
 * HTML → markdown (CommonMark + GFM tables), in the spirit of Crawl4AI's html2text output:
 * headings `#`, emphasis, links `[text](absolute-url "title")`, images `![alt](src)`, lists,
 * block quotes, fenced code, tables. Scripts, styles, forms and embedded frames are dropped.
 * Pure: takes a parsed tree (or a string) and the page URL used to resolve relative links.
 */
import { parseHtml, textContent, type ElementNode, type TreeNode } from './html-tree';

export interface MarkdownOptions {
  /** The page URL: relative `href`/`src` are resolved against it (or its `<base href>`). */
  baseUrl?: string;
}

const SKIP = new Set([
  'script', 'style', 'noscript', 'iframe', 'frame', 'frameset', 'svg', 'math', 'template', 'head', 'title', 'meta',
  'link', 'object', 'embed', 'canvas', 'input', 'select', 'option', 'textarea', 'button', 'video', 'audio', 'map', 'dialog',
]);
const BLOCK = new Set([
  'p', 'div', 'section', 'article', 'main', 'header', 'footer', 'nav', 'aside', 'figure', 'figcaption', 'address',
  'details', 'summary', 'form', 'fieldset', 'body', 'html', 'center', 'dl', 'dt', 'dd', 'caption', 'legend', 'label',
]);

interface Context {
  base: URL | null;
  inLink: boolean;
}

/** Resolves `href` against the base; returns null for unusable or script URLs. */
export function resolveUrl(href: string | undefined, base: URL | null): string | null {
  if (href === undefined) return null;
  const trimmed = href.trim();
  if (!trimmed || /^(javascript|vbscript|data):/i.test(trimmed)) return trimmed.toLowerCase().startsWith('data:image/') ? trimmed : null;
  try {
    return new URL(trimmed, base ?? undefined).href;
  } catch {
    return null;
  }
}

/** Converts HTML (string or parsed tree) to markdown. */
export function htmlToMarkdown(input: string | ElementNode, options: MarkdownOptions = {}): string {
  const root = typeof input === 'string' ? parseHtml(input) : input;
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
  const raw = children(root, { base, inLink: false });
  return tidy(raw);
}

function findBaseHref(node: ElementNode): string | null {
  for (const child of node.children) {
    if (child.type !== 'element') continue;
    if (child.tag === 'base' && child.attrs.href) return child.attrs.href;
    if (child.tag === 'html' || child.tag === 'head' || child.tag === '#root') {
      const found = findBaseHref(child);
      if (found) return found;
    }
  }
  return null;
}

/** Trims line ends and collapses inner space runs, leaving fenced code as it is. */
function tidy(markdown: string): string {
  let fence: string | null = null;
  return markdown
    .split('\n')
    .map((line) => {
      const marker = /^ *(```|~~~)/.exec(line)?.[1];
      if (marker && (fence === null || fence === marker)) fence = fence === null ? marker : null;
      else if (fence !== null) return line;
      return line.replace(/(\S) {2,}/g, '$1 ').replace(/[ \t]+$/, '');
    })
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function children(node: ElementNode, ctx: Context): string {
  return node.children.map((child) => convert(child, ctx)).join('');
}

function block(content: string): string {
  const trimmed = content.trim();
  return trimmed ? `\n\n${trimmed}\n\n` : '';
}

/** Wraps inline content in a marker, keeping the surrounding spaces outside it. */
function wrap(content: string, marker: string): string {
  const match = /^(\s*)([\s\S]*?)(\s*)$/.exec(content)!;
  return match[2] ? `${match[1]}${marker}${match[2]}${marker}${match[3]}` : content;
}

function convert(node: TreeNode, ctx: Context): string {
  if (node.type === 'text') return node.text.replace(/\s+/g, ' ');
  const tag = node.tag;
  if (SKIP.has(tag)) return '';
  if (node.attrs.hidden !== undefined || node.attrs['aria-hidden'] === 'true') return '';
  switch (tag) {
    case 'h1': case 'h2': case 'h3': case 'h4': case 'h5': case 'h6': {
      const text = children(node, ctx).replace(/\s+/g, ' ').trim();
      return text ? `\n\n${'#'.repeat(Number(tag[1]))} ${text}\n\n` : '';
    }
    case 'br':
      return '\n';
    case 'hr':
      return '\n\n---\n\n';
    case 'strong': case 'b':
      return wrap(children(node, ctx), '**');
    case 'em': case 'i':
      return wrap(children(node, ctx), '*');
    case 'del': case 's': case 'strike':
      return wrap(children(node, ctx), '~~');
    case 'code': {
      const text = textContent(node).replace(/\s+/g, ' ');
      if (!text.trim()) return '';
      const fence = text.includes('`') ? '``' : '`';
      return `${fence}${text}${fence}`;
    }
    case 'pre':
      return preBlock(node);
    case 'a':
      return link(node, ctx);
    case 'img':
      return image(node, ctx);
    case 'blockquote': {
      const inner = tidy(children(node, ctx));
      return inner ? `\n\n${inner.split('\n').map((l) => (l ? `> ${l}` : '>')).join('\n')}\n\n` : '';
    }
    case 'ul': case 'ol':
      return list(node, ctx);
    case 'li':
      return block(children(node, ctx));
    case 'table':
      return table(node, ctx);
    default:
      return BLOCK.has(tag) ? block(children(node, ctx)) : children(node, ctx);
  }
}

function preBlock(node: ElementNode): string {
  const code = node.children.find((c): c is ElementNode => c.type === 'element' && c.tag === 'code');
  const language = /(?:^|\s)(?:language|lang)-([\w+-]+)/.exec(code?.attrs.class ?? node.attrs.class ?? '')?.[1] ?? '';
  const text = textContent(node).replace(/^\n/, '').replace(/\s+$/, '');
  if (!text) return '';
  const fence = text.includes('```') ? '~~~' : '```';
  return `\n\n${fence}${language}\n${text}\n${fence}\n\n`;
}

function link(node: ElementNode, ctx: Context): string {
  const inner = children(node, { ...ctx, inLink: true }).replace(/\s+/g, ' ').trim();
  const href = resolveUrl(node.attrs.href, ctx.base);
  if (ctx.inLink || !href || href.startsWith('data:')) return inner;
  if (!inner) return '';
  const title = node.attrs.title?.replace(/"/g, "'").trim();
  const target = /[\s()]/.test(href) ? `<${href}>` : href;
  return `[${inner.replace(/[[\]]/g, '\\$&')}](${target}${title ? ` "${title}"` : ''})`;
}

function image(node: ElementNode, ctx: Context): string {
  const src = resolveUrl(node.attrs.src ?? node.attrs['data-src'], ctx.base);
  if (!src || src.startsWith('data:')) return '';
  const alt = (node.attrs.alt ?? '').replace(/\s+/g, ' ').replace(/[[\]]/g, '').trim();
  const target = /[\s()]/.test(src) ? `<${src}>` : src;
  return `![${alt}](${target})`;
}

function list(node: ElementNode, ctx: Context): string {
  const ordered = node.tag === 'ol';
  let number = Number.parseInt(node.attrs.start ?? '1', 10);
  if (!Number.isFinite(number)) number = 1;
  const items: string[] = [];
  for (const child of node.children) {
    if (child.type !== 'element') continue;
    const content = tidy(child.tag === 'li' ? children(child, ctx) : convert(child, ctx)).replace(/\n{2,}/g, '\n');
    if (!content) continue;
    const marker = ordered ? `${number++}. ` : '- ';
    const indent = ' '.repeat(marker.length);
    items.push(marker + content.split('\n').map((line, i) => (i === 0 || !line ? line : indent + line)).join('\n'));
  }
  return items.length ? `\n\n${items.join('\n')}\n\n` : '';
}

function rowsOf(node: ElementNode): ElementNode[] {
  const rows: ElementNode[] = [];
  for (const child of node.children) {
    if (child.type !== 'element') continue;
    if (child.tag === 'tr') rows.push(child);
    else if (child.tag === 'thead' || child.tag === 'tbody' || child.tag === 'tfoot') rows.push(...rowsOf(child));
  }
  return rows;
}

function table(node: ElementNode, ctx: Context): string {
  const rows = rowsOf(node)
    .map((tr) =>
      tr.children
        .filter((c): c is ElementNode => c.type === 'element' && (c.tag === 'td' || c.tag === 'th'))
        .map((cell) => tidy(children(cell, ctx)).replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|')),
    )
    .filter((cells) => cells.length > 0);
  if (rows.length === 0) return '';
  const width = Math.max(...rows.map((r) => r.length));
  const line = (cells: string[]) => `| ${Array.from({ length: width }, (_, i) => cells[i] ?? '').join(' | ')} |`;
  const [head, ...body] = rows;
  const caption = node.children.find((c): c is ElementNode => c.type === 'element' && c.tag === 'caption');
  const title = caption ? `${tidy(children(caption, ctx))}\n\n` : '';
  return `\n\n${title}${line(head!)}\n| ${Array.from({ length: width }, () => '---').join(' | ')} |\n${body.map(line).join('\n')}\n\n`;
}
