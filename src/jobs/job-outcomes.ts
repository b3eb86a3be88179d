/**
 * Applies a batch's page outcomes to a CrawlJob's page table (call inside the object's transaction).
 * Idempotent: only pages still leased to the batch change. A retry goes back to pending at its next
 * due time; a deferred page (host_busy) comes back when its host has a slot, without backoff growth.
 */
import { retryDelayMs } from './retry';
import type { PageOutcome } from './types';

/** When a retryable page is due again (`random` is a 0..1 source, Math.random in production). */
export function retryAt(o: PageOutcome, attempts: number, now: number, retryBaseMs: number, random: () => number): number {
  return (
    now +
    (o.deferred ? (o.retryAfterMs ?? 1000) + Math.round(random() * 250) : retryDelayMs(attempts, retryBaseMs, random(), o.retryAfterMs))
  );
}

/** Writes each outcome to its page row; pages no longer leased to `batchId` are skipped. */
export function recordOutcomes(sql: SqlStorage, batchId: string, outcomes: PageOutcome[], now: number, retryBaseMs: number): void {
  for (const o of outcomes) {
    const row = sql
      .exec<{ attempts: number }>("SELECT attempts FROM pages WHERE idx = ? AND state = 'leased' AND batch = ?", o.idx, batchId)
      .toArray()[0];
    if (!row) continue;
    const attempts = o.deferred ? row.attempts : row.attempts + 1;
    if (o.kind === 'retry') {
      sql.exec(
        "UPDATE pages SET state = 'pending', attempts = ?, next_at = ?, batch = NULL, lease_until = NULL, status_code = ?, error = ? WHERE idx = ?",
        attempts,
        retryAt(o, attempts, now, retryBaseMs, Math.random),
        o.statusCode,
        o.error,
        o.idx,
      );
    } else {
      sql.exec(
        'UPDATE pages SET state = ?, attempts = ?, batch = NULL, lease_until = NULL, status_code = ?, duration_ms = ?, bytes = ?, error = ?, finished_at = ? WHERE idx = ?',
        o.kind,
        attempts,
        o.statusCode,
        o.durationMs,
        o.bytes,
        o.error,
        now,
        o.idx,
      );
    }
  }
}
