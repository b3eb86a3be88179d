/**
 * The character-level pieces of the HTML parser (html-tree.ts): tag names, attributes, the end of
 * a tag, the end of a raw-text element, character references. Each reads the page by index
 * (`charCodeAt`), without slicing it into per-tag strings or running a regular expression per tag,
 * and each stops at a bound its caller gives, so the parse stays one linear scan. Pure.
 */
import { PAGE_LIMITS, type PageNotes } from './limits';

/** The HTML Standard's ASCII whitespace (what separates attributes). */
export function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 12 || code === 13;
}

/** JavaScript's `\s` (and `String.prototype.trim`'s set), by code. */
export function isWhitespace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

const NAMED_ENTITIES: ReadonlyMap<string, string> = new Map(
  Object.entries({
    amp: '&',
    lt: '<',
    gt: '>',
    quot: '"',
    apos: "'",
    nbsp: '\u00a0',
    copy: '©',
    reg: '®',
    trade: '™',
    hellip: '…',
    mdash: '—',
    ndash: '–',
    lsquo: '‘',
    rsquo: '’',
    ldquo: '“',
    rdquo: '”',
    laquo: '«',
    raquo: '»',
    middot: '·',
    bull: '•',
    euro: '€',
    pound: '£',
    yen: '¥',
    cent: '¢',
    deg: '°',
    times: '×',
    divide: '÷',
    para: '¶',
    sect: '§',
    shy: '\u00ad',
    eacute: 'é',
    egrave: 'è',
    agrave: 'à',
    aacute: 'á',
    ccedil: 'ç',
    ouml: 'ö',
    uuml: 'ü',
    auml: 'ä',
    szlig: 'ß',
    iexcl: '¡',
    iquest: '¿',
    ntilde: 'ñ',
  }),
);

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

const isAsciiAlpha = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isNameChar = (c: number) => isAsciiAlpha(c) || (c >= 48 && c <= 57) || c === 58 /* : */ || c === 45; /* - */

/**
 * The end of the tag name starting at `start` (`[a-zA-Z][a-zA-Z0-9:-]*`, read no further than
 * `limit`), or -1 when no name starts there.
 */
export function tagNameEnd(html: string, start: number, limit: number): number {
  if (start >= limit || !isAsciiAlpha(html.charCodeAt(start))) return -1;
  let end = start + 1;
  while (end < limit && isNameChar(html.charCodeAt(end))) end++;
  return end;
}

/** Tag names as written → lower case, shared by every element of one parse (bounded). */
export class TagNames {
  readonly #names = new Map<string, string>();

  get(html: string, start: number, end: number): string {
    const written = html.slice(start, end);
    const known = this.#names.get(written);
    if (known !== undefined) return known;
    const lower = written.toLowerCase();
    if (this.#names.size < 1024) this.#names.set(written, lower);
    return lower;
  }
}

/** The index of the `>` ending a tag whose name ends before `from` (quotes only count inside attribute values). */
export function findTagEnd(html: string, from: number): number {
  let quote = -1;
  let afterEquals = false;
  const length = html.length;
  for (let i = from; i < length; i++) {
    const ch = html.charCodeAt(i);
    if (quote !== -1) {
      if (ch === quote) quote = -1;
    } else if ((ch === 34 || ch === 39) && afterEquals) {
      quote = ch;
    } else if (ch === 62 /* > */) {
      return i;
    }
    if (quote === -1) afterEquals = ch === 61 /* = */ || (afterEquals && isSpace(ch));
  }
  return length - 1;
}

/** Whether the inside of a tag, `html[start, end)`, ends with `/` (before trailing whitespace). */
export function endsSelfClosing(html: string, start: number, end: number): boolean {
  let k = end - 1;
  while (k >= start && isWhitespace(html.charCodeAt(k))) k--;
  return k >= start && html.charCodeAt(k) === 47;
}

/**
 * A case-insensitive search for `</tag` followed by space, `/`, `>` or the end, from `from`:
 * `[start, end)` of that end tag, or null if none. `tag` is lower-case ASCII letters.
 */
export function findRawTextEnd(html: string, tag: string, from: number): { start: number; end: number } | null {
  let at = from;
  const after = tag.length + 2;
  for (;;) {
    const lt = html.indexOf('</', at);
    if (lt === -1) return null;
    let same = lt + after <= html.length;
    for (let k = 0; same && k < tag.length; k++) same = (html.charCodeAt(lt + 2 + k) | 0x20) === tag.charCodeAt(k);
    if (same) {
      const next = html.charCodeAt(lt + after);
      if (Number.isNaN(next) || next === 62 /* > */ || next === 47 /* / */ || isSpace(next)) {
        const gt = html.indexOf('>', lt + after);
        return { start: lt, end: gt === -1 ? html.length : gt + 1 };
      }
    }
    at = lt + 2;
  }
}

const URL_ATTRIBUTES = new Set(['href', 'src', 'data-src', 'action', 'formaction', 'poster', 'srcset']);

/** The attributes of an element without any: one shared frozen record instead of one each. */
export const NO_ATTRIBUTES: Record<string, string> = Object.freeze(Object.create(null) as Record<string, string>);

/**
 * Reads the attributes of a start tag's inside, `html[start, end)`, in one pass with the attribute
 * caps applied. The record is made on the first attribute: most tags have none.
 */
export function parseAttrs(html: string, start: number, end: number, notes: PageNotes | undefined): Record<string, string> {
  let attrs: Record<string, string> | null = null;
  let count = 0;
  let i = start;
  const n = end;
  while (i < n) {
    while (i < n && (isSpace(html.charCodeAt(i)) || html.charCodeAt(i) === 47)) i++;
    const nameStart = i;
    for (; i < n; i++) {
      const c = html.charCodeAt(i);
      if (isSpace(c) || c === 61 /* = */ || c === 62 /* > */ || (c === 47 /* / */ && i > nameStart)) break;
    }
    if (i === nameStart) {
      i++;
      continue;
    }
    const name = html.slice(nameStart, i).toLowerCase();
    let j = i;
    while (j < n && isSpace(html.charCodeAt(j))) j++;
    let value = '';
    if (j < n && html.charCodeAt(j) === 61) {
      j++;
      while (j < n && isSpace(html.charCodeAt(j))) j++;
      const quote = j < n ? html.charCodeAt(j) : -1;
      if (quote === 34 || quote === 39) {
        let stop = j + 1;
        while (stop < n && html.charCodeAt(stop) !== quote) stop++;
        value = html.slice(j + 1, stop);
        i = stop + 1;
      } else {
        let k = j;
        while (k < n && !isSpace(html.charCodeAt(k)) && html.charCodeAt(k) !== 62) k++;
        value = html.slice(j, k);
        i = k;
      }
    }
    if (attrs !== null && name in attrs) continue;
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
    // no prototype: an attribute named `constructor` or `__proto__` is just an attribute
    attrs ??= Object.create(null) as Record<string, string>;
    attrs[name] = decodeEntities(value);
    count++;
  }
  return attrs ?? NO_ATTRIBUTES;
}
