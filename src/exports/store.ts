/**
 * D1 `exports` rows (migration 0007): one per `POST /exports`. Every read filters by tenant, so
 * another tenant's export id reads exactly like an unknown one (OWASP API1:2023 BOLA).
 */
import type { ExportCompression, ExportFormat } from './formats';
import type { ExportManifest } from './manifest';
import { prefixedId } from '../lib/ids';

export type ExportStatus = 'pending' | 'running' | 'completed' | 'failed';

export interface ExportRow {
  id: string;
  tenant: string;
  principal_id: string;
  job_id: string;
  format: ExportFormat;
  compression: ExportCompression;
  fields: string[] | null;
  status: ExportStatus;
  r2_key: string | null;
  manifest: ExportManifest | null;
  error: string | null;
  webhook_url: string | null;
  webhook_status: string | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
}

type StoredRow = Omit<ExportRow, 'fields' | 'manifest'> & { fields: string | null; manifest: string | null };

/** `exp_` + 24 hex characters (96 random bits): unguessable, and never reused. */
export function newExportId(): string {
  return prefixedId('exp', 12);
}

export async function insertExport(
  db: D1Database,
  row: Omit<ExportRow, 'status' | 'r2_key' | 'manifest' | 'error' | 'webhook_status' | 'updated_at' | 'completed_at'>,
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO exports (id, tenant, principal_id, job_id, format, compression, fields, status, webhook_url, created_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, ?9, ?9)`,
    )
    .bind(
      row.id,
      row.tenant,
      row.principal_id,
      row.job_id,
      row.format,
      row.compression,
      row.fields ? JSON.stringify(row.fields) : null,
      row.webhook_url,
      row.created_at,
    )
    .run();
}

/** The export if it exists and belongs to `tenant`; null otherwise (the caller answers 404 either way). */
export async function findExport(db: D1Database, id: string, tenant: string): Promise<ExportRow | null> {
  const row = await db.prepare('SELECT * FROM exports WHERE id = ?1 AND tenant = ?2').bind(id, tenant).first<StoredRow>();
  if (!row) return null;
  return {
    ...row,
    fields: row.fields ? (JSON.parse(row.fields) as string[]) : null,
    manifest: row.manifest ? (JSON.parse(row.manifest) as ExportManifest) : null,
  };
}

export async function markRunning(db: D1Database, id: string, now: number): Promise<void> {
  await db.prepare("UPDATE exports SET status = 'running', updated_at = ?2 WHERE id = ?1").bind(id, now).run();
}

export async function markCompleted(db: D1Database, id: string, r2Key: string, manifest: ExportManifest, now: number): Promise<void> {
  await db
    .prepare(
      "UPDATE exports SET status = 'completed', r2_key = ?2, manifest = ?3, error = NULL, updated_at = ?4, completed_at = ?4 WHERE id = ?1",
    )
    .bind(id, r2Key, JSON.stringify(manifest), now)
    .run();
}

/** `error` is a short fixed message for the client; details go to the log, not the row. */
export async function markFailed(db: D1Database, id: string, error: string, now: number): Promise<void> {
  await db
    .prepare("UPDATE exports SET status = 'failed', error = ?2, updated_at = ?3, completed_at = ?3 WHERE id = ?1")
    .bind(id, error, now)
    .run();
}

export async function setWebhookStatus(db: D1Database, id: string, status: string, now: number): Promise<void> {
  await db.prepare('UPDATE exports SET webhook_status = ?2, updated_at = ?3 WHERE id = ?1').bind(id, status, now).run();
}
