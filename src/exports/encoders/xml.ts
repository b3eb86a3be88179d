/**
 * XML 1.0 encoder. Each record is a `<record>`; each value an element named by its key, with a
 * `type` attribute for everything that is not a string, so a reader can rebuild the JSON value:
 *
 *   <record index="0"><url>https://…</url><status_code type="number">200</status_code>
 *     <markdown type="object"><raw_markdown>…</raw_markdown></markdown>
 *     <response_headers type="object"><field name="content type">…</field></response_headers>
 *     <links type="object"><internal type="array"><item type="object">…</item></internal></links>
 *     <error_message type="null"/></record>
 *
 * Keys that are not safe XML names (or start with "xml") become `<field name="…">`. Text is escaped
 * (text.ts `markupText`), never wrapped in CDATA; characters XML 1.0 forbids become U+FFFD.
 */
import { project } from '../fields';
import { markupAttr, markupText } from '../text';
import type { FormatEncoder } from './types';

const SAFE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

/** The XML namespace of the export document (a name, never fetched). */
export const EXPORT_XML_NS = 'https://crawlgate.dev/ns/export/1';

function open(key: string | null, attrs: string): string {
  if (key === null) return `item${attrs}`;
  if (SAFE_NAME.test(key) && !/^xml/i.test(key)) return `${key}${attrs}`;
  return `field name="${markupAttr(key)}"${attrs}`;
}

function closeName(key: string | null): string {
  if (key === null) return 'item';
  return SAFE_NAME.test(key) && !/^xml/i.test(key) ? key : 'field';
}

/** One value as an element (`key` null: an array item). Depth is bounded by the JSON it came from. */
export function xmlValue(key: string | null, value: unknown): string {
  if (value === undefined) return '';
  if (value === null) return `<${open(key, ' type="null"')}/>`;
  if (typeof value === 'string') return `<${open(key, '')}>${markupText(value)}</${closeName(key)}>`;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('non-finite number');
    return `<${open(key, ' type="number"')}>${String(value)}</${closeName(key)}>`;
  }
  if (typeof value === 'boolean') return `<${open(key, ' type="boolean"')}>${String(value)}</${closeName(key)}>`;
  if (Array.isArray(value)) {
    return `<${open(key, ' type="array"')}>${value.map((v) => xmlValue(null, v ?? null)).join('')}</${closeName(key)}>`;
  }
  if (typeof value === 'object') {
    const inner = Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => xmlValue(k, v))
      .join('');
    return `<${open(key, ' type="object"')}>${inner}</${closeName(key)}>`;
  }
  throw new Error(`a ${typeof value} value cannot be exported`);
}

export function xmlEncoder(fields: readonly string[] | null): FormatEncoder {
  return {
    format: 'xml',
    mediaType: 'application/xml; charset=utf-8',
    extension: 'xml',
    begin: () => `<?xml version="1.0" encoding="UTF-8"?>\n<export xmlns="${EXPORT_XML_NS}">\n`,
    record: (r, written) => {
      const inner = Object.entries(project(r, fields))
        .map(([k, v]) => xmlValue(k, v))
        .join('');
      return `<record index="${written}">${inner}</record>\n`;
    },
    end: () => '</export>\n',
  };
}
