/**
 * Audit shards (docs/audit.md "Shards"): N `AuditLog` objects, each the single writer of its own
 * hash chains. A tenant's events always go to the same shard (a stable hash of the actor id), so
 * one tenant's history is one ordered chain; different tenants write in parallel.
 *
 * Every object keeps two chains (streams): `d1` (security decisions, queryable rows in D1) and `r2`
 * (high-volume allowed-request events, gzip NDJSON segments in R2). A row's id encodes where it
 * belongs — id = shard × 2^40 + (r2 ? 2^39 : 0) + position — so ids are unique across shards and
 * streams, order by (shard, stream, position), and the rows written before sharding (ids 1, 2, ...)
 * are exactly shard 0's d1 chain, the legacy `chain:global`, with their hashes unchanged.
 */
import type { AuditEvent } from './types';

export const SHARD_STRIDE = 2 ** 40;
export const ARCHIVE_OFFSET = 2 ** 39;
/** Shard 0 keeps the name of the single pre-sharding chain (and its Durable Object and checkpoint row). */
export const LEGACY_CHAIN_NAME = 'chain:global';
export const MAX_SHARDS = 256;

export type AuditStream = 'd1' | 'r2';

/** The Durable Object / checkpoint name of a shard. */
export function shardName(shard: number): string {
  return shard === 0 ? LEGACY_CHAIN_NAME : `chain:${shard}`;
}

/** The id just before a stream's first record (its genesis position 0). */
export function streamBase(shard: number, stream: AuditStream): number {
  return shard * SHARD_STRIDE + (stream === 'r2' ? ARCHIVE_OFFSET : 0);
}

/** Where an id belongs: its shard, stream and position (1, 2, 3, ...) in that stream. */
export function locateId(id: number): { shard: number; stream: AuditStream; position: number } {
  const shard = Math.floor(id / SHARD_STRIDE);
  const rest = id - shard * SHARD_STRIDE;
  return rest >= ARCHIVE_OFFSET ? { shard, stream: 'r2', position: rest - ARCHIVE_OFFSET } : { shard, stream: 'd1', position: rest };
}

/** FNV-1a (32 bit) of the UTF-8 bytes: stable across isolates, releases and runtimes. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The shard of a tenant (the acting key or user id). */
export function shardOf(tenant: string, shards: number): number {
  return shards <= 1 ? 0 : fnv1a(tenant) % shards;
}

/**
 * High-volume allowed-request events: archived to R2 segments instead of D1 rows. Denials,
 * failures and every other action (auth, keys, users, roles, refresh reuse, exports, admin reads,
 * grants) are security decisions and stay in D1.
 */
export const ARCHIVE_ACTIONS: ReadonlySet<string> = new Set(['crawl_requested']);

export function streamOf(e: Pick<AuditEvent, 'action' | 'outcome'>): AuditStream {
  return e.outcome === 'success' && ARCHIVE_ACTIONS.has(e.action) ? 'r2' : 'd1';
}
