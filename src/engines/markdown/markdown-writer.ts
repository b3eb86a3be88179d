/**
 * An append-only markdown writer: the renderer walks the tree once and writes into it, so no
 * subtree's markdown is ever re-read, trimmed or re-wrapped by its ancestors (which made the old
 * string-returning renderer O(depth × size)). It keeps the layout rules of the old `tidy` pass:
 * blank lines between blocks (at most one), single spaces inside lines, no trailing spaces, line
 * prefixes for block quotes and list items, markers (emphasis, link brackets, heading hashes) kept
 * around the content and out of the surrounding space — and written only when content follows.
 */
import { PAGE_LIMITS, type PageNotes } from './limits';
import { TextSink } from './text-sink';

const PREFIX_NOTE = `quotes and list items nested deeper than ${PAGE_LIMITS.maxPrefixDepth} were not indented further`;

/**
 * The markers of one list: `- `, or `n. ` numbered from `next`. One per list, not per item: an
 * item takes its number when its first line is written, so an empty item takes none.
 */
export interface ListMarkers {
  ordered: boolean;
  next: number;
}

/** A line prefix: `> ` for a quote; a list marker on the item's first line, its width in spaces after. */
interface Prefix {
  quote: boolean;
  /** For an item: the list whose marker is written on its first line (null once written). */
  marker: ListMarkers | null;
  text: string;
}

export class MarkdownWriter {
  readonly #out = new TextSink();
  #written = false;
  #atLineStart = true;
  #pendingNewlines = 0;
  #pendingSpace = false;
  readonly #prefixes: Prefix[] = [];
  #prefixText = '';
  /** Prefixes in effect on the last content line, and the fewest open since (for blank-line prefixes). */
  #lineDepth = 0;
  #minDepthSinceLine = 0;
  #ignoredPrefixes = 0;
  /** Marker pairs around inline content, opened lazily: their opening text, whether written (a stack). */
  readonly #openerText: string[] = [];
  readonly #openerOpened: boolean[] = [];
  #openerCount = 0;
  /** List items on the prefix stack whose marker is not written yet. */
  #pendingMarkers = 0;
  #firstUnopened = 0;
  #singleLine = 0;
  #escapeBrackets = 0;
  #escapePipes = 0;
  #listItemDepth = 0;

  constructor(private readonly notes?: PageNotes) {}

  /** Inline text whose whitespace is already collapsed to single spaces. */
  text(text: string): void {
    if (!text) return;
    const lead = text.charCodeAt(0) === 32;
    const trail = text.length > 1 && text.charCodeAt(text.length - 1) === 32;
    if (lead) this.#pendingSpace = true;
    const core = text.slice(lead ? 1 : 0, trail ? -1 : text.length);
    if (core) this.#content(core);
    if (trail) this.#pendingSpace = true;
  }

  /** A space between inline runs (collapsed with its neighbours). */
  space(): void {
    this.#pendingSpace = true;
  }

  /** Asks for a line break (1) or a blank line (2) before the next content. */
  newline(count: 1 | 2): void {
    if (this.#singleLine > 0) {
      this.#pendingSpace = true;
      return;
    }
    const max = this.#listItemDepth > 0 ? 1 : 2;
    this.#pendingNewlines = Math.max(this.#pendingNewlines, Math.min(count, max));
  }

  /** Lines written as they are (fenced code); in a single-line context they become inline text. */
  preformatted(lines: string[]): void {
    if (this.#singleLine > 0) {
      this.text(lines.join(' ').replace(/\s+/g, ' '));
      return;
    }
    this.newline(2);
    lines.forEach((line, i) => {
      if (i > 0) this.#pendingNewlines = 1;
      if (line) this.#content(line, true);
      else if (i > 0) this.#flushLines();
    });
    this.newline(2);
  }

  /** Starts a marker pair (`**`, `[`, `# `) that is written only if content follows. */
  openMarker(open: string): number {
    const index = this.#openerCount++;
    this.#openerText[index] = open;
    this.#openerOpened[index] = false;
    return index;
  }

  /** Ends the marker pair started at `index`; `close` is written if its opener was (returns whether). */
  closeMarker(index: number, close: string | (() => string)): boolean {
    const opened = this.#openerOpened[index]!;
    this.#openerCount = index;
    if (this.#firstUnopened > index) this.#firstUnopened = index;
    if (!opened) return false;
    const text = typeof close === 'string' ? close : close();
    if (text) this.#raw(this.#escape(text));
    return true;
  }

  /** Newlines become spaces until the matching `leaveSingleLine` (headings, table cells, link text). */
  enterSingleLine(): void {
    this.#singleLine++;
  }

  leaveSingleLine(): void {
    this.#singleLine--;
  }

  /** `[` and `]` are escaped until the matching `leaveBrackets` (link text). */
  enterBrackets(): void {
    this.#escapeBrackets++;
  }

  leaveBrackets(): void {
    this.#escapeBrackets--;
  }

  /** `|` is escaped until the matching `leavePipes` (table cells). */
  enterPipes(): void {
    this.#escapePipes++;
  }

  leavePipes(): void {
    this.#escapePipes--;
  }

  /** Runs `fn` with newlines turned into spaces (headings, table cells, link text). */
  singleLine(fn: () => void): void {
    this.#singleLine++;
    try {
      fn();
    } finally {
      this.#singleLine--;
    }
  }

  /** Runs `fn` with `[` and `]` escaped (link text). */
  escapingBrackets(fn: () => void): void {
    this.#escapeBrackets++;
    try {
      fn();
    } finally {
      this.#escapeBrackets--;
    }
  }

  /** Runs `fn` with `|` escaped (table cells). */
  escapingPipes(fn: () => void): void {
    this.#escapePipes++;
    try {
      fn();
    } finally {
      this.#escapePipes--;
    }
  }

  /** Starts a block quote (`> ` on each line) that lasts until the matching `endQuote`. */
  beginQuote(): void {
    this.#pushPrefix(true, null, '> ');
  }

  endQuote(): void {
    this.#popPrefix();
  }

  /**
   * Starts a list item of `list` that lasts until the matching `endListItem`: its marker on its
   * first line, the marker's width in spaces on the next ones.
   */
  beginListItem(list: ListMarkers): void {
    this.newline(1);
    this.#listItemDepth++;
    this.#pushPrefix(false, list, '');
  }

  endListItem(): void {
    this.#popPrefix();
    this.#listItemDepth--;
  }

  /** The markdown written so far. */
  toString(): string {
    return this.#out.toString();
  }

  /** Pushes a line prefix, or counts it as ignored (single-line context, or past the depth cap). */
  #pushPrefix(quote: boolean, marker: ListMarkers | null, text: string): void {
    // once a prefix is ignored, every prefix opened inside it is too (the single-line context or
    // the full stack lasts until it closes), so the ignored ones always close first
    if (this.#singleLine > 0 || this.#prefixes.length >= PAGE_LIMITS.maxPrefixDepth) {
      if (this.#singleLine === 0) this.notes?.note('prefix_depth', PREFIX_NOTE);
      this.#ignoredPrefixes++;
      return;
    }
    this.#prefixes.push({ quote, marker, text });
    if (marker) this.#pendingMarkers++;
    this.#updatePrefixText();
  }

  #popPrefix(): void {
    if (this.#ignoredPrefixes > 0) {
      this.#ignoredPrefixes--;
      return;
    }
    if (this.#prefixes.pop()!.marker) this.#pendingMarkers--;
    this.#minDepthSinceLine = Math.min(this.#minDepthSinceLine, this.#prefixes.length);
    this.#updatePrefixText();
  }

  #updatePrefixText(): void {
    const prefixes = this.#prefixes;
    if (prefixes.length === 0) {
      this.#prefixText = '';
      return;
    }
    // joined, not `+=`: a flat string, which each line copies cheaply (a rope is walked per copy)
    const parts = new Array<string>(prefixes.length);
    for (let i = 0; i < prefixes.length; i++) parts[i] = prefixes[i]!.text;
    this.#prefixText = parts.join('');
  }

  #escape(text: string): string {
    let out = text;
    if (this.#escapeBrackets > 0 && (out.includes('[') || out.includes(']'))) out = out.replace(/[[\]]/g, '\\$&');
    if (this.#escapePipes > 0 && out.includes('|')) out = out.replace(/\|/g, '\\|');
    return out;
  }

  #raw(text: string): void {
    this.#out.add(text);
  }

  /** Writes the pending line breaks (with the prefixes blank lines keep). */
  #flushLines(): void {
    if (this.#pendingNewlines > 0 && this.#written) {
      this.#raw('\n');
      if (this.#pendingNewlines > 1) {
        const common = Math.min(this.#lineDepth, this.#minDepthSinceLine, this.#prefixes.length);
        let blank = '';
        for (let i = 0; i < common; i++) {
          const p = this.#prefixes[i]!;
          blank += p.quote ? '> ' : p.text;
        }
        this.#raw(blank.trimEnd());
        this.#raw('\n');
      }
      this.#atLineStart = true;
    }
    this.#pendingNewlines = 0;
  }

  #content(text: string, verbatim = false): void {
    this.#flushLines();
    if (this.#atLineStart) {
      if (this.#pendingMarkers > 0) {
        // a list item's first line: its marker takes the place of its indent
        let line = '';
        for (const prefix of this.#prefixes) {
          if (!prefix.marker) {
            line += prefix.text;
            continue;
          }
          const list = prefix.marker;
          const marker = list.ordered ? `${list.next++}. ` : '- ';
          prefix.marker = null;
          this.#pendingMarkers--;
          prefix.text = ' '.repeat(marker.length);
          line += marker;
        }
        this.#updatePrefixText();
        this.#raw(line);
      } else {
        this.#raw(this.#prefixText);
      }
      this.#atLineStart = false;
      this.#pendingSpace = false;
      this.#lineDepth = this.#prefixes.length;
      this.#minDepthSinceLine = this.#prefixes.length;
    } else if (this.#pendingSpace) {
      this.#raw(' ');
    }
    this.#pendingSpace = false;
    for (let i = this.#firstUnopened; i < this.#openerCount; i++) {
      this.#openerOpened[i] = true;
      this.#raw(this.#escapeOpener(this.#openerText[i]!));
    }
    this.#firstUnopened = this.#openerCount;
    this.#raw(verbatim ? text : this.#escape(text));
    this.#written = true;
  }

  /** Openers are the renderer's own syntax: `[` of a link is not escaped, pipes still are. */
  #escapeOpener(open: string): string {
    return this.#escapePipes > 0 && open.includes('|') ? open.replace(/\|/g, '\\|') : open;
  }
}
