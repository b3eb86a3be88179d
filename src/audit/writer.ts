/**
 * Hands audit events to their shard's writer, an `AuditLog` Durable Object (src/audit/shards.ts):
 * events are grouped by the tenant's shard and each group goes to its object in one call, all
 * shards in parallel. Called from `waitUntil`, so the request never waits for it. If an object
 * cannot be reached even after one retry, its events go to the Worker's log as a last resort (they
 * hold no secrets) and the failure is counted: nothing is dropped silently.
 */
import type { Env } from '../env';
import type { AuditEvent } from './types';
import { loadConfig } from '../config';
import { shardName, shardOf } from './shards';
import { countAuditWriteFailure } from '../metrics/recorder';

/** The stub of one shard's writer (shard 0: the legacy `chain:global`). */
export function auditShardStub(env: Env, shard: number) {
  return env.AUDIT_LOG.get(env.AUDIT_LOG.idFromName(shardName(shard)));
}

/** Shard 0's writer (the pre-sharding single chain). */
export function auditLogStub(env: Env) {
  return auditShardStub(env, 0);
}

/** AUDIT_SHARDS (4 when the config cannot be read: the writer must not lose events over a bad var). */
export function auditShardCount(env: Env): number {
  const c = loadConfig(env);
  return c.ok ? c.config.AUDIT_SHARDS : 4;
}

/** The shard an event belongs to: a stable hash of its tenant (the acting key or user id). */
export function eventShard(env: Env, e: Pick<AuditEvent, 'actor_id'>): number {
  return shardOf(e.actor_id, auditShardCount(env));
}

async function writeShard(env: Env, shard: number, events: AuditEvent[]): Promise<void> {
  try {
    await auditShardStub(env, shard).append(events, shard);
    return;
  } catch {
    // A stub can break after a transient error (object reset, overloaded); try once with a new one.
  }
  try {
    await auditShardStub(env, shard).append(events, shard);
  } catch (err) {
    countAuditWriteFailure();
    console.error(
      JSON.stringify({
        msg: 'audit: AuditLog unreachable; events logged here instead of stored',
        shard,
        error: String(err).slice(0, 200),
        audit: events,
      }),
    );
  }
}

export async function writeAuditEvents(env: Env, events: AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  const groups = new Map<number, AuditEvent[]>();
  for (const e of events) {
    const s = eventShard(env, e);
    const g = groups.get(s);
    if (g) g.push(e);
    else groups.set(s, [e]);
  }
  await Promise.all([...groups].map(([shard, group]) => writeShard(env, shard, group)));
}
