/**
 * A small, tolerant HTML parser producing a plain tree (no DOM, no bindings), enough for
 * HTML→markdown and the content filter. It follows the HTML Standard's tokenizer loosely:
 * raw-text elements (script, style, textarea, title), void elements, implied end tags for
 * p/li/dt/dd/tr/td/th/option, comments and doctype skipped, character references decoded.
 * Pure: string in, tree out.
 */
import { PAGE_LIMITS, type PageNotes } from './limits';
import { decodeEntities, endsSelfClosing, findRawTextEnd, findTagEnd, parseAttrs, tagNameEnd, TagNames } from './html-lexer';

export { decodeEntities } from './html-lexer';

export interface ElementNode {
  type: 'element';
  tag: string;
  attrs: Record<string, string>;
  children: TreeNode[];
}

export interface TextNode {
  type: 'text';
  text: string;
}

export type TreeNode = ElementNode | TextNode;

/** Elements with no content and no end tag (the serializer writes them the same way). */
export const VOID = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'param',
  'source',
  'track',
  'wbr',
]);
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'noembed', 'noframes']);
/** Tags whose opening implicitly closes an open element of the listed tags (HTML Standard §13.2.6). */
const IMPLIED_CLOSE: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries({
    p: ['p'],
    li: ['li'],
    dt: ['dt', 'dd'],
    dd: ['dt', 'dd'],
    tr: ['tr', 'td', 'th'],
    td: ['td', 'th'],
    th: ['td', 'th'],
    option: ['option'],
    // a link never contains a link: a new <a> ends the open one (HTML Standard "in body", a start tag "a")
    a: ['a'],
    thead: ['tbody', 'tfoot'],
    tbody: ['thead', 'tbody', 'tfoot', 'tr', 'td', 'th'],
    tfoot: ['thead', 'tbody', 'tr', 'td', 'th'],
  }),
);
/** Block starts that close an open <p>. */
const CLOSES_P = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'details',
  'div',
  'dl',
  'fieldset',
  'figure',
  'footer',
  'form',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hr',
  'main',
  'nav',
  'ol',
  'pre',
  'section',
  'table',
  'ul',
]);
/** Elements that bound implied closing (an <li> inside a nested <ul> does not close the outer <li>). */
const SCOPE = new Set(['ul', 'ol', 'table', 'dl', 'div', 'section', 'article', 'blockquote', 'td', 'th', 'select']);

const NESTING_NOTE = `elements nested deeper than ${PAGE_LIMITS.maxDepth} were made siblings`;

/**
 * The stack of open elements with O(1) "is a <tag> open (in scope)?": per tag, the stack indexes
 * of its open elements, and the indexes of the scope-bounding elements. Each element is pushed and
 * popped once, so the whole parse stays linear however the tags are (mis)nested.
 */
class OpenElements {
  readonly stack: ElementNode[];
  readonly #byTag = new Map<string, number[]>();
  readonly #scopes: number[] = [];

  constructor(root: ElementNode) {
    this.stack = [root];
  }

  get current(): ElementNode {
    return this.stack[this.stack.length - 1]!;
  }

  push(element: ElementNode): void {
    const index = this.stack.length;
    this.stack.push(element);
    const list = this.#byTag.get(element.tag);
    if (list) list.push(index);
    else this.#byTag.set(element.tag, [index]);
    if (SCOPE.has(element.tag)) this.#scopes.push(index);
  }

  /** Index of the innermost open element with the tag, else -1 (an end tag's lookup). */
  findTag(tag: string): number {
    const list = this.#byTag.get(tag);
    const best = list?.length ? list[list.length - 1]! : -1;
    return best <= 0 ? -1 : best;
  }

  /** Index of the innermost open element with one of the tags (above the innermost scope boundary when scoped), else -1. */
  find(tags: readonly string[], scoped: boolean): number {
    let best = -1;
    for (const tag of tags) {
      const list = this.#byTag.get(tag);
      if (list?.length) best = Math.max(best, list[list.length - 1]!);
    }
    if (best <= 0) return -1;
    if (scoped) {
      const boundary = this.#scopes.length ? this.#scopes[this.#scopes.length - 1]! : 0;
      // the boundary element itself may be the one looked for (SCOPE holds td/th, which close each other)
      if (best < boundary) return -1;
    }
    return best;
  }

  /** Pops every element from `index` up. */
  closeFrom(index: number): void {
    while (this.stack.length > index) {
      const element = this.stack.pop()!;
      const top = this.stack.length;
      this.#byTag.get(element.tag)!.pop();
      if (this.#scopes.length && this.#scopes[this.#scopes.length - 1] === top) this.#scopes.pop();
    }
  }
}

/**
 * Parses an HTML document or fragment; the returned root is a synthetic `#root` element. Linear in
 * the input: one scan, O(1) work per tag for the open-element bookkeeping. Caps (`PAGE_LIMITS`) are
 * reported to `notes`.
 */
export function parseHtml(html: string, notes?: PageNotes): ElementNode {
  const root: ElementNode = { type: 'element', tag: '#root', attrs: {}, children: [] };
  const open = new OpenElements(root);
  const names = new TagNames();

  let pos = 0;
  // text not appended yet starts here: a `<` that starts no tag stays inside the text run, so a
  // page of `<` is one text node, not one append per character
  let textFrom = 0;
  const length = html.length;
  while (pos < length) {
    const lt = html.indexOf('<', pos);
    if (lt === -1) break;
    pos = lt;
    const next = html.charCodeAt(pos + 1);
    if (next === 33 /* ! */ || next === 63 /* ? */) {
      if (lt > textFrom) appendText(open.current, html.slice(textFrom, lt));
      const end = html.startsWith('<!--', pos) ? html.indexOf('-->', pos + 4) : html.indexOf('>', pos);
      pos = end === -1 ? length : end + (next === 33 && html.startsWith('<!--', lt) ? 3 : 1);
      textFrom = pos;
      continue;
    }
    const closing = next === 47; /* / */
    const nameStart = pos + (closing ? 2 : 1);
    const nameEnd = tagNameEnd(html, nameStart, Math.min(pos + 64, length));
    if (nameEnd === -1) {
      pos += 1;
      continue;
    }
    if (lt > textFrom) appendText(open.current, html.slice(textFrom, lt));
    const tag = names.get(html, nameStart, nameEnd);
    const tagEnd = findTagEnd(html, nameEnd);
    pos = tagEnd + 1;
    textFrom = pos;
    if (closing) {
      const index = open.findTag(tag);
      if (index > 0) open.closeFrom(index);
      continue;
    }
    const implied = IMPLIED_CLOSE.get(tag);
    if (implied) {
      const index = open.find(implied, tag !== 'a');
      if (index > 0) open.closeFrom(index);
    }
    if (CLOSES_P.has(tag)) {
      const index = open.find(P_ONLY, true);
      if (index > 0) open.closeFrom(index);
    }
    const element: ElementNode = { type: 'element', tag, attrs: parseAttrs(html, nameEnd, tagEnd, notes), children: NO_CHILDREN };
    appendChild(open.current, element);
    if (VOID.has(tag) || endsSelfClosing(html, nameEnd, tagEnd)) continue;
    if (RAW_TEXT.has(tag)) {
      const close = findRawTextEnd(html, tag, pos);
      const raw = html.slice(pos, close ? close.start : length);
      if (raw) element.children = [{ type: 'text', text: tag === 'script' || tag === 'style' ? raw : decodeEntities(raw) }];
      pos = close ? close.end : length;
      textFrom = pos;
      continue;
    }
    if (open.stack.length > PAGE_LIMITS.maxDepth) {
      notes?.note('nesting_flattened', NESTING_NOTE);
      continue;
    }
    open.push(element);
  }
  if (textFrom < length) appendText(open.current, html.slice(textFrom));
  return root;
}

const P_ONLY = ['p'];

/**
 * Children of an element that has none: one shared frozen array. An element's array is made on its
 * first child with room for just that child (most elements have one), instead of the spare room
 * `push` on an empty array allocates.
 */
const NO_CHILDREN: TreeNode[] = Object.freeze([]) as unknown as TreeNode[];

function appendChild(parent: ElementNode, node: TreeNode): void {
  const kids = parent.children;
  const count = kids.length;
  // the first children in arrays of their exact size: `push` on a short array grows it to 17+
  // slots, which every element with two or three children would keep for the whole page
  if (count === 0) parent.children = [node];
  else if (count === 1) parent.children = [kids[0]!, node];
  else if (count === 2) parent.children = [kids[0]!, kids[1]!, node];
  else kids.push(node);
}

function appendText(parent: ElementNode, raw: string) {
  const text = decodeEntities(raw);
  const kids = parent.children;
  const last = kids.length === 0 ? undefined : kids[kids.length - 1]!;
  if (last?.type === 'text') last.text += text;
  else appendChild(parent, { type: 'text', text });
}

/** Concatenated text content of a node (one pass, one join: linear however deep the tree). */
export function textContent(node: TreeNode): string {
  const parts: string[] = [];
  collectText(node, parts);
  return parts.join('');
}

function collectText(node: TreeNode, parts: string[]): void {
  if (node.type === 'text') {
    parts.push(node.text);
    return;
  }
  if (node.tag === 'script' || node.tag === 'style') return;
  for (const child of node.children) collectText(child, parts);
}

/** Finds the first element with the tag (depth first). */
export function findElement(node: ElementNode, tag: string): ElementNode | null {
  for (const child of node.children) {
    if (child.type !== 'element') continue;
    if (child.tag === tag) return child;
    const found = findElement(child, tag);
    if (found) return found;
  }
  return null;
}
