/** The export manifest: what was exported, how, and how to check the file. Pure. */
import { fileTypeOf, type ExportCompression, type ExportFormat } from './formats';
import type { ExportStats } from './stream';

/** The stream's counts and checksum (ExportStats: records, invalid ones, bytes and SHA-256 of the file exactly as downloaded) plus what and when. */
export interface ExportManifest extends ExportStats {
  export_id: string;
  job_id: string;
  format: ExportFormat;
  compression: ExportCompression;
  /** Selected field paths, or null for the format's defaults. */
  fields: string[] | null;
  media_type: string;
  file_name: string;
  created_at: string;
  completed_at: string;
}

export function buildManifest(
  input: {
    exportId: string;
    jobId: string;
    format: ExportFormat;
    compression: ExportCompression;
    fields: string[] | null;
    fileName: string;
    createdAt: number;
    completedAt: number;
  },
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
