/**
 * Hostile crawl results and real-parser decoders for the export tests. The decoders use standard
 * parsers (csv-parse, fast-xml-parser, marked, parse5, JSON.parse) so a test proves that what a
 * user's tool reads back is what was crawled.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Lexer, type Tokens } from 'marked';
import { parse as parseHtml } from 'parse5';
import type { CrawlResult } from '../../src/crawl/types';
import { expect } from 'vitest';
import { documentSafe, markdownBlockText, wellFormed } from '../../src/exports/text';
import { DEFAULT_DOCUMENT_FIELDS, DEFAULT_TABLE_FIELDS, fieldValue } from '../../src/exports/fields';
import type { ExportFormat } from '../../src/exports/formats';

/** Strings that break naive encoders. */
export const HOSTILE = [
  'He said "hi", then left',
  'a,b,,c',
  'line1\r\nline2\nline3\rline4',
  '<script>alert(1)</script>',
  ']]><![CDATA[x]]> ]]>',
  '=HYPERLINK("http://evil.example","x")',
  '+1+1',
  '-2+3',
  '@SUM(A1:A2)',
  '\tstarts with tab',
  '\rstarts with CR',
  'emoji 😀 music 𝄞 astral 𠜎',
  'lone high \uD800 surrogate',
  'lone low \uDC00 surrogate',
  'controls \u0000\u0001\u0008\u000B\u000C\u001F\u007F\u0085 end',
  'nonchars \uFFFE\uFFFF end',
  '&amp; &lt; &#x41; &',
  "it's 'quoted'",
  '~~~ fence ``` ~~~~',
  '# heading [link](javascript:alert(1)) ![i](x) <img src=x onerror=alert(1)> *em* _u_ \\ back',
  'separators \u2028 \u2029',
  '  spaced  ',
  '',
] as const;

/** A CrawlResult whose every text field is hostile; `i` varies which strings land where. */
export function hostileRecord(i: number, bigField = false): CrawlResult & Record<string, unknown> {
  const h = (k: number) => HOSTILE[(i + k) % HOSTILE.length]!;
  return {
    url: `https://example.com/p/${i}?q="x",y&z=<a>`,
    success: i % 7 !== 3,
    status_code: i % 7 === 3 ? null : 200,
    html: bigField
      ? `<html>${HOSTILE.join('\n').repeat(Math.ceil(1_048_576 / HOSTILE.join('\n').length))}</html>`
      : `<html><body>${h(0)}</body></html>`,
    cleaned_html: h(1),
    markdown: {
      raw_markdown: `# Page ${i}\n\n${HOSTILE.join('\n')}\n${h(2)}`,
      markdown_with_citations: h(3),
      references_markdown: '',
      fit_markdown: h(4),
    },
    links: { internal: [{ href: `/x?${i}`, text: h(5) }], external: [] },
    media: { images: [{ src: 'data:,', alt: h(6) }], videos: [], audios: [] },
    metadata: { title: h(7), description: h(8), keywords: null },
    error_message: i % 7 === 3 ? h(9) : null,
    redirected_url: null,
    response_headers: { 'content-type': 'text/html', 'x weird:key\t"': h(10) },
    screenshot: null,
    pdf: null,
    crawl4ai_extra: { depth: i % 3, score: 0.5, nested: [[1, 'two', null, true]] },
  };
}

export async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function decompress(bytes: Uint8Array, format: 'gzip' | 'deflate'): Promise<Uint8Array> {
  return bytesOf(new Blob([bytes]).stream().pipeThrough(new DecompressionStream(format)));
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Maps every string inside a JSON value (for "what a format can carry" expectations). */
export function mapStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [f(k), mapStrings(x, f)]));
  return v;
}

export function parseCsvText(text: string): string[][] {
  return parseCsv(text, { relax_column_count: false, record_delimiter: '\r\n' }) as string[][];
}

/** The CSV text a value should become (before the parser's unquoting): formula guard included. */
export function expectedCsvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = wellFormed(typeof v === 'string' ? v : JSON.stringify(v));
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

type XmlNode = Record<string, unknown> & { ':@'?: Record<string, string> };

function xmlChildValue(node: XmlNode): [string, unknown] {
  const tag = Object.keys(node).find((k) => k !== ':@')!;
  const attrs = node[':@'] ?? {};
  const key = tag === 'field' && attrs.name !== undefined ? attrs.name : tag;
  const children = node[tag] as XmlNode[];
  const text = () => children.map((c) => (c['#text'] as string | undefined) ?? '').join('');
  switch (attrs.type) {
    case 'null':
      return [key, null];
    case 'number':
      return [key, Number(text())];
    case 'boolean':
      return [key, text() === 'true'];
    case 'array':
      return [key, children.map((c) => xmlChildValue(c)[1])];
    case 'object':
      return [key, Object.fromEntries(children.map(xmlChildValue))];
    default:
      return [key, text()];
  }
}

/** Parses an XML export back into records (validating it as well-formed first). */
export function parseXmlExport(text: string): unknown[] {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new Error(`not well-formed: ${JSON.stringify(valid)}`);
  const parser = new XMLParser({
    preserveOrder: true,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    processEntities: true,
    htmlEntities: true,
  });
  const doc = parser.parse(text) as XmlNode[];
  const root = doc.find((n) => 'export' in n)!;
  return (root.export as XmlNode[]).filter((n) => 'record' in n).map((n) => Object.fromEntries((n.record as XmlNode[]).map(xmlChildValue)));
}

/** What XML/HTML can carry of a string: XML 1.0 characters only. */
export const asDocumentText = (s: string) => documentSafe(s);

interface Html5Node {
  nodeName: string;
  value?: string;
  childNodes?: Html5Node[];
  attrs?: { name: string; value: string }[];
}

function walk(n: Html5Node, visit: (n: Html5Node) => void): void {
  visit(n);
  for (const c of n.childNodes ?? []) walk(c, visit);
}

function textOf(n: Html5Node): string {
  let out = '';
  walk(n, (x) => {
    if (x.nodeName === '#text') out += x.value ?? '';
  });
  return out;
}

/** Parses an HTML export (WHATWG parser): per article its title and field → text; plus every element name seen. */
export function parseHtmlExport(text: string): {
  articles: { title: string; fields: Record<string, string> }[];
  tags: Set<string>;
  csp: string | null;
} {
  const doc = parseHtml(text) as unknown as Html5Node;
  const articles: { title: string; fields: Record<string, string> }[] = [];
  const tags = new Set<string>();
  let csp: string | null = null;
  walk(doc, (n) => {
    tags.add(n.nodeName);
    if (n.nodeName === 'meta' && n.attrs?.some((a) => a.name === 'http-equiv' && a.value === 'Content-Security-Policy')) {
      csp = n.attrs.find((a) => a.name === 'content')?.value ?? null;
    }
    if (n.nodeName !== 'article') return;
    const h2 = n.childNodes!.find((c) => c.nodeName === 'h2')!;
    const dl = n.childNodes!.find((c) => c.nodeName === 'dl')!;
    const fields: Record<string, string> = {};
    const kids = dl.childNodes!.filter((c) => c.nodeName === 'dt' || c.nodeName === 'dd');
    for (let i = 0; i < kids.length; i += 2) fields[textOf(kids[i]!)] = textOf(kids[i + 1]!);
    articles.push({ title: textOf(h2), fields });
  });
  return { articles, tags, csp };
}

const unescapeInline = (s: string) => s.replace(/\\([!-/:-@[-`{-~])/g, '$1');

/** Parses a Markdown export (marked's CommonMark lexer): per record heading, inline fields and fenced blocks. */
export function parseMarkdownExport(text: string): {
  records: { title: string; fields: Record<string, string> }[];
  tokenTypes: Set<string>;
} {
  const tokens = new Lexer().lex(text);
  const records: { title: string; fields: Record<string, string> }[] = [];
  const tokenTypes = new Set<string>();
  let pendingBlock: string | null = null;
  const visit = (t: { type: string; tokens?: unknown[]; items?: unknown[] }) => {
    tokenTypes.add(t.type);
    for (const c of (t.tokens ?? []) as (typeof t)[]) visit(c);
    for (const c of (t.items ?? []) as (typeof t)[]) visit(c);
  };
  for (const t of tokens) {
    visit(t as never);
    if (t.type === 'heading' && (t as Tokens.Heading).depth === 2) {
      records.push({ title: unescapeInline((t as Tokens.Heading).text).replace(/^\d+\. /, ''), fields: {} });
    } else if (t.type === 'list') {
      for (const item of (t as Tokens.List).items) {
        const m = /^\*\*(.*?)\*\*: ?([\s\S]*)$/.exec(item.text);
        if (m) records.at(-1)!.fields[unescapeInline(m[1]!)] = unescapeInline(m[2]!);
      }
    } else if (t.type === 'heading' && (t as Tokens.Heading).depth === 3) {
      pendingBlock = unescapeInline((t as Tokens.Heading).text);
    } else if (t.type === 'code' && pendingBlock) {
      records.at(-1)!.fields[pendingBlock] = (t as Tokens.Code).text;
      pendingBlock = null;
    }
  }
  return { records, tokenTypes };
}

export const td = (b: Uint8Array) => new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(b);
const blockOrInline = (v: unknown) =>
  documentSafe(typeof v === 'string' ? v : JSON.stringify(v, null, typeof v === 'object' && v !== null ? 2 : undefined));

/** Parses an export with the format's standard parser and checks every record came back. */
export function expectLossless(format: ExportFormat, text: string, records: readonly CrawlResult[]): void {
  switch (format) {
    case 'json':
      expect(JSON.parse(text)).toEqual(records);
      return;
    case 'ndjson':
      expect(
        text
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l)),
      ).toEqual(records);
      return;
    case 'csv': {
      const rows = parseCsvText(text);
      expect(rows[0]).toEqual([...DEFAULT_TABLE_FIELDS]);
      expect(rows.slice(1)).toEqual(records.map((r) => DEFAULT_TABLE_FIELDS.map((f) => expectedCsvCell(fieldValue(r, f)))));
      return;
    }
    case 'xml':
      expect(parseXmlExport(text)).toEqual(records.map((r) => mapStrings(JSON.parse(JSON.stringify(r)), documentSafe)));
      return;
    case 'html': {
      const { articles } = parseHtmlExport(text);
      expect(articles.map((a) => a.fields)).toEqual(
        records.map((r) => Object.fromEntries(DEFAULT_DOCUMENT_FIELDS.map((f) => [f, blockOrInline(fieldValue(r, f))]))),
      );
      return;
    }
    case 'markdown': {
      const { records: parsed } = parseMarkdownExport(text);
      expect(parsed).toHaveLength(records.length);
      parsed.forEach((p, i) => {
        expect(p.fields.url).toBe(records[i]!.url);
        expect(p.fields['markdown.raw_markdown']).toBe(markdownBlockText(records[i]!.markdown!.raw_markdown));
      });
      return;
    }
  }
}
