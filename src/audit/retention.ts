/**
 * Retention (AUDIT_RETENTION_DAYS), run by the cron trigger through `HOUSEKEEPING_TASKS`.
 * Rows go oldest-first in bounded batches; each batch deletes a prefix of the chain and records
 * the last deleted row's id and hash in `audit_checkpoints` in the same D1 transaction, so the
 * verifier starts from the oldest remaining row instead of reporting the pruned rows as deleted.
 */
import type { Env } from '../env';
import type { Config } from '../config';
import { AUDIT_CHAIN_NAME } from './audit-chain';

export const PRUNE_BATCH_ROWS = 500;
export const PRUNE_MAX_BATCHES = 20;

export interface PruneOptions {
  batchRows?: number;
  maxBatches?: number;
}

export interface PruneResult {
  deleted: number;
  batches: number;
  checkpoint: number | null;
  /** True when the run stopped at its bound with expired rows left (the next run continues). */
  more: boolean;
}

/** Pure: the cut-off instant for a retention period. */
export function retentionCutoff(now: number, days: number): number {
  return now - days * 86_400_000;
}

/** Deletes rows older than the cut-off, oldest id first, at most `maxBatches × batchRows` per run. */
export async function pruneAuditEvents(db: D1Database, cutoff: number, now: number, options: PruneOptions = {}): Promise<PruneResult> {
  const batchRows = options.batchRows ?? PRUNE_BATCH_ROWS;
  const maxBatches = options.maxBatches ?? PRUNE_MAX_BATCHES;
  const result: PruneResult = { deleted: 0, batches: 0, checkpoint: null, more: false };
  for (let i = 0; i < maxBatches; i++) {
    const { results } = await db.prepare('SELECT id, ts, hash FROM audit_events ORDER BY id LIMIT ?').bind(batchRows).all<{ id: number; ts: number; hash: string }>();
    // Only a prefix of the chain may go: stop at the first row still inside the retention period.
    let boundary: { id: number; hash: string } | null = null;
    let count = 0;
    for (const r of results) {
      if (r.ts >= cutoff) break;
      boundary = r;
      count++;
    }
    if (!boundary) return result;
    await db.batch([
      db
        .prepare('INSERT INTO audit_checkpoints (chain, seq, hash, pruned_at) VALUES (?, ?, ?, ?) ON CONFLICT(chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, pruned_at = excluded.pruned_at')
        .bind(AUDIT_CHAIN_NAME, boundary.id, boundary.hash, now),
      db.prepare('DELETE FROM audit_events WHERE id <= ?').bind(boundary.id),
    ]);
    result.deleted += count;
    result.batches++;
    result.checkpoint = boundary.id;
    if (count < batchRows) return result;
  }
  result.more = true;
  return result;
}

/** The housekeeping task. */
export async function auditRetentionTask(env: Env, config: Config, now: number): Promise<PruneResult> {
  return pruneAuditEvents(env.DB, retentionCutoff(now, config.AUDIT_RETENTION_DAYS), now);
}
