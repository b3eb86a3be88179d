/**
 * Retention, run by the cron trigger through `HOUSEKEEPING_TASKS` (docs/audit.md "Retention").
 * D1 (AUDIT_RETENTION_DAYS): per shard, rows go oldest-first in bounded batches; each batch is a
 * prefix of the shard's chain whose links are checked before it goes (so rows made to look old by
 * an edit are not "pruned" out of sight), its boundary is first recorded in the shard's `AuditLog`
 * object (the anchor verify trusts), then the rows are deleted and the boundary written to
 * `audit_checkpoints` in one D1 transaction. R2 (AUDIT_ARCHIVE_RETENTION_DAYS): each shard object
 * deletes its expired segments (docs/audit.md also describes an R2 lifecycle rule as a backstop).
 * The checkpoint task then signs every shard's heads (src/audit/checkpoint.ts).
 */
import type { Env } from '../env';
import type { Config } from '../config';
import { AUDIT_COLUMNS } from './query';
import type { AuditRow } from './types';
import { ChainVerifier, GENESIS_HASH } from './hash-chain';
import { ARCHIVE_OFFSET, shardName, streamBase } from './shards';
import { auditShardCount, auditShardStub } from './writer';
import { readLatestCheckpoint, takeCheckpoint } from './checkpoint';

export const PRUNE_BATCH_ROWS = 500;
export const PRUNE_MAX_BATCHES = 20;

export interface PruneOptions {
  batchRows?: number;
  maxBatches?: number;
  /** Only these shards (default: every configured shard). */
  shards?: number[];
}

export interface PruneResult {
  deleted: number;
  batches: number;
  /** Per shard: the position of the last pruned row, when this run pruned any. */
  checkpoints: Record<number, number>;
  /** True when the run stopped at its bound with expired rows left (the next run continues). */
  more: boolean;
  /** Shards whose oldest rows do not link: pruning stopped there, verify names the row. */
  refused: number[];
}

/** Pure: the cut-off instant for a retention period. */
export function retentionCutoff(now: number, days: number): number {
  return now - days * 86_400_000;
}

async function pruneShard(
  env: Env,
  shard: number,
  cutoff: number,
  now: number,
  batchRows: number,
  maxBatches: number,
  result: PruneResult,
): Promise<void> {
  const base = streamBase(shard, 'd1');
  const name = shardName(shard);
  for (let i = 0; i < maxBatches; i++) {
    const cp = await env.DB.prepare('SELECT seq AS id, hash FROM audit_checkpoints WHERE chain = ?')
      .bind(name)
      .first<{ id: number; hash: string }>();
    const { results } = await env.DB.prepare(`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE id > ? AND id < ? ORDER BY id LIMIT ?`)
      .bind(base, base + ARCHIVE_OFFSET, batchRows)
      .all<AuditRow>();
    // Only a prefix of the chain may go: stop at the first row still inside the retention period.
    const verifier = new ChainVerifier(cp ?? { id: base, hash: GENESIS_HASH });
    let boundary: AuditRow | null = null;
    let count = 0;
    for (const r of results) {
      if (r.ts >= cutoff) break;
      if (verifier.push(r)) {
        result.refused.push(shard);
        console.error(
          JSON.stringify({ msg: 'audit retention: the chain does not hold; not pruning this shard', shard, at: verifier.broken?.seq }),
        );
        break;
      }
      boundary = r;
      count++;
    }
    if (!boundary) return;
    await auditShardStub(env, shard).recordD1Prune(shard, boundary.id, boundary.hash);
    await env.DB.batch([
      env.DB.prepare(
        'INSERT INTO audit_checkpoints (chain, seq, hash, pruned_at) VALUES (?, ?, ?, ?) ON CONFLICT(chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, pruned_at = excluded.pruned_at',
      ).bind(name, boundary.id, boundary.hash, now),
      env.DB.prepare('DELETE FROM audit_events WHERE id > ? AND id <= ?').bind(base, boundary.id),
    ]);
    result.deleted += count;
    result.batches++;
    result.checkpoints[shard] = boundary.id - base;
    if (count < batchRows || verifier.broken) return;
  }
  result.more = true;
}

/** Deletes D1 rows older than the cut-off, per shard oldest first, at most `maxBatches × batchRows` per shard per run. */
export async function pruneAuditEvents(env: Env, cutoff: number, now: number, options: PruneOptions = {}): Promise<PruneResult> {
  const result: PruneResult = { deleted: 0, batches: 0, checkpoints: {}, more: false, refused: [] };
  const shards = options.shards ?? Array.from({ length: auditShardCount(env) }, (_, s) => s);
  for (const s of shards)
    await pruneShard(env, s, cutoff, now, options.batchRows ?? PRUNE_BATCH_ROWS, options.maxBatches ?? PRUNE_MAX_BATCHES, result);
  return result;
}

/** The housekeeping task: D1 rows, then R2 segments. */
export async function auditRetentionTask(env: Env, config: Config, now: number): Promise<PruneResult & { segments_deleted: number }> {
  const d1 = await pruneAuditEvents(env, retentionCutoff(now, config.AUDIT_RETENTION_DAYS), now);
  let segments = 0;
  const archiveCutoff = retentionCutoff(now, config.AUDIT_ARCHIVE_RETENTION_DAYS);
  for (let s = 0; s < config.AUDIT_SHARDS; s++) segments += (await auditShardStub(env, s).pruneArchive(s, archiveCutoff)).deleted;
  return { ...d1, segments_deleted: segments };
}

/** The housekeeping task that signs every shard's heads (after retention moved the boundaries). */
export async function auditCheckpointTask(env: Env, config: Config, now: number): Promise<{ taken_at: number; shards: number }> {
  const latest = await readLatestCheckpoint(env, config.AUDIT_CHECKPOINT_KEY);
  const shards = Math.max(config.AUDIT_SHARDS, latest.state === 'ok' ? latest.payload.shards.length : 0);
  const { payload } = await takeCheckpoint(env, config.AUDIT_CHECKPOINT_KEY, shards, now);
  return { taken_at: payload.taken_at, shards: payload.shards.length };
}
