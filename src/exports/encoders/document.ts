/**
 * Readable documents: Markdown and HTML. One section per record (title, then each selected field).
 * Short one-line values are written inline; long or multi-line values (the page's markdown) as a
 * block. Crawled text is data, never markup: Markdown escapes every punctuation character inline
 * and fences blocks; HTML escapes everything and ships a CSP that allows no script at all.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_DOCUMENT_FIELDS, fieldValue } from '../fields';
import type { ExportRecord } from '../record-schema';
import { markdownFence, markdownInline, markupAttr, markupText } from '../text';
import type { FormatEncoder } from './types';

/** Values longer than this (or with a line break) are written as a block. */
const INLINE_MAX = 200;

interface Entry {
  field: string;
  text: string;
  block: boolean;
}

function entries(record: ExportRecord, fields: readonly string[]): Entry[] {
  const out: Entry[] = [];
  for (const field of fields) {
    const v = fieldValue(record, field);
    if (v === undefined) continue;
    const text = typeof v === 'string' ? v : JSON.stringify(v, null, typeof v === 'object' && v !== null ? 2 : undefined);
    out.push({ field, text, block: text.length > INLINE_MAX || /[\r\n]/.test(text) });
  }
  return out;
}

function titleOf(record: ExportRecord): string {
  const t = record.metadata?.title;
  return typeof t === 'string' && t.trim() ? t : record.url;
}

export function markdownEncoder(fields: readonly string[] | null): FormatEncoder {
  const selected = fields ?? DEFAULT_DOCUMENT_FIELDS;
  return {
    format: 'markdown',
    mediaType: 'text/markdown; charset=utf-8; variant=CommonMark',
    extension: 'md',
    begin: () => '# Crawl export\n',
    record: (r, written) => {
      let out = `\n## ${written + 1}\\. ${markdownInline(titleOf(r))}\n\n`;
      const list = entries(r, selected);
      const inline = list.filter((e) => !e.block);
      for (const e of inline) out += `- **${markdownInline(e.field)}**: ${markdownInline(e.text)}\n`;
      for (const e of list.filter((x) => x.block)) out += `\n### ${markdownInline(e.field)}\n\n${markdownFence(e.text)}`;
      return out;
    },
    end: (written) => (written === 0 ? '\nNo records.\n' : ''),
  };
}

const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}' +
  'article{border-top:1px solid #ccc;padding:1rem 0}dt{font-weight:600}dd{margin:0 0 .5rem 1rem;overflow-wrap:anywhere}' +
  'pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f6f6;padding:.75rem}';

/**
 * The document's own policy (CSP3): nothing may load or run; only the one inline style above, by
 * hash. Served downloads also carry it as a header (routes), since a `<meta>` CSP cannot set
 * `frame-ancestors` or `sandbox`.
 */
export const HTML_EXPORT_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; base-uri 'none'; form-action 'none'`;

export function htmlEncoder(fields: readonly string[] | null): FormatEncoder {
  const selected = fields ?? DEFAULT_DOCUMENT_FIELDS;
  return {
    format: 'html',
    mediaType: 'text/html; charset=utf-8',
    extension: 'html',
    begin: () =>
      '<!DOCTYPE html>\n<html><head><meta charset="utf-8">\n' +
      `<meta http-equiv="Content-Security-Policy" content="${markupAttr(HTML_EXPORT_CSP)}">\n` +
      '<meta name="referrer" content="no-referrer">\n' +
      `<title>Crawl export</title><style>${STYLE}</style></head>\n<body><h1>Crawl export</h1>\n`,
    record: (r, written) => {
      let out = `<article id="record-${written}"><h2>${markupText(titleOf(r))}</h2><dl>`;
      for (const e of entries(r, selected)) {
        // A newline right after <pre> is dropped by HTML parsers, so one is always written first.
        const value = e.block ? `<pre>\n${markupText(e.text)}</pre>` : markupText(e.text);
        out += `<dt>${markupText(e.field)}</dt><dd>${value}</dd>`;
      }
      return `${out}</dl></article>\n`;
    },
    end: (written) => `${written === 0 ? '<p>No records.</p>\n' : ''}</body></html>\n`,
  };
}
