/**
 * A small, tolerant HTML parser producing a plain tree (no DOM, no bindings), enough for
 * HTML→markdown and the content filter. It follows the HTML Standard's tokenizer loosely:
 * raw-text elements (script, style, textarea, title), void elements, implied end tags for
 * p/li/dt/dd/tr/td/th/option, comments and doctype skipped, character references decoded.
 * Pure: string in, tree out.
 */
import { PAGE_LIMITS, type PageNotes } from './limits';

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

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'noembed', 'noframes']);
/** Tags whose opening implicitly closes an open element of the listed tags (HTML Standard §13.2.6). */
const IMPLIED_CLOSE: ReadonlyMap<string, readonly string[]> = new Map(Object.entries({
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
}));
/** Block starts that close an open <p>. */
const CLOSES_P = new Set([
  'address', 'article', 'aside', 'blockquote', 'details', 'div', 'dl', 'fieldset', 'figure', 'footer', 'form',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'main', 'nav', 'ol', 'pre', 'section', 'table', 'ul',
]);
/** Elements that bound implied closing (an <li> inside a nested <ul> does not close the outer <li>). */
const SCOPE = new Set(['ul', 'ol', 'table', 'dl', 'div', 'section', 'article', 'blockquote', 'td', 'th', 'select']);

const NAMED_ENTITIES: ReadonlyMap<string, string> = new Map(Object.entries({
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '©', reg: '®', trade: '™',
  hellip: '…', mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', laquo: '«',
  raquo: '»', middot: '·', bull: '•', euro: '€', pound: '£', yen: '¥', cent: '¢', deg: '°', times: '×',
  divide: '÷', para: '¶', sect: '§', shy: '\u00ad', eacute: 'é', egrave: 'è', agrave: 'à', aacute: 'á',
  ccedil: 'ç', ouml: 'ö', uuml: 'ü', auml: 'ä', szlig: 'ß', iexcl: '¡', iquest: '¿', ntilde: 'ñ',
}));

/** Decodes HTML character references (`&amp;`, `&#233;`, `&#xE9;`, the common named ones). */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z][a-z0-9]*);?/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
      return String.fromCodePoint(code);
    }
    return NAMED_ENTITIES.get(ref.toLowerCase()) ?? whole;
  });
}

const URL_ATTRIBUTES = new Set(['href', 'src', 'data-src', 'action', 'formaction', 'poster', 'srcset']);

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 12 || code === 13;
}

/** Reads the attributes of a start tag's inside, one pass, with the attribute caps applied. */
const NO_ATTRIBUTES: Record<string, string> = Object.freeze(Object.create(null) as Record<string, string>);
const NESTING_NOTE = `elements nested deeper than ${PAGE_LIMITS.maxDepth} were made siblings`;

function parseAttrs(source: string, notes: PageNotes | undefined): Record<string, string> {
  // most tags have no attributes: share one frozen empty record instead of allocating one each
  if (source.length === 0 || (source.length === 1 && source === '/')) return NO_ATTRIBUTES;
  // no prototype: an attribute named `constructor` or `__proto__` is just an attribute
  const attrs = Object.create(null) as Record<string, string>;
  let count = 0;
  let i = 0;
  const n = source.length;
  while (i < n) {
    while (i < n && (isSpace(source.charCodeAt(i)) || source[i] === '/')) i++;
    const nameStart = i;
    while (i < n && !isSpace(source.charCodeAt(i)) && source[i] !== '=' && source[i] !== '>' && !(source[i] === '/' && i > nameStart)) i++;
    if (i === nameStart) {
      i++;
      continue;
    }
    const name = source.slice(nameStart, i).toLowerCase();
    let j = i;
    while (j < n && isSpace(source.charCodeAt(j))) j++;
    let value = '';
    if (source[j] === '=') {
      j++;
      while (j < n && isSpace(source.charCodeAt(j))) j++;
      const quote = source[j];
      if (quote === '"' || quote === "'") {
        const close = source.indexOf(quote, j + 1);
        const stop = close === -1 ? n : close;
        value = source.slice(j + 1, stop);
        i = stop + 1;
      } else {
        let k = j;
        while (k < n && !isSpace(source.charCodeAt(k)) && source[k] !== '>') k++;
        value = source.slice(j, k);
        i = k;
      }
    }
    if (name in attrs) continue;
    if (count >= PAGE_LIMITS.maxAttributes) {
      notes?.note('attributes_dropped', `attributes past ${PAGE_LIMITS.maxAttributes} on one element were dropped`);
      continue;
    }
    if (value.length > PAGE_LIMITS.maxAttributeChars) {
      if (URL_ATTRIBUTES.has(name)) {
        notes?.note('attribute_dropped', `URL attributes longer than ${PAGE_LIMITS.maxAttributeChars} characters were dropped`);
        continue;
      }
      notes?.note('attribute_truncated', `attribute values were cut to ${PAGE_LIMITS.maxAttributeChars} characters`);
      value = value.slice(0, PAGE_LIMITS.maxAttributeChars);
    }
    attrs[name] = decodeEntities(value);
    count++;
  }
  return attrs;
}

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

/** A case-insensitive search for `</tag` followed by space, `/` or `>` from `from`; -1 if none. */
function findRawTextEnd(html: string, tag: string, from: number): { start: number; end: number } | null {
  const needle = `</${tag}`;
  let at = from;
  for (;;) {
    const lt = html.indexOf('</', at);
    if (lt === -1) return null;
    if (html.slice(lt, lt + needle.length).toLowerCase() === needle) {
      const after = html.charCodeAt(lt + needle.length);
      if (Number.isNaN(after) || after === 62 /* > */ || after === 47 /* / */ || isSpace(after)) {
        const gt = html.indexOf('>', lt + needle.length);
        return { start: lt, end: gt === -1 ? html.length : gt + 1 };
      }
    }
    at = lt + 2;
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

  let pos = 0;
  const length = html.length;
  while (pos < length) {
    const lt = html.indexOf('<', pos);
    if (lt === -1) {
      appendText(open.current, html.slice(pos));
      break;
    }
    if (lt > pos) appendText(open.current, html.slice(pos, lt));
    pos = lt;
    if (html.startsWith('<!--', pos)) {
      const end = html.indexOf('-->', pos + 4);
      pos = end === -1 ? length : end + 3;
      continue;
    }
    if (html[pos + 1] === '!' || html[pos + 1] === '?') {
      const end = html.indexOf('>', pos);
      pos = end === -1 ? length : end + 1;
      continue;
    }
    const closing = html[pos + 1] === '/';
    const nameMatch = TAG_NAME.exec(html.slice(pos + (closing ? 2 : 1), pos + 64));
    if (!nameMatch) {
      appendText(open.current, '<');
      pos += 1;
      continue;
    }
    const tag = nameMatch[0].toLowerCase();
    const tagEnd = findTagEnd(html, pos + (closing ? 2 : 1) + nameMatch[0].length);
    const inner = html.slice(pos + (closing ? 2 : 1) + nameMatch[0].length, tagEnd);
    pos = tagEnd + 1;
    if (closing) {
      const index = open.find([tag], false);
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
    const element: ElementNode = { type: 'element', tag, attrs: parseAttrs(inner, notes), children: [] };
    open.current.children.push(element);
    if (VOID.has(tag) || inner.trimEnd().endsWith('/')) continue;
    if (RAW_TEXT.has(tag)) {
      const close = findRawTextEnd(html, tag, pos);
      const raw = html.slice(pos, close ? close.start : length);
      if (raw) element.children.push({ type: 'text', text: tag === 'script' || tag === 'style' ? raw : decodeEntities(raw) });
      pos = close ? close.end : length;
      continue;
    }
    if (open.stack.length > PAGE_LIMITS.maxDepth) {
      notes?.note('nesting_flattened', NESTING_NOTE);
      continue;
    }
    open.push(element);
  }
  return root;
}

const TAG_NAME = /^[a-zA-Z][a-zA-Z0-9:-]*/;
const P_ONLY = ['p'];

/** The index of the `>` ending a tag whose name ends before `from` (quotes only count inside attribute values). */
function findTagEnd(html: string, from: number): number {
  let quote: string | null = null;
  let afterEquals = false;
  for (let i = from; i < html.length; i++) {
    const ch = html[i];
    if (quote) {
      if (ch === quote) quote = null;
    } else if ((ch === '"' || ch === "'") && afterEquals) {
      quote = ch;
    } else if (ch === '>') {
      return i;
    }
    if (!quote) afterEquals = ch === '=' || (afterEquals && isSpace(html.charCodeAt(i)));
  }
  return html.length - 1;
}

function appendText(parent: ElementNode, raw: string) {
  const text = decodeEntities(raw);
  const last = parent.children[parent.children.length - 1];
  if (last?.type === 'text') last.text += text;
  else parent.children.push({ type: 'text', text });
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

const ESCAPE_ATTR: Record<string, string> = { '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;' };
const ESCAPE_TEXT: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** Serializes a tree back to HTML (used for `fit_html`); one output array, linear in the tree. */
export function serializeHtml(node: TreeNode): string {
  const parts: string[] = [];
  serializeInto(node, parts);
  return parts.join('');
}

function serializeInto(node: TreeNode, parts: string[]): void {
  if (node.type === 'text') {
    parts.push(node.text.replace(/[&<>]/g, (c) => ESCAPE_TEXT[c]!));
    return;
  }
  const isRoot = node.tag === '#root';
  if (!isRoot) {
    parts.push(`<${node.tag}`);
    for (const [k, v] of Object.entries(node.attrs)) parts.push(` ${k}="${v.replace(/[&"<>]/g, (c) => ESCAPE_ATTR[c]!)}"`);
    parts.push('>');
    if (VOID.has(node.tag)) return;
  }
  for (const child of node.children) serializeInto(child, parts);
  if (!isRoot) parts.push(`</${node.tag}>`);
}
