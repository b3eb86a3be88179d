/**
 * The archive chain inside each `AuditLog` object (docs/audit.md "Archive"): high-volume allowed-
 * request events are sequenced and hashed like D1 rows (same encoding; ids in the shard's r2 range),
 * buffered in the object's SQLite, and written to R2 as one gzip NDJSON segment per time window
 * (AUDIT_SEGMENT_SECONDS, or earlier at SEGMENT_MAX_RECORDS). The object keeps the segment index
 * (for queries) and the anchors verify needs: the last record written to R2 and the retention
 * boundary. A failed R2 write leaves the records buffered; the alarm retries.
 */
import type { AuditEvent, AuditRow } from './types';
import { chainEvent, GENESIS_HASH } from './hash-chain';
import { streamBase } from './shards';
import { encodeRecords, gzip, manifestKey, segmentKey, type SegmentInfo } from './segment-codec';
import { locateId } from './shards';

export const SEGMENT_MAX_RECORDS = 5000;

export interface ArchiveHead {
  seq: number;
  hash: string;
  /** Last record in R2 (the verifier's anchor). */
  flushed_seq: number;
  flushed_hash: string;
  /** Retention boundary: the last record of the newest deleted segment (genesis when none). */
  pruned_seq: number;
  pruned_hash: string;
  pending: number;
  /** When the open window started (UTC ms), null when nothing is buffered. */
  window_start: number | null;
}

type StateRow = Omit<ArchiveHead, 'pending'>;

export class ArchiveChain {
  readonly #storage: DurableObjectStorage;
  readonly #bucket: R2Bucket;
  readonly #shard: number;
  #flushing: Promise<number> | null = null;

  constructor(storage: DurableObjectStorage, bucket: R2Bucket, shard: number) {
    this.#storage = storage;
    this.#bucket = bucket;
    this.#shard = shard;
    const sql = storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS archive_state (one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL,
      flushed_seq INTEGER NOT NULL, flushed_hash TEXT NOT NULL, pruned_seq INTEGER NOT NULL, pruned_hash TEXT NOT NULL, window_start INTEGER)`);
    sql.exec('CREATE TABLE IF NOT EXISTS archive_pending (seq INTEGER PRIMARY KEY, row TEXT NOT NULL)');
    sql.exec(`CREATE TABLE IF NOT EXISTS archive_segments (first_id INTEGER PRIMARY KEY, key TEXT NOT NULL, last_id INTEGER NOT NULL,
      min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL, count INTEGER NOT NULL, bytes INTEGER NOT NULL, last_hash TEXT NOT NULL)`);
    const base = streamBase(shard, 'r2');
    sql.exec(
      'INSERT OR IGNORE INTO archive_state VALUES (1, ?, ?, ?, ?, ?, ?, NULL)',
      base,
      GENESIS_HASH,
      base,
      GENESIS_HASH,
      base,
      GENESIS_HASH,
    );
  }

  #state(): StateRow {
    return this.#storage.sql
      .exec<StateRow>('SELECT seq, hash, flushed_seq, flushed_hash, pruned_seq, pruned_hash, window_start FROM archive_state')
      .one();
  }

  head(): ArchiveHead {
    const pending = this.#storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM archive_pending').one().n;
    return { ...this.#state(), pending };
  }

  append(events: readonly AuditEvent[], now: number): AuditRow[] {
    if (events.length === 0) return [];
    return this.#storage.transactionSync(() => {
      const state = this.#state();
      let prev = { id: state.seq, hash: state.hash };
      const rows: AuditRow[] = [];
      for (const e of events) {
        const row = chainEvent(e, prev);
        this.#storage.sql.exec('INSERT INTO archive_pending (seq, row) VALUES (?, ?)', row.id, JSON.stringify(row));
        rows.push(row);
        prev = { id: row.id, hash: row.hash };
      }
      this.#storage.sql.exec(
        'UPDATE archive_state SET seq = ?, hash = ?, window_start = COALESCE(window_start, ?)',
        prev.id,
        prev.hash,
        now,
      );
      return rows;
    });
  }

  /** When the open segment must be written (UTC ms), or null when nothing is buffered. */
  dueAt(windowMs: number): number | null {
    const h = this.head();
    if (h.pending === 0 || h.window_start === null) return null;
    return h.pending >= SEGMENT_MAX_RECORDS ? 0 : h.window_start + windowMs;
  }

  /** Buffered records (not yet in R2), oldest first; queries merge them with the segments. */
  pendingRows(limit = SEGMENT_MAX_RECORDS * 4): AuditRow[] {
    return this.#storage.sql
      .exec<{ row: string }>('SELECT row FROM archive_pending ORDER BY seq LIMIT ?', limit)
      .toArray()
      .map((r) => JSON.parse(r.row) as AuditRow);
  }

  /** Index rows of segments that may hold records in [since, until), newest first. */
  segments(since: number, until: number, beforeId: number, limit: number): SegmentInfo[] {
    return this.#storage.sql
      .exec<Omit<SegmentInfo, 'shard'>>(
        'SELECT key, first_id, last_id, min_ts, max_ts, count, bytes, last_hash FROM archive_segments WHERE max_ts >= ? AND min_ts < ? AND first_id < ? ORDER BY first_id DESC LIMIT ?',
        since,
        until,
        beforeId,
        limit,
      )
      .toArray()
      .map((s) => ({ ...s, shard: this.#shard }));
  }

  /** Writes every buffered record as segments (concurrent callers share one run). Returns records written; throws when R2 fails. */
  flush(): Promise<number> {
    this.#flushing ??= this.#drain().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  async #drain(): Promise<number> {
    let written = 0;
    for (;;) {
      const rows = this.pendingRows(SEGMENT_MAX_RECORDS);
      if (rows.length === 0) return written;
      const first = rows[0] as AuditRow;
      const last = rows.at(-1) as AuditRow;
      const body = await gzip(encodeRecords(this.#shard, rows));
      const key = segmentKey(this.#shard, locateId(first.id).position);
      let minTs = Number.MAX_SAFE_INTEGER;
      let maxTs = 0;
      for (const r of rows) {
        minTs = Math.min(minTs, r.ts);
        maxTs = Math.max(maxTs, r.ts);
      }
      await this.#bucket.put(key, body, {
        httpMetadata: { contentType: 'application/gzip' },
        customMetadata: {
          shard: String(this.#shard),
          first_id: String(first.id),
          last_id: String(last.id),
          min_ts: String(minTs),
          max_ts: String(maxTs),
          count: String(rows.length),
        },
      });
      this.#storage.transactionSync(() => {
        this.#storage.sql.exec('DELETE FROM archive_pending WHERE seq <= ?', last.id);
        this.#storage.sql.exec(
          'INSERT OR REPLACE INTO archive_segments VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          first.id,
          key,
          last.id,
          minTs,
          maxTs,
          rows.length,
          body.byteLength,
          last.hash,
        );
        const left = this.#storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM archive_pending').one().n;
        this.#storage.sql.exec(
          'UPDATE archive_state SET flushed_seq = ?, flushed_hash = ?, window_start = CASE WHEN ? > 0 THEN window_start ELSE NULL END',
          last.id,
          last.hash,
          left,
        );
      });
      written += rows.length;
      await this.#writeManifest(maxTs);
    }
  }

  /** The day's manifest (every segment whose newest record falls on that UTC day). */
  async #writeManifest(ts: number): Promise<void> {
    const day = new Date(ts).toISOString().slice(0, 10);
    const start = Date.parse(`${day}T00:00:00Z`);
    const segments = this.#storage.sql
      .exec(
        'SELECT key, first_id, last_id, min_ts, max_ts, count, bytes, last_hash FROM archive_segments WHERE max_ts >= ? AND max_ts < ? ORDER BY first_id',
        start,
        start + 86_400_000,
      )
      .toArray();
    await this.#bucket.put(manifestKey(this.#shard, ts), JSON.stringify({ shard: this.#shard, day, segments }), {
      httpMetadata: { contentType: 'application/json' },
    });
  }

  /**
   * Retention: deletes the oldest segments whose newest record is older than `cutoff` (a prefix of
   * the chain only). The boundary is recorded before any object is deleted, so verify never sees a
   * missing segment without the boundary that explains it.
   */
  async prune(cutoff: number, maxSegments = 100): Promise<{ deleted: number; records: number; boundary: number | null }> {
    const old = this.#storage.sql
      .exec<{ first_id: number; key: string; last_id: number; max_ts: number; count: number; last_hash: string }>(
        'SELECT first_id, key, last_id, max_ts, count, last_hash FROM archive_segments ORDER BY first_id LIMIT ?',
        maxSegments,
      )
      .toArray();
    const expired = [];
    for (const s of old) {
      if (s.max_ts >= cutoff) break;
      expired.push(s);
    }
    const last = expired.at(-1);
    if (!last) return { deleted: 0, records: 0, boundary: null };
    this.#storage.sql.exec('UPDATE archive_state SET pruned_seq = ?, pruned_hash = ?', last.last_id, last.last_hash);
    await this.#bucket.delete(expired.map((s) => s.key));
    this.#storage.sql.exec('DELETE FROM archive_segments WHERE first_id <= ?', last.first_id);
    return { deleted: expired.length, records: expired.reduce((n, s) => n + s.count, 0), boundary: last.last_id };
  }
}
