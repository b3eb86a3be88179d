/**
 * `GET /admin/audit/verify` across shards: reads the anchors first — the signed checkpoint from R2
 * and every shard object's heads, boundaries and checkpoint copy — and answers 503 when any of them
 * cannot be read or does not hold (never a narrower "ok"); then walks each shard's D1 and R2
 * chains in id order (shard 0 d1, shard 0 r2, shard 1 d1, ...) within one call's budget.
 */
import type { Env } from '../env';
import type { Config } from '../config';
import { GatewayError } from '../http/errors';
import type { ShardAnchors } from './audit-log-do';
import { readLatestCheckpoint, takeCheckpoint, type CheckpointPayload } from './checkpoint';
import { auditShardStub } from './writer';
import { shardName, type AuditStream } from './shards';
import { verifyD1Stream, verifyR2Stream, VERIFY_DEFAULT_MAX_ROWS, type StreamBreak, type StreamReport } from './verify';

export interface ShardReport {
  shard: number;
  name: string;
  d1: StreamReport;
  r2: StreamReport;
}

export interface ShardedVerifyReport {
  ok: boolean;
  checked: number;
  /** The first broken record: shard, stream (d1 | r2), position in that stream, and its id as `seq`. */
  broken: (StreamBreak & { id: number }) | null;
  complete: boolean;
  next_after: number | null;
  checkpoint: { taken_at: number; shards: number };
  shards: ShardReport[];
}

function unavailable(detail: string): GatewayError {
  return new GatewayError('service_unavailable', `Audit verification cannot run: ${detail}`, { extras: { anchor_unavailable: true } });
}

/** Reads and cross-checks every anchor; throws 503 when one cannot be read or contradicts another. */
export async function readAnchors(env: Env, config: Config, now: number): Promise<{ payload: CheckpointPayload; anchors: ShardAnchors[] }> {
  const latest = await readLatestCheckpoint(env, config.AUDIT_CHECKPOINT_KEY);
  if (latest.state === 'bad') throw unavailable(`the R2 checkpoint is not valid: ${latest.reason}`);
  const count = Math.max(config.AUDIT_SHARDS, latest.state === 'ok' ? latest.payload.shards.length : 0);
  const anchors: ShardAnchors[] = [];
  for (let s = 0; s < count; s++) {
    try {
      anchors.push(await auditShardStub(env, s).anchors(s));
    } catch (err) {
      throw unavailable(`shard ${s} (${shardName(s)}) is unreachable (${String(err).slice(0, 120)})`);
    }
  }
  let payload: CheckpointPayload;
  if (latest.state === 'missing') {
    const holder = anchors.find((a) => a.checkpoint !== null);
    if (holder)
      throw unavailable(
        `the R2 checkpoint is missing, but shard ${holder.shard} holds one taken at ${new Date(holder.checkpoint?.taken_at ?? 0).toISOString()}`,
      );
    // A deployment that never took one: the first checkpoint is taken now (nothing to roll back to).
    try {
      payload = (await takeCheckpoint(env, config.AUDIT_CHECKPOINT_KEY, count, now)).payload;
    } catch (err) {
      throw unavailable(`no checkpoint exists and none can be signed (${err instanceof Error ? err.message : String(err)})`);
    }
  } else {
    payload = latest.payload;
    for (const a of anchors) {
      if (a.checkpoint && a.checkpoint.taken_at > payload.taken_at) {
        throw unavailable(
          `the R2 checkpoint (${new Date(payload.taken_at).toISOString()}) is older than the one shard ${a.shard} holds: it was replaced`,
        );
      }
    }
  }
  for (const signed of payload.shards) {
    const live = anchors[signed.shard];
    if (!live) continue;
    for (const stream of ['d1', 'r2'] as const) {
      if (live[stream].head.id < signed[stream].head.id || live[stream].pruned.id < signed[stream].pruned.id) {
        throw unavailable(`shard ${signed.shard}'s object is behind the signed checkpoint (${stream}): its state was lost or rolled back`);
      }
    }
  }
  return { payload, anchors };
}

export async function verifyShards(
  env: Env,
  config: Config,
  options: { after?: number; maxRows?: number },
  now = Date.now(),
): Promise<ShardedVerifyReport> {
  const { payload, anchors } = await readAnchors(env, config, now);
  const budget = { left: options.maxRows ?? VERIFY_DEFAULT_MAX_ROWS, after: options.after ?? 0 };
  const report: ShardedVerifyReport = {
    ok: true,
    checked: 0,
    broken: null,
    complete: true,
    next_after: null,
    checkpoint: { taken_at: payload.taken_at, shards: payload.shards.length },
    shards: [],
  };
  let lastId = budget.after;
  for (const a of anchors) {
    const signed = payload.shards.find((p) => p.shard === a.shard) ?? null;
    const streams = {} as Record<AuditStream, StreamReport>;
    for (const stream of ['d1', 'r2'] as const) {
      const streamAnchors = { pruned: a[stream].pruned, head: a[stream].head, signed: signed ? signed[stream].head : null };
      const skip = !report.complete || report.broken !== null;
      const r = skip
        ? { checked: 0, start: a[stream].pruned.id, last: null, head: a[stream].head.id, broken: null, complete: false }
        : stream === 'd1'
          ? await verifyD1Stream(env.DB, a.shard, streamAnchors, budget)
          : await verifyR2Stream(env.RESULTS, a.shard, streamAnchors, budget);
      streams[stream] = r;
      if (r.last !== null) lastId = r.last;
      report.checked += r.checked;
      budget.left -= r.checked;
      if (r.broken && !report.broken) report.broken = { ...r.broken, id: r.broken.seq };
      if (!skip && !r.complete && !r.broken) {
        report.complete = false;
        report.next_after = lastId;
      }
    }
    report.shards.push({ shard: a.shard, name: shardName(a.shard), ...streams });
  }
  report.ok = report.broken === null;
  if (report.broken) {
    report.complete = true;
    report.next_after = null;
  }
  return report;
}
