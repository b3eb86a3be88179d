/**
 * What the HTML → markdown converter (html-to-markdown.ts) reads from the tree before it writes:
 * the elements it drops or treats as blocks, the document's `<base href>`, and a table's rows and
 * cells. Pure tree queries.
 */
import type { ElementNode } from './html-tree';

/** Elements dropped with their content (scripts, styles, forms, embedded frames, media). */
export const SKIP = new Set([
  'script',
  'style',
  'noscript',
  'iframe',
  'frame',
  'frameset',
  'svg',
  'math',
  'template',
  'head',
  'title',
  'meta',
  'link',
  'object',
  'embed',
  'canvas',
  'input',
  'select',
  'option',
  'textarea',
  'button',
  'video',
  'audio',
  'map',
  'dialog',
]);
/** Elements that stand as their own paragraph. */
export const BLOCK = new Set([
  'p',
  'div',
  'section',
  'article',
  'main',
  'header',
  'footer',
  'nav',
  'aside',
  'figure',
  'figcaption',
  'address',
  'details',
  'summary',
  'form',
  'fieldset',
  'body',
  'html',
  'center',
  'dl',
  'dt',
  'dd',
  'caption',
  'legend',
  'label',
]);

/** The first `<base href>` in the document's head (searched through html/head only). */
export function findBaseHref(node: ElementNode): string | null {
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

/** A table's rows, through thead/tbody/tfoot. */
export function rowsOf(node: ElementNode, rows: ElementNode[] = []): ElementNode[] {
  for (const child of node.children) {
    if (child.type !== 'element') continue;
    if (child.tag === 'tr') rows.push(child);
    else if (child.tag === 'thead' || child.tag === 'tbody' || child.tag === 'tfoot') rowsOf(child, rows);
  }
  return rows;
}

/** A row's td/th cells. */
export function cellsOf(tr: ElementNode): ElementNode[] {
  // a loop, not `filter` with a callback: a page of rows made one closure per row
  const cells: ElementNode[] = [];
  const kids = tr.children;
  for (let i = 0; i < kids.length; i++) {
    const c = kids[i]!;
    if (c.type === 'element' && (c.tag === 'td' || c.tag === 'th')) cells.push(c);
  }
  return cells;
}
