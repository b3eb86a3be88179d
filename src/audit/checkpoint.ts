/**
 * Signed checkpoints of every shard's heads (docs/audit.md "Checkpoints"). A checkpoint lists, per
 * shard and store, the last record committed (head) and the retention boundary (pruned), signed
 * with AUDIT_CHECKPOINT_KEY (an Ed25519 private JWK → EdDSA, or a secret of 32+ characters → HS256)
 * as a JWS, and stored in R2 (`audit/checkpoints/latest.jws` and one object per checkpoint) and in
 * every shard's Durable Object — never only in the D1 tables it protects. Taken by the hourly cron.
 */
import { CompactSign, compactVerify, importJWK, type JWK } from 'jose';
import type { Env } from '../env';
import type { ShardAnchors } from './audit-log-do';
import { AUDIT_R2_PREFIX } from './segment-codec';
import { auditShardStub } from './writer';

export const CHECKPOINT_PREFIX = `${AUDIT_R2_PREFIX}checkpoints/`;
export const LATEST_CHECKPOINT_KEY = `${CHECKPOINT_PREFIX}latest.jws`;
const TYP = 'crawlgate-audit-checkpoint+jws';

export interface CheckpointPayload {
  v: 1;
  taken_at: number;
  shards: Array<Omit<ShardAnchors, 'checkpoint'>>;
}

interface SigningKeys {
  alg: 'EdDSA' | 'HS256';
  sign: CryptoKey | Uint8Array;
  verify: CryptoKey | Uint8Array;
}

const keyCache = new Map<string, Promise<SigningKeys>>();

/** Parses AUDIT_CHECKPOINT_KEY (cached per isolate). Throws when it is missing or unusable. */
export function checkpointKeys(secret: string | undefined): Promise<SigningKeys> {
  if (!secret) return Promise.reject(new Error('AUDIT_CHECKPOINT_KEY is not set'));
  let keys = keyCache.get(secret);
  if (!keys) {
    keys = (async (): Promise<SigningKeys> => {
      if (secret.trimStart().startsWith('{')) {
        const jwk = JSON.parse(secret) as JWK;
        if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.d)
          throw new Error('AUDIT_CHECKPOINT_KEY: a JWK must be an Ed25519 private key');
        const { d: _d, ...pub } = jwk;
        return { alg: 'EdDSA', sign: (await importJWK(jwk, 'EdDSA')) as CryptoKey, verify: (await importJWK(pub, 'EdDSA')) as CryptoKey };
      }
      if (secret.length < 32) throw new Error('AUDIT_CHECKPOINT_KEY: an HMAC secret needs at least 32 characters');
      const bytes = new TextEncoder().encode(secret);
      return { alg: 'HS256', sign: bytes, verify: bytes };
    })();
    keyCache.set(secret, keys);
    keys.catch(() => keyCache.delete(secret));
  }
  return keys;
}

export async function signCheckpoint(secret: string | undefined, payload: CheckpointPayload): Promise<string> {
  const keys = await checkpointKeys(secret);
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: keys.alg, typ: TYP }).sign(keys.sign);
}

/** The payload of a checkpoint whose signature holds under the configured key; throws otherwise. */
export async function openCheckpoint(secret: string | undefined, jws: string): Promise<CheckpointPayload> {
  const keys = await checkpointKeys(secret);
  const { payload, protectedHeader } = await compactVerify(jws, keys.verify, { algorithms: [keys.alg] });
  if (protectedHeader.typ !== TYP) throw new Error('not an audit checkpoint');
  const p = JSON.parse(new TextDecoder().decode(payload)) as CheckpointPayload;
  if (p.v !== 1 || !Array.isArray(p.shards) || typeof p.taken_at !== 'number') throw new Error('malformed checkpoint');
  return p;
}

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
