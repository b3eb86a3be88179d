/**
 * R2 audit segments (docs/audit.md "Archive"): one gzip-compressed NDJSON object per shard per time
 * window, each line one hash-chained record (`shard` + the row; `id` encodes the position). Keys
 * sort by position, so a listing is the chain's order:
 *   audit/segments/s<shard:3>/<first position:13>.ndjson.gz
 * A per-shard, per-day manifest (audit/manifests/s<shard>/<YYYY-MM-DD>.json) lists the day's
 * segments with their ranges, for tools and for lifecycle rules; the writer's own index is in the
 * AuditLog object's SQLite.
 */
import type { AuditRow } from './types';

export const AUDIT_R2_PREFIX = 'audit/';
export const SEGMENT_PREFIX = `${AUDIT_R2_PREFIX}segments/`;
export const MANIFEST_PREFIX = `${AUDIT_R2_PREFIX}manifests/`;

export interface SegmentRecord extends AuditRow {
  shard: number;
}

export interface SegmentInfo {
  key: string;
  shard: number;
  /** First and last id in the segment (positions are `locateId(id).position`). */
  first_id: number;
  last_id: number;
  min_ts: number;
  max_ts: number;
  count: number;
  bytes: number;
  last_hash: string;
}

export function shardSegmentPrefix(shard: number): string {
  return `${SEGMENT_PREFIX}s${String(shard).padStart(3, '0')}/`;
}

export function segmentKey(shard: number, firstPosition: number): string {
  return `${shardSegmentPrefix(shard)}${String(firstPosition).padStart(13, '0')}.ndjson.gz`;
}

export function manifestKey(shard: number, ts: number): string {
  return `${MANIFEST_PREFIX}s${String(shard).padStart(3, '0')}/${new Date(ts).toISOString().slice(0, 10)}.json`;
}

export function encodeRecords(shard: number, rows: readonly AuditRow[]): string {
  let out = '';
  for (const r of rows) out += JSON.stringify({ shard, ...r }) + '\n';
  return out;
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function gzip(text: string): Promise<Uint8Array> {
  return drain(new Blob([text]).stream().pipeThrough(new CompressionStream('gzip')));
}

export async function gunzip(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(
    await drain(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))),
  );
}

/** Parses a segment's NDJSON. Throws on a line that is not a record (the verifier reports it). */
export function decodeRecords(text: string): SegmentRecord[] {
  const out: SegmentRecord[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const r = JSON.parse(line) as SegmentRecord;
    if (typeof r !== 'object' || r === null || typeof r.id !== 'number' || typeof r.hash !== 'string')
      throw new Error('not an audit record');
    out.push(r);
  }
  return out;
}
