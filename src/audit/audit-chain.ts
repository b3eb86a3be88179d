/**
 * The chain writer inside the `AuditLog` Durable Object: sequences and hashes events in the DO's
 * own SQLite (synchronously, so nothing interleaves between reading the head and writing it), then
 * copies buffered rows to D1 in batches. When D1 fails the rows stay in the buffer and an alarm
 * retries with exponential backoff: an event accepted by `append` is never silently dropped.
 */
import type { AuditEvent, AuditRow } from './types';
import { chainEvent, GENESIS_HASH } from './hash-chain';
import { ARCHIVE_OFFSET, LEGACY_CHAIN_NAME, shardName, streamBase } from './shards';

/** The name of shard 0's chain (and of its Durable Object): the pre-sharding single chain. */
export const AUDIT_CHAIN_NAME = LEGACY_CHAIN_NAME;

/** Rows per D1 batch (one INSERT per row: 16 bound values, under D1's 100-parameter cap). */
export const D1_BATCH_ROWS = 50;
/** A D1 batch slower than this counts as failed (a hung write must not stall the buffer forever). */
export const D1_WRITE_TIMEOUT_MS = 15_000;
export const RETRY_BASE_MS = 1_000;
export const RETRY_MAX_MS = 5 * 60_000;

/** Pure: the delay before retry number `failures` (1, 2, 4, ... seconds, capped at 5 minutes). */
export function retryDelayMs(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, Math.min(failures - 1, 20)));
}

export interface ChainHead {
  /** Last sequence number assigned, and its hash. */
  seq: number;
  hash: string;
  /** Last row known to be committed in D1 (the verifier's anchor). */
  flushed_seq: number;
  flushed_hash: string;
  /** Rows waiting in the buffer for D1. */
  pending: number;
  /** Consecutive failed D1 writes (0 when healthy) and when the next retry is due (UTC ms). */
  failures: number;
  retry_at: number | null;
}

export interface FlushResult {
  written: number;
  pending: number;
  ok: boolean;
}

export interface AuditChainHooks {
  /** Called once per failed D1 batch (metric + log line; never the rows' content). */
  onWriteFailure?: (error: unknown, pending: number, retryInMs: number) => void;
  now?: () => number;
  /** Defaults to D1_WRITE_TIMEOUT_MS. */
  writeTimeoutMs?: number;
}

const INSERT_SQL =
  'INSERT OR IGNORE INTO audit_events (id, ts, request_id, actor_id, actor_kind, actor_name, ip, method, route, action, outcome, reason, status, details, prev_hash, hash, shard) ' +
  'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

type StateRow = {
  seq: number;
  hash: string;
  flushed_seq: number;
  flushed_hash: string;
  failures: number;
  retry_at: number | null;
  bootstrapped: number;
};

export class AuditChain {
  readonly #storage: DurableObjectStorage;
  readonly #db: D1Database;
  readonly #hooks: AuditChainHooks;
  readonly #shard: number;
  #flushing: Promise<FlushResult> | null = null;
  #again = false;

  /** `shard`: ids of this chain are `shard × 2^40 + position` (src/audit/shards.ts); 0 = the legacy chain. */
  constructor(storage: DurableObjectStorage, db: D1Database, hooks: AuditChainHooks = {}, shard = 0) {
    this.#storage = storage;
    this.#db = db;
    this.#hooks = hooks;
    this.#shard = shard;
    const base = streamBase(shard, 'd1');
    const sql = storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS chain_state (
      one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL,
      flushed_seq INTEGER NOT NULL, flushed_hash TEXT NOT NULL, failures INTEGER NOT NULL, retry_at INTEGER,
      bootstrapped INTEGER NOT NULL DEFAULT 0)`);
    sql.exec('CREATE TABLE IF NOT EXISTS pending (seq INTEGER PRIMARY KEY, row TEXT NOT NULL)');
    sql.exec(
      `INSERT OR IGNORE INTO chain_state (one, seq, hash, flushed_seq, flushed_hash, failures, retry_at) VALUES (1, ?, ?, ?, ?, 0, NULL)`,
      base,
      GENESIS_HASH,
      base,
      GENESIS_HASH,
    );
  }

  #now(): number {
    return (this.#hooks.now ?? Date.now)();
  }

  #state(): StateRow {
    return this.#storage.sql
      .exec<StateRow>('SELECT seq, hash, flushed_seq, flushed_hash, failures, retry_at, bootstrapped FROM chain_state WHERE one = 1')
      .one();
  }

  /** Sequences, hashes and buffers the events (one synchronous transaction). */
  append(events: readonly AuditEvent[]): AuditRow[] {
    return this.#storage.transactionSync(() => {
      const state = this.#state();
      let prev = { id: state.seq, hash: state.hash };
      const rows: AuditRow[] = [];
      for (const e of events) {
        const row = chainEvent(e, prev);
        this.#storage.sql.exec('INSERT INTO pending (seq, row) VALUES (?, ?)', row.id, JSON.stringify(row));
        rows.push(row);
        prev = { id: row.id, hash: row.hash };
      }
      this.#storage.sql.exec('UPDATE chain_state SET seq = ?, hash = ? WHERE one = 1', prev.id, prev.hash);
      return rows;
    });
  }

  /** True while an earlier D1 failure's backoff is running: new rows wait for the alarm. */
  backingOff(): boolean {
    const s = this.#state();
    return s.failures > 0 && s.retry_at !== null && s.retry_at > this.#now();
  }

  head(): ChainHead {
    const { bootstrapped: _b, ...s } = this.#state();
    const pending = this.#storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM pending').one().n;
    return { ...s, pending };
  }

  /**
   * Once per object lifetime, before the first D1 write: if D1 already holds a chain (this object's
   * storage was lost or the chain moved), continue after D1's last row instead of colliding with
   * it — buffered rows are re-sequenced and re-hashed onto that head (they were never stored).
   */
  async #bootstrap(): Promise<void> {
    if (this.#state().bootstrapped) return;
    const base = streamBase(this.#shard, 'd1');
    const last =
      (await this.#db
        .prepare('SELECT id, hash FROM audit_events WHERE id > ? AND id < ? ORDER BY id DESC LIMIT 1')
        .bind(base, base + ARCHIVE_OFFSET)
        .first<{ id: number; hash: string }>()) ??
      (await this.#db
        .prepare('SELECT seq AS id, hash FROM audit_checkpoints WHERE chain = ?')
        .bind(shardName(this.#shard))
        .first<{ id: number; hash: string }>());
    this.#storage.transactionSync(() => {
      const state = this.#state();
      if (last && last.id > state.flushed_seq) {
        let prev = { id: last.id, hash: last.hash };
        const rows = this.#storage.sql.exec<{ row: string }>('SELECT row FROM pending ORDER BY seq').toArray();
        this.#storage.sql.exec('DELETE FROM pending');
        for (const r of rows) {
          const { id: _id, prev_hash: _p, hash: _h, ...event } = JSON.parse(r.row) as AuditRow;
          const row = chainEvent(event, prev);
          this.#storage.sql.exec('INSERT INTO pending (seq, row) VALUES (?, ?)', row.id, JSON.stringify(row));
          prev = { id: row.id, hash: row.hash };
        }
        this.#storage.sql.exec(
          'UPDATE chain_state SET seq = ?, hash = ?, flushed_seq = ?, flushed_hash = ? WHERE one = 1',
          prev.id,
          prev.hash,
          last.id,
          last.hash,
        );
      }
      this.#storage.sql.exec('UPDATE chain_state SET bootstrapped = 1 WHERE one = 1');
    });
  }

  /**
   * Copies every buffered row to D1. Concurrent callers share one run (rows appended meanwhile go
   * in its next batch). Never throws: on failure the rows stay buffered and the alarm is set.
   */
  flush(): Promise<FlushResult> {
    if (this.#flushing) {
      this.#again = true;
      return this.#flushing;
    }
    this.#flushing = (async () => {
      let total = 0;
      try {
        do {
          this.#again = false;
          const r = await this.#drain();
          total += r.written;
          if (!r.ok) return { ...r, written: total };
        } while (this.#again);
        return { ok: true, written: total, pending: this.head().pending };
      } finally {
        this.#flushing = null;
      }
    })();
    return this.#flushing;
  }

  async #drain(): Promise<FlushResult> {
    let written = 0;
    try {
      await withTimeout(this.#bootstrap(), this.#hooks.writeTimeoutMs ?? D1_WRITE_TIMEOUT_MS);
    } catch (error) {
      return { ok: false, written, pending: await this.#recordFailure(error) };
    }
    for (;;) {
      const batch = this.#storage.sql
        .exec<{ row: string }>('SELECT row FROM pending ORDER BY seq LIMIT ?', D1_BATCH_ROWS)
        .toArray()
        .map((r) => JSON.parse(r.row) as AuditRow);
      if (batch.length === 0) return { ok: true, written, pending: 0 };
      try {
        const stmt = this.#db.prepare(INSERT_SQL);
        // Parameterised SQL only: user-supplied strings are bound values, never SQL text.
        // A late commit after the timeout is harmless: the retry's INSERT OR IGNORE skips those ids.
        await withTimeout(
          this.#db.batch(
            batch.map((r) =>
              stmt.bind(
                r.id,
                r.ts,
                r.request_id,
                r.actor_id,
                r.actor_kind,
                r.actor_name,
                r.ip,
                r.method,
                r.route,
                r.action,
                r.outcome,
                r.reason,
                r.status,
                r.details,
                r.prev_hash,
                r.hash,
                this.#shard,
              ),
            ),
          ),
          this.#hooks.writeTimeoutMs ?? D1_WRITE_TIMEOUT_MS,
        );
      } catch (error) {
        return { ok: false, written, pending: await this.#recordFailure(error) };
      }
      const last = batch[batch.length - 1] as AuditRow;
      this.#storage.transactionSync(() => {
        this.#storage.sql.exec('DELETE FROM pending WHERE seq <= ?', last.id);
        this.#storage.sql.exec(
          'UPDATE chain_state SET flushed_seq = ?, flushed_hash = ?, failures = 0, retry_at = NULL WHERE one = 1',
          last.id,
          last.hash,
        );
      });
      written += batch.length;
    }
  }

  async #recordFailure(error: unknown): Promise<number> {
    const failures = this.#state().failures + 1;
    const delay = retryDelayMs(failures);
    const retryAt = this.#now() + delay;
    this.#storage.sql.exec('UPDATE chain_state SET failures = ?, retry_at = ? WHERE one = 1', failures, retryAt);
    await this.#storage.setAlarm(retryAt);
    const pending = this.head().pending;
    this.#hooks.onWriteFailure?.(error, pending, delay);
    return pending;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`D1 write timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
