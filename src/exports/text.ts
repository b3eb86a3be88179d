/**
 * Character-level escaping shared by the encoders. Pure. Every function takes crawled text (hostile
 * by assumption: quotes, markup, `]]>`, control characters, lone surrogates) and returns text that
 * is safe in its target syntax.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Replaces unpaired UTF-16 surrogates with U+FFFD (what UTF-8 encoding would do anyway). */
export function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * XML 1.0 §2.2 `Char`: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
 * Anything else (C0 controls, U+FFFE/U+FFFF, lone surrogates) cannot appear even as a character
 * reference, so it is replaced with U+FFFD. The same set is used for HTML and Markdown, where
 * controls are parse errors and NUL is rewritten by parsers anyway.
 */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text with only characters every document format accepts (XML 1.0 `Char`). */
export function documentSafe(s: string): string {
  return wellFormed(s).replace(NOT_XML_CHAR, '\uFFFD');
}

/**
 * Escapes character data for XML and HTML element content. `\r` becomes `&#13;` because both
 * parsers normalise a literal CR (XML 1.0 §2.11, HTML "preprocessing the input stream") and the
 * reference survives. No CDATA: a `]]>` inside the text would end the section.
 */
export function markupText(s: string): string {
  return documentSafe(s).replace(/[&<>\r]/g, (ch) => MARKUP_ENTITIES[ch]!);
}

/** Escapes an attribute value (double-quoted); tab and newline are references so they survive attribute-value normalisation (XML 1.0 §3.3.3). */
export function markupAttr(s: string): string {
  return documentSafe(s).replace(/[&<>"'\t\n\r]/g, (ch) => MARKUP_ENTITIES[ch]!);
}

const MARKUP_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/**
 * OWASP "CSV Injection": a cell a spreadsheet would read as a formula (starts with `=`, `+`, `-`,
 * `@`, tab or CR) gets a leading `'`, which spreadsheets show as text. Applied to text cells only;
 * real numbers are written as numbers.
 */
export function guardFormula(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

/** One RFC 4180 field: quoted when it holds `"`, `,`, CR or LF; inner quotes doubled. */
export function csvField(s: string): string {
  const v = wellFormed(s);
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * Inline Markdown text: every ASCII punctuation character is backslash-escaped (CommonMark §2.4),
 * so crawled text can form no link, image, HTML tag, emphasis or heading. Line breaks (and U+2028/
 * U+2029, which some Markdown parsers treat as line ends) become spaces.
 */
export function markdownInline(s: string): string {
  return documentSafe(s)
    .replace(/[\r\n\u2028\u2029]+/g, ' ')
    .replace(/[!-/:-@[-`{-~]/g, (ch) => `\\${ch}`);
}

/**
 * A fenced code block holding `s` verbatim (CommonMark §4.5): the fence is one tilde longer than
 * the longest tilde run inside, so the content can never close it. Line endings become LF, and
 * trailing line breaks are dropped (a fenced block cannot say whether its text ended with one).
 */
export function markdownFence(s: string, info = ''): string {
  const body = markdownBlockText(s);
  let longest = 0;
  for (const run of body.matchAll(/~+/g)) longest = Math.max(longest, run[0].length);
  const fence = '~'.repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${body}\n${fence}\n`;
}

/** What a Markdown block carries of `s`: document-safe characters, LF line ends, no trailing breaks. */
export function markdownBlockText(s: string): string {
  return documentSafe(s).replace(/\r\n?/g, '\n').replace(/\n+$/, '');
}
