/**
 * Signed checkpoints of every shard's heads (docs/audit.md "Checkpoints"). A checkpoint lists, per
 * shard and store, the last record committed (head) and the retention boundary (pruned), signed
 * with AUDIT_CHECKPOINT_KEY (an Ed25519 private JWK → EdDSA, or a secret of 32+ characters → HS256)
 * as a JWS, and stored in R2 (`audit/checkpoints/latest.jws` and one object per checkpoint) and in
 * every shard's Durable Object — never only in the D1 tables it protects. Taken by the hourly cron.
 */
import type { Env } from '../env';
import { CHECKPOINT_PREFIX, LATEST_CHECKPOINT_KEY, openCheckpoint, signCheckpoint, type CheckpointPayload } from './checkpoint-jws';
import { auditShardStub } from './writer';

// Signing and opening are pure (shared with the CLI verifier): src/audit/checkpoint-jws.ts.
export {
  CHECKPOINT_PREFIX,
  LATEST_CHECKPOINT_KEY,
  checkpointKeys,
  openCheckpoint,
  signCheckpoint,
  type CheckpointPayload,
} from './checkpoint-jws';

export type LatestCheckpoint =
  | { state: 'ok'; payload: CheckpointPayload; jws: string }
  | { state: 'missing' }
  | { state: 'bad'; reason: string };

/** The latest checkpoint in R2, with its signature checked. */
export async function readLatestCheckpoint(env: Env, secret: string | undefined): Promise<LatestCheckpoint> {
  let jws: string | null;
  try {
    jws = (await (await env.RESULTS.get(LATEST_CHECKPOINT_KEY))?.text()) ?? null;
  } catch (err) {
    return { state: 'bad', reason: `R2 unreadable: ${String(err).slice(0, 100)}` };
  }
  if (jws === null) return { state: 'missing' };
  try {
    return { state: 'ok', payload: await openCheckpoint(secret, jws.trim()), jws: jws.trim() };
  } catch (err) {
    return { state: 'bad', reason: `signature or format invalid (${err instanceof Error ? err.message : String(err)})`.slice(0, 200) };
  }
}

/** Reads every shard's anchors, signs them, and stores the checkpoint in R2 and in every shard object. */
export async function takeCheckpoint(
  env: Env,
  secret: string | undefined,
  shards: number,
  now: number,
): Promise<{ payload: CheckpointPayload; jws: string }> {
  const anchors = await Promise.all(Array.from({ length: shards }, (_, s) => auditShardStub(env, s).anchors(s)));
  const payload: CheckpointPayload = { v: 1, taken_at: now, shards: anchors.map(({ checkpoint: _c, ...a }) => a) };
  const jws = await signCheckpoint(secret, payload);
  await env.RESULTS.put(`${CHECKPOINT_PREFIX}${String(now).padStart(15, '0')}.jws`, jws, {
    httpMetadata: { contentType: 'application/jose' },
  });
  await env.RESULTS.put(LATEST_CHECKPOINT_KEY, jws, { httpMetadata: { contentType: 'application/jose' } });
  await Promise.all(Array.from({ length: shards }, (_, s) => auditShardStub(env, s).storeCheckpoint(s, now, jws)));
  return { payload, jws };
}
