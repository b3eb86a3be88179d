/** What every format encoder implements; `stream.ts` turns one into a pull-based `ReadableStream`. */
import type { ExportRecord } from '../record-schema';

export const EXPORT_FORMATS = ['json', 'ndjson', 'csv', 'xml', 'markdown', 'html'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const EXPORT_COMPRESSIONS = ['none', 'gzip', 'deflate'] as const;
export type ExportCompression = (typeof EXPORT_COMPRESSIONS)[number];

/**
 * A format as three pure steps. `record` returns one record's complete text or throws (then the
 * record is reported invalid and nothing of it is written): a record is never written half.
 */
export interface FormatEncoder {
  readonly format: ExportFormat;
  /** Media type of the uncompressed document, with its parameters. */
  readonly mediaType: string;
  /** File extension of the uncompressed document, without the dot. */
  readonly extension: string;
  begin(): string;
  /** `written` is how many records precede this one in the output (for separators). */
  record(record: ExportRecord, written: number): string;
  end(written: number): string;
}
