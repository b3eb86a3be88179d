import { describe, expect, it } from 'vitest';
import { createExportStream } from '../../src/exports/stream';
import { generatedSource, memorySource, recordsOf } from '../../src/exports/source';
import { HTML_EXPORT_CSP } from '../../src/exports/encoders/document';
import type { ExportCompression, ExportFormat } from '../../src/exports/formats';
import { fieldValue } from '../../src/exports/fields';
import { documentSafe, markdownBlockText, wellFormed } from '../../src/exports/text';
import {
  HOSTILE,
  bytesOf,
  decompress,
  expectedCsvCell,
  hostileRecord,
  mapStrings,
  parseCsvText,
  parseHtmlExport,
  parseMarkdownExport,
  parseXmlExport,
  sha256Hex,
} from './fixtures';

async function exportText(records: unknown[], format: ExportFormat, fields: string[] | null = null) {
  const { stream, done } = createExportStream(recordsOf(memorySource(records, 7)), { format, compression: 'none', fields });
  const bytes = await bytesOf(stream);
  return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes), stats: await done, bytes };
}

const records = [...HOSTILE.map((_, i) => hostileRecord(i)), hostileRecord(99, true)];
const docText = (s: string) => documentSafe(s);

describe('export encoders on hostile content, parsed back by real parsers', () => {
  it('json: one valid document; JSON.parse returns every record exactly (lone surrogates included)', async () => {
    const { text, stats } = await exportText(records, 'json');
    expect(text.startsWith('[')).toBe(true);
    expect(JSON.parse(text)).toEqual(records);
    expect(stats.records).toBe(records.length);
  });

  it('ndjson: one JSON object a line, each equal to its record', async () => {
    const { text } = await exportText(records, 'ndjson');
    const lines = text.split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).map((l) => JSON.parse(l))).toEqual(records);
  });

  it('json with no records is still a valid empty array', async () => {
    expect(JSON.parse((await exportText([], 'json')).text)).toEqual([]);
  });

  it('csv: RFC 4180 (CRLF, quoted fields) read back by csv-parse, nested fields selected, formulas guarded', async () => {
    const fields = ['url', 'status_code', 'success', 'metadata.title', 'markdown.raw_markdown', 'html', 'links.internal', 'error_message'];
    const { text } = await exportText(records, 'csv', fields);
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parseCsvText(text);
    expect(rows[0]).toEqual(fields);
    expect(rows).toHaveLength(records.length + 1);
    records.forEach((r, i) => {
      expect(rows[i + 1]).toEqual(fields.map((f) => expectedCsvCell(fieldValue(r, f))));
    });
    // Every formula-looking title was neutralised with a leading quote.
    const titles = rows.slice(1).map((r) => r[3]!);
    expect(titles).toContain(`'=HYPERLINK("http://evil.example","x")`);
    expect(titles).toContain("'-2+3");
    expect(titles).toContain("'@SUM(A1:A2)");
    expect(titles).toContain("'\tstarts with tab");
    expect(titles.some((t) => /^[=+\-@\t\r]/.test(t))).toBe(false);
  });

  it('xml: well-formed (validator) and read back by fast-xml-parser to the same values; no CDATA, no raw markup', async () => {
    const { text } = await exportText(records, 'xml');
    expect(text).not.toContain('<![CDATA[x');
    expect(text).not.toContain('<script>');
    const parsed = parseXmlExport(text);
    expect(parsed).toEqual(records.map((r) => mapStrings(JSON.parse(JSON.stringify(r)), docText)));
  });

  it('xml: a CR, a tab and a newline survive in text and in names (character references)', async () => {
    const r = { url: 'u', success: true, metadata: { 'a\tb\nc\r': 'x\r\ny\rz\t' } };
    const parsed = parseXmlExport((await exportText([r], 'xml')).text);
    expect(parsed).toEqual([r]);
  });

  it('html: parse5 reads every value back as text; no script, no event handler, strict CSP', async () => {
    const fields = ['url', 'status_code', 'metadata.title', 'markdown.raw_markdown', 'html'];
    const { text } = await exportText(records, 'html', fields);
    const { articles, tags, csp } = parseHtmlExport(text);
    expect(csp).toBe(HTML_EXPORT_CSP);
    expect(csp).toMatch(/^default-src 'none'/);
    expect(tags.has('script')).toBe(false);
    expect(tags.has('img')).toBe(false);
    expect(articles).toHaveLength(records.length);
    articles.forEach((a, i) => {
      const r = records[i]!;
      for (const f of fields) {
        const v = fieldValue(r, f);
        expect(a.fields[f]).toBe(
          docText(typeof v === 'string' ? v : JSON.stringify(v, null, typeof v === 'object' && v !== null ? 2 : undefined)),
        );
      }
      const title = r.metadata.title;
      expect(a.title).toBe(docText(title && title.trim() ? title : r.url));
    });
  });

  it('markdown: marked reads headings, inline values and fenced blocks back; crawled markup stays text', async () => {
    const fields = ['url', 'status_code', 'metadata.title', 'markdown.raw_markdown'];
    const { text } = await exportText(records, 'markdown', fields);
    const { records: parsed, tokenTypes } = parseMarkdownExport(text);
    expect(tokenTypes.has('html')).toBe(false);
    expect(tokenTypes.has('link')).toBe(false);
    expect(tokenTypes.has('image')).toBe(false);
    expect(parsed).toHaveLength(records.length);
    parsed.forEach((p, i) => {
      const r = records[i]!;
      expect(p.fields['markdown.raw_markdown']).toBe(markdownBlockText(r.markdown!.raw_markdown));
      expect(p.fields.url).toBe(r.url);
      expect(p.fields.status_code).toBe(r.status_code === null ? 'null' : '200');
    });
  });

  it('leaves out invalid records whole and lists them by index with the reason', async () => {
    const input = [
      hostileRecord(0),
      { url: 'https://x', success: 'yes' },
      42,
      hostileRecord(1),
      { url: 'https://y', success: true, status_code: 200, extra: 10n },
    ];
    for (const format of ['json', 'ndjson', 'csv', 'xml', 'markdown', 'html'] as const) {
      const { stats, text } = await exportText(input, format);
      expect(stats.records).toBe(2);
      expect(stats.invalid).toBe(3);
      expect(stats.invalid_records.map((r) => r.index)).toEqual([1, 2, 4]);
      expect(stats.invalid_records[0]!.reason).toContain('success');
      expect(text).not.toContain('https://x');
      expect(text).not.toContain('https://y');
    }
    const json = JSON.parse((await exportText(input, 'json')).text);
    expect(json).toEqual([hostileRecord(0), hostileRecord(1)]);
  });

  it('field paths project json/ndjson/xml to the selected (nested) fields', async () => {
    const fields = ['url', 'markdown.raw_markdown', 'metadata.title'];
    const r = hostileRecord(3);
    const expected = { url: r.url, markdown: { raw_markdown: r.markdown!.raw_markdown }, metadata: { title: r.metadata.title } };
    expect(JSON.parse((await exportText([r], 'json', fields)).text)).toEqual([expected]);
    expect(JSON.parse((await exportText([r], 'ndjson', fields)).text)).toEqual(expected);
    expect(parseXmlExport((await exportText([r], 'xml', fields)).text)).toEqual([mapStrings(expected, docText)]);
  });
});

describe('compression and checksum', () => {
  for (const compression of ['gzip', 'deflate'] as const) {
    it(`${compression}: DecompressionStream restores the exact uncompressed export; sha256 is of the delivered bytes`, async () => {
      const plain = await exportText(records, 'ndjson');
      const { stream, done } = createExportStream(recordsOf(memorySource(records)), { format: 'ndjson', compression, fields: null });
      const bytes = await bytesOf(stream);
      const stats = await done;
      // Compared by digest: a deep equal of two 1 MB arrays is slow and says no more.
      expect(await sha256Hex(await decompress(bytes, compression))).toBe(await sha256Hex(plain.bytes));
      expect(stats.bytes).toBe(bytes.byteLength);
      expect(stats.sha256).toBe(await sha256Hex(bytes));
      expect(bytes.byteLength).toBeLessThan(plain.bytes.byteLength);
    });
  }
});

describe('backpressure', () => {
  it('pulls records only as the reader asks (a slow reader holds the source back)', async () => {
    let made = 0;
    const source = generatedSource(
      100_000,
      (i) => {
        made++;
        return { url: `https://example.com/${i}`, success: true, markdown: 'x'.repeat(1000) };
      },
      50,
    );
    const { stream } = createExportStream(recordsOf(source), { format: 'ndjson', compression: 'gzip' as ExportCompression, fields: null });
    const reader = stream.getReader();
    await reader.read();
    const afterOneRead = made;
    expect(afterOneRead).toBeGreaterThan(0);
    expect(afterOneRead).toBeLessThan(5_000);
    await reader.cancel();
  });
});

describe('wellFormed', () => {
  it('keeps valid astral pairs and replaces only lone surrogates', () => {
    expect(wellFormed('a😀b\uD800c\uDC00')).toBe('a😀b\uFFFDc\uFFFD');
  });
});
