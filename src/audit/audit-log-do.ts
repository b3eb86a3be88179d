/**
 * `AuditLog`: the single writer of one audit shard's hash chains (src/audit/shards.ts). Shard 0 is
 * the object named `chain:global` (the pre-sharding chain), shard n is `chain:<n>`. Security
 * decisions are buffered in this object's SQLite and copied to D1 (alarm retries with backoff when
 * D1 fails, docs/audit.md "Delivery"); allowed-request events go to R2 segments (ArchiveChain).
 * The object also keeps the anchors verify trusts: its heads, its retention boundaries and a copy
 * of the latest signed checkpoint of every shard's heads.
 */
import type { CheckpointLink, SignedShard } from './checkpoint-jws';
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';
import type { AuditEvent, AuditRow } from './types';
import { AuditChain, AUDIT_CHAIN_NAME, type ChainHead, type FlushResult } from './audit-chain';
import { ArchiveChain, type ArchiveHead } from './archive-chain';
import { GENESIS_HASH } from './hash-chain';
import { streamBase, streamOf, MAX_SHARDS } from './shards';
import type { SegmentInfo } from './segment-codec';
import { loadConfig } from '../config';
import { countAuditWriteFailure, flushMetrics } from '../metrics/recorder';

export { AUDIT_CHAIN_NAME };

/** Retry delay after a failed R2 segment write. */
export const ARCHIVE_RETRY_MS = 10_000;

export type Link = CheckpointLink;

/** What verify reads from each shard: heads committed to each store, retention boundaries (as a checkpoint signs them), the checkpoint copy. */
export interface ShardAnchors extends SignedShard {
  checkpoint: { taken_at: number; jws: string } | null;
}

/** Metric + log line for a failed D1 batch. The line names counts and the error, never row content. */
export function reportAuditWriteFailure(env: Env, ctx?: DurableObjectState) {
  return (error: unknown, pending: number, retryInMs: number): void => {
    countAuditWriteFailure();
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    console.error(
      JSON.stringify({
        msg: 'audit: D1 write failed; rows kept in the AuditLog buffer',
        pending,
        retry_in_ms: retryInMs,
        error: message.slice(0, 200),
      }),
    );
    const sent = flushMetrics(env, true).catch(() => undefined);
    ctx?.waitUntil(sent);
  };
}

export class AuditLog extends DurableObject<Env> {
  #shard: number | null = null;
  #chain: AuditChain | null = null;
  #archive: ArchiveChain | null = null;
  /** After a failed R2 write: no segment attempt before this (UTC ms). */
  #archiveRetryAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec('CREATE TABLE IF NOT EXISTS shard_meta (one INTEGER PRIMARY KEY CHECK (one = 1), shard INTEGER NOT NULL)');
    sql.exec('CREATE TABLE IF NOT EXISTS d1_pruned (one INTEGER PRIMARY KEY CHECK (one = 1), id INTEGER NOT NULL, hash TEXT NOT NULL)');
    sql.exec(
      'CREATE TABLE IF NOT EXISTS checkpoint_copy (one INTEGER PRIMARY KEY CHECK (one = 1), taken_at INTEGER NOT NULL, jws TEXT NOT NULL)',
    );
    const meta = sql.exec<{ shard: number }>('SELECT shard FROM shard_meta').toArray()[0];
    if (meta) this.#open(meta.shard);
  }

  /** Binds this object to its shard on first use (a later call naming another shard is a bug). */
  #open(shard: number): { chain: AuditChain; archive: ArchiveChain } {
    if (!Number.isInteger(shard) || shard < 0 || shard >= MAX_SHARDS) throw new Error(`audit: bad shard ${shard}`);
    if (this.#shard === null) {
      this.ctx.storage.sql.exec('INSERT OR IGNORE INTO shard_meta (one, shard) VALUES (1, ?)', shard);
      this.#shard = this.ctx.storage.sql.exec<{ shard: number }>('SELECT shard FROM shard_meta').one().shard;
      this.#chain = new AuditChain(
        this.ctx.storage,
        this.env.DB,
        { onWriteFailure: reportAuditWriteFailure(this.env, this.ctx) },
        this.#shard,
      );
      this.#archive = new ArchiveChain(this.ctx.storage, this.env.RESULTS, this.#shard);
    }
    if (this.#shard !== shard) throw new Error(`audit: object of shard ${this.#shard} called as shard ${shard}`);
    return { chain: this.#chain as AuditChain, archive: this.#archive as ArchiveChain };
  }

  #windowMs(): number {
    const c = loadConfig(this.env);
    return (c.ok ? c.config.AUDIT_SEGMENT_SECONDS : 60) * 1000;
  }

  /** One alarm for both stores: the D1 retry (when backing off) or the end of the open R2 window. */
  async #schedule(): Promise<void> {
    if (this.#shard === null) return;
    const { chain, archive } = this.#open(this.#shard);
    const h = chain.head();
    const segmentDue = archive.dueAt(this.#windowMs());
    const due = [segmentDue === null ? null : Math.max(segmentDue, this.#archiveRetryAt), h.failures > 0 ? h.retry_at : null].filter(
      (t): t is number => t !== null,
    );
    if (due.length === 0) return;
    const at = Math.max(Date.now(), Math.min(...due));
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  async #flushArchive(archive: ArchiveChain): Promise<boolean> {
    try {
      await archive.flush();
      this.#archiveRetryAt = 0;
      return true;
    } catch (error) {
      this.#archiveRetryAt = Date.now() + ARCHIVE_RETRY_MS;
      countAuditWriteFailure();
      console.error(
        JSON.stringify({
          msg: 'audit: R2 segment write failed; records kept in the AuditLog buffer',
          pending: archive.head().pending,
          error: String(error).slice(0, 200),
        }),
      );
      await this.ctx.storage.setAlarm(Date.now() + ARCHIVE_RETRY_MS);
      return false;
    }
  }

  /**
   * Appends events to this shard's chains: security decisions to the D1 chain (written now, or
   * buffered when D1 fails), allowed-request events to the open R2 segment (written when its window
   * ends). Resolves once the D1 rows are stored or safely buffered.
   */
  async append(events: AuditEvent[], shard = 0): Promise<{ first: number; last: number; stored: boolean }> {
    const { chain, archive } = this.#open(shard);
    const d1 = events.filter((e) => streamOf(e) === 'd1');
    const r2 = events.filter((e) => streamOf(e) === 'r2');
    const rows: AuditRow[] = [...chain.append(d1), ...archive.append(r2, Date.now())];
    const first = rows[0]?.id ?? 0;
    const last = rows.at(-1)?.id ?? 0;
    let stored = true;
    if (r2.length > 0 && (archive.dueAt(this.#windowMs()) ?? Infinity) <= Date.now() && this.#archiveRetryAt <= Date.now())
      stored = await this.#flushArchive(archive);
    if (d1.length > 0 || chain.head().pending > 0) {
      if (chain.backingOff()) stored = false;
      else stored = (await chain.flush()).ok && stored;
    }
    await this.#schedule();
    return { first, last, stored };
  }

  /** Writes buffered D1 rows now (tests, operators). */
  async flush(): Promise<FlushResult> {
    if (this.#shard === null) return { ok: true, written: 0, pending: 0 };
    return this.#open(this.#shard).chain.flush();
  }

  /** Closes the open R2 window now: every buffered archive record goes to a segment. */
  async flushArchive(shard: number): Promise<ArchiveHead> {
    const { archive } = this.#open(shard);
    await archive.flush();
    return archive.head();
  }

  /** The D1 chain head, the last row committed to D1, and the buffer size. */
  head(): ChainHead {
    if (this.#shard === null)
      return { seq: 0, hash: GENESIS_HASH, flushed_seq: 0, flushed_hash: GENESIS_HASH, pending: 0, failures: 0, retry_at: null };
    return this.#open(this.#shard).chain.head();
  }

  archiveHead(shard: number): ArchiveHead {
    return this.#open(shard).archive.head();
  }

  anchors(shard: number): ShardAnchors {
    const { chain, archive } = this.#open(shard);
    const d = chain.head();
    const a = archive.head();
    const pruned = this.ctx.storage.sql.exec<Link>('SELECT id, hash FROM d1_pruned').toArray()[0] ?? {
      id: streamBase(shard, 'd1'),
      hash: GENESIS_HASH,
    };
    const cp =
      this.ctx.storage.sql.exec<{ taken_at: number; jws: string }>('SELECT taken_at, jws FROM checkpoint_copy').toArray()[0] ?? null;
    return {
      shard,
      d1: { head: { id: d.flushed_seq, hash: d.flushed_hash }, pruned },
      r2: { head: { id: a.flushed_seq, hash: a.flushed_hash }, pruned: { id: a.pruned_seq, hash: a.pruned_hash } },
      checkpoint: cp,
    };
  }

  /** Retention of the D1 chain: recorded here before the rows are deleted from D1 (never moves back). */
  recordD1Prune(shard: number, id: number, hash: string): void {
    this.#open(shard);
    const current = this.ctx.storage.sql.exec<{ id: number }>('SELECT id FROM d1_pruned').toArray()[0];
    if (current && current.id >= id) return;
    this.ctx.storage.sql.exec('INSERT OR REPLACE INTO d1_pruned (one, id, hash) VALUES (1, ?, ?)', id, hash);
  }

  /** Segments overlapping [since, until) with ids below `beforeId`, newest first, and the open window's records. */
  archiveRead(
    shard: number,
    since: number,
    until: number,
    beforeId: number,
    limit: number,
  ): { segments: SegmentInfo[]; pending: AuditRow[] } {
    const { archive } = this.#open(shard);
    return { segments: archive.segments(since, until, beforeId, limit), pending: archive.pendingRows() };
  }

  async pruneArchive(shard: number, cutoff: number): Promise<{ deleted: number; records: number; boundary: number | null }> {
    return this.#open(shard).archive.prune(cutoff);
  }

  /** Keeps the newest signed checkpoint (an older one never replaces it). */
  storeCheckpoint(shard: number, takenAt: number, jws: string): void {
    this.#open(shard);
    const current = this.ctx.storage.sql.exec<{ taken_at: number }>('SELECT taken_at FROM checkpoint_copy').toArray()[0];
    if (current && current.taken_at >= takenAt) return;
    this.ctx.storage.sql.exec('INSERT OR REPLACE INTO checkpoint_copy (one, taken_at, jws) VALUES (1, ?, ?)', takenAt, jws);
  }

  /** D1 retry after a failure, and the end of the open R2 window. */
  override async alarm(): Promise<void> {
    if (this.#shard === null) return;
    const { chain, archive } = this.#open(this.#shard);
    if (chain.head().pending > 0) await chain.flush();
    if ((archive.dueAt(this.#windowMs()) ?? Infinity) <= Date.now()) await this.#flushArchive(archive);
    await this.#schedule();
  }
}
