/**
 * Verifies one shard's two chains (docs/audit.md "Verification"): the D1 rows in id order from the
 * retention boundary, and the R2 segments in key (= position) order. Each walk is checked against
 * anchors that live outside the store it checks: the retention boundary and head the shard's
 * `AuditLog` object recorded, and the heads of the signed checkpoint. So an edited, deleted,
 * reordered or truncated row or segment — or a deleted prefix with D1's checkpoint moved after it —
 * is reported with its shard and position.
 */
import { ChainVerifier, GENESIS_HASH, type ChainBreak } from './hash-chain';
import { AUDIT_COLUMNS } from './query';
import type { AuditRow } from './types';
import type { Link } from './audit-log-do';
import { ARCHIVE_OFFSET, locateId, shardName, streamBase, type AuditStream } from './shards';
import { decodeRecords, gunzip, shardSegmentPrefix } from './segment-codec';

export const VERIFY_PAGE_ROWS = 1000;
/** Records one call checks by default; a longer log is verified in slices (`after` = `next_after`). */
export const VERIFY_DEFAULT_MAX_ROWS = 100_000;

export interface StreamAnchors {
  /** Retention boundary the writer recorded (genesis: the stream base with the zero hash). */
  pruned: Link;
  /** Last record the writer committed to this store. */
  head: Link;
  /** The signed checkpoint's head for this stream (null when the checkpoint predates the shard). */
  signed: Link | null;
}

export interface StreamBreak extends ChainBreak {
  shard: number;
  stream: AuditStream;
  /** Position of the first bad record in its stream (1, 2, 3, ...). */
  position: number;
}

export interface StreamReport {
  checked: number;
  /** Where the walk started (the retention boundary's id) and the last id checked. */
  start: number;
  last: number | null;
  head: number;
  broken: StreamBreak | null;
  complete: boolean;
}

export interface Budget {
  /** Records still to check in this call. */
  left: number;
  /** Skip everything at or below this id (an earlier slice checked it). */
  after: number;
}

function streamBreak(shard: number, stream: AuditStream, b: ChainBreak): StreamBreak {
  return { ...b, shard, stream, position: b.seq - streamBase(shard, stream) };
}

/** Runs the anchors past a verifier after each record. */
function checkAnchors(v: ChainVerifier, anchors: StreamAnchors): void {
  for (const a of [anchors.pruned, anchors.signed, anchors.head]) if (a && a.id > 0) v.checkAnchor(a);
}

/** Where a walk starts: the stored boundary, unless it claims more was pruned than the writer recorded. */
function startOf(
  stored: Link | null,
  anchors: StreamAnchors,
  shard: number,
  stream: AuditStream,
): { start: Link; broken: ChainBreak | null } {
  const start = stored ?? { id: streamBase(shard, stream), hash: GENESIS_HASH };
  if (stored && stored.id > anchors.pruned.id) {
    return {
      start,
      broken: {
        seq: anchors.pruned.id + 1,
        kind: 'deleted',
        detail: `records ${locateId(anchors.pruned.id + 1).position}..${locateId(stored.id).position} are missing: the retention checkpoint was moved past the boundary the writer recorded (${locateId(anchors.pruned.id).position})`,
      },
    };
  }
  if (stored && stored.id === anchors.pruned.id && stored.hash !== anchors.pruned.hash) {
    return {
      start,
      broken: { seq: stored.id, kind: 'relinked', detail: `the retention checkpoint's hash differs from the one the writer recorded` },
    };
  }
  return { start, broken: null };
}

export async function verifyD1Stream(db: D1Database, shard: number, anchors: StreamAnchors, budget: Budget): Promise<StreamReport> {
  const base = streamBase(shard, 'd1');
  const end = base + ARCHIVE_OFFSET;
  const report: StreamReport = { checked: 0, start: base, last: null, head: anchors.head.id, broken: null, complete: true };
  if (budget.after >= end) return report;
  const cp = await db.prepare('SELECT seq AS id, hash FROM audit_checkpoints WHERE chain = ?').bind(shardName(shard)).first<Link>();
  let { start, broken } = startOf(cp, anchors, shard, 'd1');
  report.start = start.id;
  if (broken) return { ...report, broken: streamBreak(shard, 'd1', broken) };
  // A row at or below the boundary survived pruning: outside the verified chain.
  const stale = await db
    .prepare('SELECT MIN(id) AS id FROM audit_events WHERE id > ? AND id <= ?')
    .bind(base, start.id)
    .first<{ id: number | null }>();
  if (budget.after > start.id) {
    const row = await db.prepare('SELECT id, hash FROM audit_events WHERE id = ?').bind(budget.after).first<Link>();
    start = row ?? { id: budget.after, hash: 'missing' };
  }
  const v = new ChainVerifier(start);
  let after = start.id;
  for (;;) {
    const limit = Math.min(VERIFY_PAGE_ROWS, budget.left - report.checked);
    if (limit <= 0) {
      const more = await db.prepare('SELECT 1 AS one FROM audit_events WHERE id > ? AND id < ? LIMIT 1').bind(after, end).first();
      report.complete = more === null;
      break;
    }
    const { results } = await db
      .prepare(`SELECT ${AUDIT_COLUMNS} FROM audit_events WHERE id > ? AND id < ? ORDER BY id LIMIT ?`)
      .bind(after, end, limit)
      .all<AuditRow>();
    for (const row of results) {
      if (v.push(row)) break;
      report.checked++;
      checkAnchors(v, anchors);
      if (v.broken) break;
    }
    if (v.broken || results.length < limit) break;
    after = (results.at(-1) as AuditRow).id;
  }
  if (report.complete) {
    if (anchors.signed) v.finish(anchors.signed);
    v.finish(anchors.head);
  }
  broken = v.broken;
  if (!broken && stale?.id)
    broken = {
      seq: stale.id,
      kind: 'relinked',
      detail: `row ${locateId(stale.id).position} lies before the retention checkpoint (${locateId(start.id).position})`,
    };
  report.last = report.checked > 0 ? v.last.id : null;
  report.broken = broken ? streamBreak(shard, 'd1', broken) : null;
  if (report.broken) report.complete = true;
  return report;
}

/** Every segment key of a shard, in position order. */
async function listSegments(bucket: R2Bucket, shard: number): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: shardSegmentPrefix(shard), cursor, limit: 1000 });
    for (const o of page.objects) keys.push(o.key);
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys.sort();
}

function keyPosition(key: string): number {
  const m = /\/(\d{13})\.ndjson\.gz$/.exec(key);
  return m ? Number(m[1]) : -1;
}

export async function verifyR2Stream(bucket: R2Bucket, shard: number, anchors: StreamAnchors, budget: Budget): Promise<StreamReport> {
  const base = streamBase(shard, 'r2');
  const report: StreamReport = { checked: 0, start: anchors.pruned.id, last: null, head: anchors.head.id, broken: null, complete: true };
  if (budget.after >= base + ARCHIVE_OFFSET) return report;
  const keys = await listSegments(bucket, shard);
  let start: Link | null = anchors.pruned;
  const resumeAt = budget.after > start.id ? budget.after : null;
  if (resumeAt !== null) start = null; // found while walking: the record `after` (checked by the previous slice)
  let v: ChainVerifier | null = start ? new ChainVerifier(start) : null;
  const fail = (b: ChainBreak): StreamReport => ({
    ...report,
    broken: streamBreak(shard, 'r2', b),
    last: v && v.checked > 0 ? v.last.id : null,
    complete: true,
  });
  const resumePos = resumeAt === null ? 0 : locateId(resumeAt).position;
  const startPos = locateId(anchors.pruned.id).position;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const next = keys[i + 1];
    // Segments wholly before the boundary (or before the resume point) are skipped unread.
    if (next !== undefined && keyPosition(next) <= Math.max(startPos, resumePos) + 1) continue;
    const position = keyPosition(key);
    const expectedNext = (v?.last.id ?? resumeAt ?? base) + 1;
    let records;
    try {
      const object = await bucket.get(key);
      if (!object) throw new Error('segment vanished during the walk');
      records = decodeRecords(await gunzip(await object.arrayBuffer()));
    } catch (err) {
      return fail({
        seq: Math.max(expectedNext, base + position),
        kind: 'unreadable',
        detail: `segment ${key} cannot be read as gzip NDJSON (${err instanceof Error ? err.message : String(err)})`.slice(0, 300),
      });
    }
    const first = records[0];
    if (first && first.id !== base + position && first.id > (v?.last.id ?? resumeAt ?? start?.id ?? base)) {
      return fail({
        seq: base + position,
        kind: 'reordered',
        detail: `segment ${key} holds records from position ${locateId(first.id).position}, not ${position}`,
      });
    }
    for (const r of records) {
      if (!v) {
        if (r.id === resumeAt) v = new ChainVerifier({ id: r.id, hash: r.hash });
        continue;
      }
      if (r.id <= v.last.id) continue;
      if (r.shard !== shard)
        return fail({ seq: r.id, kind: 'edited', detail: `record ${locateId(r.id).position} claims shard ${r.shard}` });
      if (report.checked >= budget.left) {
        report.complete = false;
        report.last = v.last.id;
        return report;
      }
      const b = v.push(r);
      if (b) return fail(b);
      report.checked++;
      checkAnchors(v, anchors);
      if (v.broken) return fail(v.broken);
    }
  }
  if (!v) return fail({ seq: resumeAt ?? base, kind: 'deleted', detail: `record ${resumePos} (the resume point) is not in any segment` });
  if (anchors.signed) v.finish(anchors.signed);
  v.finish(anchors.head);
  if (v.broken) return fail(v.broken);
  report.last = v.checked > 0 ? v.last.id : null;
  return report;
}
