/**
 * Verifies the chain stored in D1: from the retention checkpoint (or genesis) through every row in
 * id order, then against the writer's anchor (the last row the `AuditLog` object committed), so a
 * truncated tail or a fully re-hashed table is caught too.
 */
import { ChainVerifier, GENESIS_HASH, type ChainBreak } from './hash-chain';
import { AUDIT_COLUMNS } from './query';
import type { AuditRow } from './types';

export const VERIFY_PAGE_ROWS = 1000;
/** Rows one call checks by default; a longer chain is verified in slices (`after` = `next_after`). */
export const VERIFY_DEFAULT_MAX_ROWS = 100_000;

export interface VerifyOptions {
  /** Start after this row (trusting its hash: the rows before it were checked by an earlier slice). */
  after?: number;
  maxRows?: number;
}

export interface Checkpoint {
  seq: number;
  hash: string;
  pruned_at: number;
}

export interface VerifyReport {
  ok: boolean;
  /** Rows whose hash and link were checked. */
  checked: number;
  /** Where the walk started: the pruned boundary, or null for genesis. */
  checkpoint: Checkpoint | null;
  first_seq: number | null;
  last_seq: number | null;
  /** The writer's last committed row, when the caller could ask it. */
  anchor: { seq: number; hash: string } | null;
  broken: ChainBreak | null;
  /** False when the slice ended at `maxRows`: call again with `after = next_after`. */
  complete: boolean;
  next_after: number | null;
}

export async function readCheckpoint(db: D1Database, chain: string): Promise<Checkpoint | null> {
  return db.prepare('SELECT seq, hash, pruned_at FROM audit_checkpoints WHERE chain = ?').bind(chain).first<Checkpoint>();
}

/** Walks the whole table page by page; stops at the first broken link. */
export async function verifyAuditChain(db: D1Database, chain: string, anchor: { seq: number; hash: string } | null, options: VerifyOptions = {}): Promise<VerifyReport> {
  const maxRows = options.maxRows ?? VERIFY_DEFAULT_MAX_ROWS;
  const checkpoint = await readCheckpoint(db, chain);
  let start = checkpoint ? { id: checkpoint.seq, hash: checkpoint.hash } : { id: 0, hash: GENESIS_HASH };
  if (options.after !== undefined && options.after > start.id) {
    const row = await db.prepare('SELECT id, hash FROM audit_events WHERE id = ?').bind(options.after).first<{ id: number; hash: string }>();
    start = row ?? { id: options.after, hash: 'missing' };
  }
  const verifier = new ChainVerifier(start);
  const anchorRow = anchor && anchor.seq > 0 ? { id: anchor.seq, hash: anchor.hash } : null;
  let firstSeq: number | null = null;
  let after = start.id;
  let complete = true;
  // A row at or below the checkpoint survived pruning: it is outside the verified chain.
  const stale = await db.prepare('SELECT MIN(id) AS id FROM audit_events WHERE id <= ?').bind(checkpoint ? checkpoint.seq : 0).first<{ id: number | null }>();
  for (;;) {
    const limit = Math.min(VERIFY_PAGE_ROWS, maxRows - verifier.checked);
    const { results } = await db.prepare(`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE id > ? ORDER BY id LIMIT ?`).bind(after, limit).all<AuditRow>();
    for (const row of results) {
      firstSeq ??= row.id;
      if (verifier.push(row)) break;
      verifier.checkAnchor(anchorRow);
      if (verifier.broken) break;
    }
    if (verifier.broken || results.length < limit) break;
    after = (results.at(-1) as AuditRow).id;
    if (verifier.checked >= maxRows) {
      // Full slice: more rows may follow (a cheap look decides whether this slice is the end).
      const more = await db.prepare('SELECT 1 AS one FROM audit_events WHERE id > ? LIMIT 1').bind(after).first();
      complete = more === null;
      break;
    }
  }
  if (complete) verifier.finish(anchorRow);
  let broken = verifier.broken;
  if (!broken && stale?.id !== null && stale?.id !== undefined) {
    broken = { seq: stale.id, kind: 'relinked', detail: `row ${stale.id} lies before the retention checkpoint (${checkpoint?.seq})` };
  }
  return {
    ok: broken === null,
    checked: verifier.checked,
    checkpoint,
    first_seq: firstSeq,
    last_seq: verifier.broken ? null : firstSeq === null ? null : verifier.last.id,
    anchor: anchor && anchor.seq > 0 ? anchor : null,
    broken,
    complete: complete || broken !== null,
    next_after: complete || broken ? null : verifier.last.id,
  };
}
