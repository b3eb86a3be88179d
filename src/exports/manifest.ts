/** The export manifest: what was exported, how, and how to check the file. Pure. */
import { fileTypeOf, type ExportCompression, type ExportFormat } from './formats';
import type { ExportStats, InvalidRecord } from './stream';

export interface ExportManifest {
  export_id: string;
  job_id: string;
  format: ExportFormat;
  compression: ExportCompression;
  /** Selected field paths, or null for the format's defaults. */
  fields: string[] | null;
  media_type: string;
  file_name: string;
  /** Records written. */
  records: number;
  /** Records left out because they failed validation; the first 1,000 are listed. */
  invalid: number;
  invalid_records: InvalidRecord[];
  invalid_truncated: boolean;
  /** Size and SHA-256 (hex) of the file exactly as downloaded (compressed bytes when compressed). */
  bytes: number;
  sha256: string;
  created_at: string;
  completed_at: string;
}

export function buildManifest(
  input: { exportId: string; jobId: string; format: ExportFormat; compression: ExportCompression; fields: string[] | null; fileName: string; createdAt: number; completedAt: number },
  stats: ExportStats,
): ExportManifest {
  return {
    export_id: input.exportId,
    job_id: input.jobId,
    format: input.format,
    compression: input.compression,
    fields: input.fields,
    media_type: fileTypeOf(input.format, input.compression).mediaType,
    file_name: input.fileName,
    records: stats.records,
    invalid: stats.invalid,
    invalid_records: stats.invalid_records,
    invalid_truncated: stats.invalid_truncated,
    bytes: stats.bytes,
    sha256: stats.sha256,
    created_at: new Date(input.createdAt).toISOString(),
    completed_at: new Date(input.completedAt).toISOString(),
  };
}
