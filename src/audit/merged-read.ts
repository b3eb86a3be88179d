/**
 * Reading the audit log across shards and stores (docs/audit.md "Reading"): one page merges the
 * D1 rows (security decisions, all shards in one table) with the R2 archive of every shard
 * (segments and the open window still buffered in the shard's object), newest first by
 * `(ts, id)` — and since an id encodes (shard, stream, position), the cursor `(ts, id)` is the
 * stable `(time, shard, position)` order the API promises, whichever shard a row came from.
 */
import type { Env } from '../env';
import type { AuditRow } from './types';
import { buildAuditQuery, type AuditCursor, type AuditFilter, type AuditPage } from './query';
import { ARCHIVE_ACTIONS } from './shards';
import { decodeRecords, gunzip, type SegmentInfo } from './segment-codec';
import { auditShardCount, auditShardStub } from './writer';

/** Segment index rows asked of a shard object per round. */
const INDEX_PAGE = 20;

/** Decoded segments kept by one export stream (its pages overlap the same segments). */
export type SegmentCache = Map<string, AuditRow[]>;
const CACHE_MAX = 16;

function matches(r: AuditRow, f: AuditFilter, cursor: AuditCursor | null): boolean {
  if (f.ownActorId !== undefined && r.actor_id !== f.ownActorId) return false;
  if (f.actor !== undefined && r.actor_id !== f.actor) return false;
  if (f.actorKind !== undefined && r.actor_kind !== f.actorKind) return false;
  if (f.action !== undefined && r.action !== f.action) return false;
  if (f.outcome !== undefined && r.outcome !== f.outcome) return false;
  if (f.since !== undefined && r.ts < f.since) return false;
  if (f.until !== undefined && r.ts >= f.until) return false;
  if (cursor && !(r.ts < cursor.ts || (r.ts === cursor.ts && r.id < cursor.id))) return false;
  return true;
}

/** Newest first: ts, then id (= shard, stream, position). */
export function newestFirst(a: AuditRow, b: AuditRow): number {
  return b.ts - a.ts || b.id - a.id;
}

/** Whether archived (allowed-request) events can match the filter at all. */
export function archiveMayMatch(f: AuditFilter): boolean {
  if (f.action !== undefined && !ARCHIVE_ACTIONS.has(f.action)) return false;
  if (f.outcome !== undefined && f.outcome !== 'success') return false;
  return true;
}

async function segmentRows(env: Env, s: SegmentInfo, cache?: SegmentCache): Promise<AuditRow[]> {
  const hit = cache?.get(s.key);
  if (hit) return hit;
  const object = await env.RESULTS.get(s.key);
  // A segment deleted by retention between the index read and now has nothing left to show.
  const rows = object ? decodeRecords(await gunzip(await object.arrayBuffer())).map(({ shard: _s, ...r }) => r) : [];
  if (cache) {
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(s.key, rows);
  }
  return rows;
}

/** Up to `want` matching archive records of one shard, newest first. */
async function shardArchive(
  env: Env,
  shard: number,
  f: AuditFilter,
  cursor: AuditCursor | null,
  want: number,
  cache?: SegmentCache,
): Promise<AuditRow[]> {
  const since = f.since ?? 0;
  const until = Math.min(f.until ?? Number.MAX_SAFE_INTEGER, cursor ? cursor.ts + 1 : Number.MAX_SAFE_INTEGER);
  const stub = auditShardStub(env, shard);
  let before = Number.MAX_SAFE_INTEGER;
  let found: AuditRow[] = [];
  let first = true;
  for (;;) {
    const { segments, pending } = await stub.archiveRead(shard, since, until, before, INDEX_PAGE);
    if (first) {
      found = pending.filter((r) => matches(r, f, cursor));
      first = false;
    }
    for (const s of segments) {
      // Records within a segment are in chain order, not strictly by ts: stop only when no older
      // segment can hold a record newer than the `want`-th best one found so far.
      if (found.length >= want) {
        found.sort(newestFirst);
        found.length = want;
        if (s.max_ts < (found.at(-1) as AuditRow).ts) return found;
      }
      for (const r of await segmentRows(env, s, cache)) if (matches(r, f, cursor)) found.push(r);
    }
    if (segments.length < INDEX_PAGE) break;
    before = (segments.at(-1) as SegmentInfo).first_id;
  }
  found.sort(newestFirst);
  return found.slice(0, want);
}

/** One page across D1 and every shard's archive, newest first. */
export async function readAuditEvents(
  env: Env,
  filter: AuditFilter,
  cursor: AuditCursor | null,
  limit: number,
  cache?: SegmentCache,
): Promise<AuditPage> {
  const q = buildAuditQuery(filter, cursor, limit + 1);
  const d1 = env.DB.prepare(q.sql)
    .bind(...q.params)
    .all<AuditRow>()
    .then((r) => r.results);
  const shards = archiveMayMatch(filter)
    ? Array.from({ length: auditShardCount(env) }, (_, s) => shardArchive(env, s, filter, cursor, limit + 1, cache))
    : [];
  const all = (await Promise.all([d1, ...shards])).flat().sort(newestFirst);
  const rows = all.slice(0, limit);
  const last = rows.at(-1);
  return { rows, next: all.length > limit && last ? { ts: last.ts, id: last.id } : null };
}
