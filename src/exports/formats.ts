/** Format name → encoder, and the file names and media types a download carries. Pure. */
import { csvEncoder } from './encoders/csv';
import { htmlEncoder, markdownEncoder } from './encoders/document';
import { jsonEncoder, ndjsonEncoder } from './encoders/json';
import type { ExportCompression, ExportFormat, FormatEncoder } from './encoders/types';
import { xmlEncoder } from './encoders/xml';

export { EXPORT_COMPRESSIONS, EXPORT_FORMATS } from './encoders/types';
export type { ExportCompression, ExportFormat, FormatEncoder } from './encoders/types';

const ENCODERS: Record<ExportFormat, (fields: readonly string[] | null) => FormatEncoder> = {
  json: jsonEncoder,
  ndjson: ndjsonEncoder,
  csv: csvEncoder,
  xml: xmlEncoder,
  markdown: markdownEncoder,
  html: htmlEncoder,
};

export function encoderFor(format: ExportFormat, fields: readonly string[] | null): FormatEncoder {
  return ENCODERS[format](fields);
}

/**
 * What the downloaded file is. Compressed exports are files of their own type (RFC 6713
 * `application/gzip` / `application/zlib`), not `Content-Encoding`: see docs/exports.md.
 */
export function fileTypeOf(format: ExportFormat, compression: ExportCompression): { mediaType: string; extension: string } {
  const enc = encoderFor(format, null);
  if (compression === 'gzip') return { mediaType: 'application/gzip', extension: `${enc.extension}.gz` };
  if (compression === 'deflate') return { mediaType: 'application/zlib', extension: `${enc.extension}.zz` };
  return { mediaType: enc.mediaType, extension: enc.extension };
}

/** A file name safe in `Content-Disposition` (RFC 6266): ASCII letters, digits, `-`, `_`, `.` only. */
export function exportFileName(base: string, format: ExportFormat, compression: ExportCompression): string {
  const safe = base.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100) || 'export';
  return `${safe}.${fileTypeOf(format, compression).extension}`;
}
