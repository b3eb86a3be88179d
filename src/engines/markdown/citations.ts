/**
 * Crawl4AI's `markdown_with_citations` + `references_markdown`: every markdown link or image
 * becomes `text⟨n⟩` (`![alt⟨n⟩]` for images), numbered once per distinct URL, and the references
 * list `⟨n⟩ url: title - text` follows under "## References" (as Crawl4AI's
 * DefaultMarkdownGenerator.convert_links_to_citations does). Pure.
 *
 * The links are found by one left-to-right scan, not a regular expression: the old
 * `\[((?:\\.|[^\]\\])+)\]\(…\)` backtracked over the rest of the text at every `[`, so a page
 * of 120,000 `[` took ~17 s. Every "where is the next X" question here is asked at positions that
 * only move forward, so each answer is found by a cursor that never moves back (`Seeker`): the
 * whole scan reads each character a bounded number of times.
 */
export interface Citations {
  markdownWithCitations: string;
  referencesMarkdown: string;
}

/** What a `Seeker` looks for (one class with a switch, not a callback per seeker: the call per character stays monomorphic). */
const CLOSE_BRACKET = 0; // an unescaped `]`
const OPEN_BRACKET = 1; // an unescaped `[`
const URL_END = 2; // `)` or a space: the end of a link destination
const ANGLE_END = 3; // `>`
const QUOTE_END = 4; // `"`
const NON_SPACE = 5; // anything but a space
type Seek = 0 | 1 | 2 | 3 | 4 | 5;

function matches(kind: Seek, text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  switch (kind) {
    case CLOSE_BRACKET:
      return c === 93 && !escaped(text, i);
    case OPEN_BRACKET:
      return c === 91 && !escaped(text, i);
    case URL_END:
      return c === 41 || isSpace(c);
    case ANGLE_END:
      return c === 62;
    case QUOTE_END:
      return c === 34;
    default:
      return !isSpace(c);
  }
}

/** The next position ≥ `from` whose character is what `kind` looks for, for non-decreasing `from`. */
class Seeker {
  #at = -1;
  #found = -1;

  constructor(
    private readonly text: string,
    private readonly kind: Seek,
  ) {}

  next(from: number): number {
    if (from <= this.#found) return this.#found;
    if (this.#found === -2) return -1;
    let i = Math.max(from, this.#at + 1);
    for (; i < this.text.length; i++) {
      if (matches(this.kind, this.text, i)) {
        this.#at = i;
        this.#found = i;
        return i;
      }
    }
    this.#at = this.text.length;
    this.#found = -2;
    return -1;
  }
}

/** Is the character at `i` escaped by an odd run of backslashes before it? */
function escaped(text: string, i: number): boolean {
  let n = 0;
  for (let j = i - 1; j >= 0 && text.charCodeAt(j) === 92; j--) n++;
  return n % 2 === 1;
}

const isSpace = (code: number) => code === 32 || code === 9 || code === 10 || code === 13 || code === 12 || code === 11;

interface Link {
  end: number;
  label: string;
  url: string;
  title: string | undefined;
}

/** Rewrites links as numbered citations and builds the references list. */
export function toCitations(markdown: string): Citations {
  const closeBracket = new Seeker(markdown, CLOSE_BRACKET);
  const openBracket = new Seeker(markdown, OPEN_BRACKET);
  const urlEnd = new Seeker(markdown, URL_END);
  const angleEnd = new Seeker(markdown, ANGLE_END);
  const quoteEnd = new Seeker(markdown, QUOTE_END);
  const nonSpace = new Seeker(markdown, NON_SPACE);

  /** A link whose `[` is at `open`, or null. */
  const linkAt = (open: number): Link | null => {
    const close = closeBracket.next(open + 1);
    if (close <= open + 1 || markdown.charCodeAt(close + 1) !== 40 /* ( */) return null;
    // the innermost brackets make the link: `[[[a](u)` cites `a`, not `[[a`
    const inner = openBracket.next(open + 1);
    if (inner !== -1 && inner < close) return null;
    let i = close + 2;
    let url: string;
    if (markdown.charCodeAt(i) === 60 /* < */) {
      const gt = angleEnd.next(i + 1);
      if (gt === -1) return null;
      url = markdown.slice(i + 1, gt);
      i = gt + 1;
    } else {
      const stop = urlEnd.next(i);
      const end = stop === -1 ? markdown.length : stop;
      if (end === i) return null;
      url = markdown.slice(i, end);
      i = end;
    }
    let title: string | undefined;
    if (isSpace(markdown.charCodeAt(i))) {
      const q = nonSpace.next(i);
      if (q !== -1 && markdown.charCodeAt(q) === 34) {
        const qe = quoteEnd.next(q + 1);
        if (qe !== -1 && markdown.charCodeAt(qe + 1) === 41) {
          title = markdown.slice(q + 1, qe);
          i = qe + 1;
        }
      }
    }
    if (markdown.charCodeAt(i) !== 41 /* ) */) return null;
    return { end: i + 1, label: markdown.slice(open + 1, close), url, title };
  };

  // the number of each cited URL, and the references list in the same order
  const refs = new Map<string, number>();
  const lines: string[] = [];
  const parts: string[] = [];
  let copied = 0;
  let pos = 0;
  for (;;) {
    const open = markdown.indexOf('[', pos);
    if (open === -1) break;
    const found = linkAt(open);
    if (!found) {
      pos = open + 1;
      continue;
    }
    const image = open > 0 && markdown.charCodeAt(open - 1) === 33 /* ! */ && open - 1 >= copied;
    parts.push(markdown.slice(copied, image ? open - 1 : open));
    const label = found.label.includes('\\') ? found.label.replace(/\\([[\]])/g, '$1') : found.label;
    let n = refs.get(found.url);
    if (n === undefined) {
      n = refs.size + 1;
      refs.set(found.url, n);
      // `: title - label`, each part only when present (and the label only when not the title)
      const title = found.title;
      const withLabel = label !== '' && label !== title;
      const desc = title ? (withLabel ? `: ${title} - ${label}` : `: ${title}`) : withLabel ? `: ${label}` : '';
      lines.push(`⟨${n}⟩ ${found.url}${desc}\n`);
    }
    parts.push(image ? `![${label}⟨${n}⟩]` : `${label}⟨${n}⟩`);
    copied = pos = found.end;
  }
  parts.push(markdown.slice(copied));
  return { markdownWithCitations: parts.join(''), referencesMarkdown: `\n\n## References\n\n${lines.join('')}` };
}
