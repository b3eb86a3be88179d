/**
 * Audit export encoders (pure) and the streaming body that pages through D1 and the R2 archive of every shard.
 * CSV follows RFC 4180 (CRLF records, fields with `"`, `,`, CR or LF quoted, quotes doubled) and
 * neutralises spreadsheet formulas (OWASP "CSV Injection": a text cell starting with = + - @, tab
 * or CR gets a leading `'`). NDJSON is one JSON object per line; JSON escapes CR/LF inside strings,
 * so a user-supplied name can never start a new record.
 */
import type { AuditRow } from './types';
import type { Env } from '../env';
import { presentRow, type AuditCursor, type AuditFilter } from './query';
import { readAuditEvents, type SegmentCache } from './merged-read';

export type ExportFormat = 'ndjson' | 'csv';

export const CSV_COLUMNS = [
  'id',
  'ts',
  'time',
  'request_id',
  'actor_id',
  'actor_kind',
  'actor_name',
  'ip',
  'method',
  'route',
  'action',
  'outcome',
  'reason',
  'status',
  'details',
  'prev_hash',
  'hash',
] as const;

const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV field (RFC 4180 §2), with the formula-injection guard on text. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value !== 'number' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvHeader(): string {
  return CSV_COLUMNS.join(',') + '\r\n';
}

export function csvRecord(row: AuditRow): string {
  const values: Record<(typeof CSV_COLUMNS)[number], unknown> = { ...row, time: new Date(row.ts).toISOString() };
  return CSV_COLUMNS.map((c) => csvField(values[c])).join(',') + '\r\n';
}

export function ndjsonRecord(row: AuditRow): string {
  return JSON.stringify(presentRow(row)) + '\n';
}

export const EXPORT_PAGE_ROWS = 500;

/**
 * A body that reads one page per pull, so memory stays flat and the client sees bytes at once.
 * `maxRows` bounds one export (the client narrows `since`/`until` for more).
 */
export function exportStream(env: Env, filter: AuditFilter, format: ExportFormat, maxRows: number): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cursor: AuditCursor | null = null;
  let sent = 0;
  let started = false;
  const cache: SegmentCache = new Map();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        if (format === 'csv') {
          controller.enqueue(encoder.encode(csvHeader()));
          return;
        }
      }
      const page = await readAuditEvents(env, filter, cursor, Math.min(EXPORT_PAGE_ROWS, maxRows - sent), cache);
      const text = page.rows.map((r) => (format === 'csv' ? csvRecord(r) : ndjsonRecord(r))).join('');
      if (text) controller.enqueue(encoder.encode(text));
      sent += page.rows.length;
      cursor = page.next;
      if (!cursor || sent >= maxRows) controller.close();
    },
  });
}
