/**
 * A small, tolerant HTML parser producing a plain tree (no DOM, no bindings), enough for
 * HTML→markdown and the content filter. It follows the HTML Standard's tokenizer loosely:
 * raw-text elements (script, style, textarea, title), void elements, implied end tags for
 * p/li/dt/dd/tr/td/th/option, comments and doctype skipped, character references decoded.
 * Pure: string in, tree out.
 */
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
const IMPLIED_CLOSE: Record<string, string[]> = {
  p: ['p'],
  li: ['li'],
  dt: ['dt', 'dd'],
  dd: ['dt', 'dd'],
  tr: ['tr', 'td', 'th'],
  td: ['td', 'th'],
  th: ['td', 'th'],
  option: ['option'],
  thead: ['tbody', 'tfoot'],
  tbody: ['thead', 'tbody', 'tfoot', 'tr', 'td', 'th'],
  tfoot: ['thead', 'tbody', 'tr', 'td', 'th'],
};
/** Block starts that close an open <p>. */
const CLOSES_P = new Set([
  'address', 'article', 'aside', 'blockquote', 'details', 'div', 'dl', 'fieldset', 'figure', 'footer', 'form',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'main', 'nav', 'ol', 'pre', 'section', 'table', 'ul',
]);
/** Elements that bound implied closing (an <li> inside a nested <ul> does not close the outer <li>). */
const SCOPE = new Set(['ul', 'ol', 'table', 'dl', 'div', 'section', 'article', 'blockquote', 'td', 'th', 'select']);

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '©', reg: '®', trade: '™',
  hellip: '…', mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', laquo: '«',
  raquo: '»', middot: '·', bull: '•', euro: '€', pound: '£', yen: '¥', cent: '¢', deg: '°', times: '×',
  divide: '÷', para: '¶', sect: '§', shy: '\u00ad', eacute: 'é', egrave: 'è', agrave: 'à', aacute: 'á',
  ccedil: 'ç', ouml: 'ö', uuml: 'ü', auml: 'ä', szlig: 'ß', iexcl: '¡', iquest: '¿', ntilde: 'ñ',
};

/** Decodes HTML character references (`&amp;`, `&#233;`, `&#xE9;`, the common named ones). */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z][a-z0-9]*);?/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
      return String.fromCodePoint(code);
    }
    return NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

const ATTR_RE = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;

function parseAttrs(source: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const match of source.matchAll(ATTR_RE)) {
    const name = match[1]!.toLowerCase();
    if (name in attrs) continue;
    attrs[name] = decodeEntities(match[2] ?? match[3] ?? match[4] ?? '');
  }
  return attrs;
}

/** Parses an HTML document or fragment; the returned root is a synthetic `#root` element. */
export function parseHtml(html: string): ElementNode {
  const root: ElementNode = { type: 'element', tag: '#root', attrs: {}, children: [] };
  const stack: ElementNode[] = [root];
  const current = () => stack[stack.length - 1]!;
  const closeUpTo = (index: number) => {
    stack.length = index;
  };
  const findOpen = (tags: string[], scoped: boolean): number => {
    for (let i = stack.length - 1; i > 0; i--) {
      const tag = stack[i]!.tag;
      if (tags.includes(tag)) return i;
      if (scoped && SCOPE.has(tag)) return -1;
    }
    return -1;
  };

  let pos = 0;
  const length = html.length;
  while (pos < length) {
    const lt = html.indexOf('<', pos);
    if (lt === -1) {
      appendText(current(), html.slice(pos));
      break;
    }
    if (lt > pos) appendText(current(), html.slice(pos, lt));
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
    const nameMatch = /^[a-zA-Z][a-zA-Z0-9:-]*/.exec(html.slice(pos + (closing ? 2 : 1), pos + 64));
    if (!nameMatch) {
      appendText(current(), '<');
      pos += 1;
      continue;
    }
    const tag = nameMatch[0].toLowerCase();
    const tagEnd = findTagEnd(html, pos);
    const inner = html.slice(pos + (closing ? 2 : 1) + nameMatch[0].length, tagEnd);
    pos = tagEnd + 1;
    if (closing) {
      const index = findOpen([tag], false);
      if (index > 0) closeUpTo(index);
      continue;
    }
    const implied = IMPLIED_CLOSE[tag];
    if (implied) {
      const index = findOpen(implied, true);
      if (index > 0) closeUpTo(index);
    }
    if (CLOSES_P.has(tag)) {
      const index = findOpen(['p'], true);
      if (index > 0) closeUpTo(index);
    }
    const element: ElementNode = { type: 'element', tag, attrs: parseAttrs(inner), children: [] };
    current().children.push(element);
    if (VOID.has(tag) || inner.trimEnd().endsWith('/')) continue;
    if (RAW_TEXT.has(tag)) {
      const closeRe = new RegExp(`</${tag}\\s*>`, 'i');
      const rest = html.slice(pos);
      const match = closeRe.exec(rest);
      const raw = match ? rest.slice(0, match.index) : rest;
      if (raw) element.children.push({ type: 'text', text: tag === 'script' || tag === 'style' ? raw : decodeEntities(raw) });
      pos = match ? pos + match.index + match[0].length : length;
      continue;
    }
    stack.push(element);
  }
  return root;
}

function findTagEnd(html: string, from: number): number {
  let quote: string | null = null;
  for (let i = from + 1; i < html.length; i++) {
    const ch = html[i];
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '>') {
      return i;
    }
  }
  return html.length - 1;
}

function appendText(parent: ElementNode, raw: string) {
  const text = decodeEntities(raw);
  const last = parent.children[parent.children.length - 1];
  if (last?.type === 'text') last.text += text;
  else parent.children.push({ type: 'text', text });
}

/** Concatenated text content of a node. */
export function textContent(node: TreeNode): string {
  if (node.type === 'text') return node.text;
  if (node.tag === 'script' || node.tag === 'style') return '';
  return node.children.map(textContent).join('');
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

/** Serializes a tree back to HTML (used for `fit_html`). */
export function serializeHtml(node: TreeNode): string {
  if (node.type === 'text') return node.text.replace(/[&<>]/g, (c) => ESCAPE_TEXT[c]!);
  const inner = node.children.map(serializeHtml).join('');
  if (node.tag === '#root') return inner;
  const attrs = Object.entries(node.attrs)
    .map(([k, v]) => ` ${k}="${v.replace(/[&"<>]/g, (c) => ESCAPE_ATTR[c]!)}"`)
    .join('');
  if (VOID.has(node.tag)) return `<${node.tag}${attrs}>`;
  return `<${node.tag}${attrs}>${inner}</${node.tag}>`;
}
