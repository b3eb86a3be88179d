/**
 * Signing and opening audit checkpoints (pure: no bindings, so the Node CLI
 * `scripts/audit-verify.mjs` uses the same code as the Worker). A checkpoint lists, per shard and
 * store, the last record committed (head) and the retention boundary (pruned), signed with
 * AUDIT_CHECKPOINT_KEY: an Ed25519 private JWK → EdDSA, or a secret of 32+ characters → HS256.
 * Verifying also accepts the Ed25519 *public* JWK, so an auditor can check checkpoints without
 * holding the signing key.
 */
import { CompactSign, compactVerify, importJWK, type JWK } from 'jose';
import { AUDIT_R2_PREFIX } from './segment-codec';

export const CHECKPOINT_PREFIX = `${AUDIT_R2_PREFIX}checkpoints/`;
export const LATEST_CHECKPOINT_KEY = `${CHECKPOINT_PREFIX}latest.jws`;
const TYP = 'crawlgate-audit-checkpoint+jws';

/** A position in a chain: record id and hash (a type, not an interface, so SQL rows can be read as it). */
export type CheckpointLink = {
  id: number;
  hash: string;
};

/** One shard's anchors as signed: per store the head and the retention boundary. */
export interface SignedShard {
  shard: number;
  d1: { head: CheckpointLink; pruned: CheckpointLink };
  r2: { head: CheckpointLink; pruned: CheckpointLink };
}

export interface CheckpointPayload {
  v: 1;
  taken_at: number;
  shards: SignedShard[];
}

interface SigningKeys {
  alg: 'EdDSA' | 'HS256';
  /** Null for a public JWK: it can verify, not sign. */
  sign: CryptoKey | Uint8Array | null;
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
        if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.x) throw new Error('AUDIT_CHECKPOINT_KEY: a JWK must be an Ed25519 key');
        const { d: _d, ...pub } = jwk;
        return {
          alg: 'EdDSA',
          sign: jwk.d ? ((await importJWK(jwk, 'EdDSA')) as CryptoKey) : null,
          verify: (await importJWK(pub, 'EdDSA')) as CryptoKey,
        };
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
  if (!keys.sign) throw new Error('AUDIT_CHECKPOINT_KEY: a public JWK cannot sign (the private key has `d`)');
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
