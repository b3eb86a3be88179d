/**
 * CSV per RFC 4180: a header row, CRLF line endings, fields quoted when they hold `"`, `,`, CR or
 * LF, and the OWASP formula-injection guard on text cells (text.ts `guardFormula`).
 */
import { DEFAULT_TABLE_FIELDS, fieldValue } from '../fields';
import { csvField, guardFormula } from '../text';
import type { FormatEncoder } from './types';

/** The text of one cell: numbers and booleans as written, objects as JSON, null/missing empty. */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return csvField(guardFormula(text));
}

export function csvEncoder(fields: readonly string[] | null): FormatEncoder {
  const columns = fields ?? DEFAULT_TABLE_FIELDS;
  return {
    format: 'csv',
    // RFC 4180 §3: text/csv with the optional `header` parameter.
    mediaType: 'text/csv; charset=utf-8; header=present',
    extension: 'csv',
    begin: () => `${columns.map((c) => csvField(guardFormula(c))).join(',')}\r\n`,
    record: (r) => `${columns.map((c) => csvCell(fieldValue(r, c))).join(',')}\r\n`,
    end: () => '',
  };
}
