/**
 * One Durable Object per refresh-token family (name `family:<family id>`), holding the hash of the
 * one live refresh token and the hashes already spent. Rotation is compare-and-set: a DO runs one
 * method at a time and these methods never await between read and write, so of two concurrent
 * refreshes with one token exactly one wins. Presenting a spent token is reuse (RFC 9700 §4.14.2):
 * the whole family is revoked. The alarm deletes everything once the family has expired.
 */
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env';

export interface FamilyState {
  familyId: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  generation: number;
  revokedAt: number | null;
  revokedReason: string | null;
}

export type RotateResult =
  | { ok: true; family: FamilyState }
  | { ok: false; reason: 'unknown_family' | 'wrong_token' | 'reused' | 'revoked' | 'expired'; family?: FamilyState };

interface FamilyRow {
  family_id: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  generation: number;
  current_hash: string;
  revoked_at: number | null;
  revoked_reason: string | null;
  [k: string]: SqlStorageValue;
}

/** Constant-time comparison of two equal-format strings. */
function sameString(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export class RefreshFamily extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS family (
      family_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
      generation INTEGER NOT NULL, current_hash TEXT NOT NULL, revoked_at INTEGER, revoked_reason TEXT)`);
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS spent (hash TEXT PRIMARY KEY, generation INTEGER NOT NULL, spent_at INTEGER NOT NULL)');
  }

  /** Starts the family with its first token. Refuses to overwrite an existing family. */
  async start(input: { familyId: string; userId: string; tokenHash: string; now: number; expiresAt: number }): Promise<FamilyState> {
    if (this.#row()) throw new Error('family already exists');
    this.ctx.storage.sql.exec(
      'INSERT INTO family (family_id, user_id, created_at, expires_at, generation, current_hash) VALUES (?, ?, ?, ?, 1, ?)',
      input.familyId, input.userId, input.now, input.expiresAt, input.tokenHash,
    );
    await this.ctx.storage.setAlarm(input.expiresAt);
    return this.#state(this.#row() as FamilyRow);
  }

  /** Spends `presentedHash` and makes `nextHash` the live token, or reports why not. */
  async rotate(input: { presentedHash: string; nextHash: string; now: number }): Promise<RotateResult> {
    const row = this.#row();
    if (!row) return { ok: false, reason: 'unknown_family' };
    const family = this.#state(row);
    if (row.revoked_at !== null) return { ok: false, reason: 'revoked', family };
    if (input.now >= row.expires_at) return { ok: false, reason: 'expired', family };
    if (sameString(row.current_hash, input.presentedHash)) {
      this.ctx.storage.sql.exec('INSERT INTO spent (hash, generation, spent_at) VALUES (?, ?, ?)', input.presentedHash, row.generation, input.now);
      this.ctx.storage.sql.exec('UPDATE family SET current_hash = ?, generation = generation + 1', input.nextHash);
      return { ok: true, family: this.#state(this.#row() as FamilyRow) };
    }
    const spent = this.ctx.storage.sql.exec('SELECT generation FROM spent WHERE hash = ?', input.presentedHash).toArray();
    if (spent.length > 0) {
      this.#revoke('reuse_detected', input.now);
      return { ok: false, reason: 'reused', family: this.#state(this.#row() as FamilyRow) };
    }
    // A token that was never issued in this family (forged or mistyped): refused, family kept.
    return { ok: false, reason: 'wrong_token', family };
  }

  /** Revokes the family (logout, password change, reuse). Idempotent. */
  async revoke(input: { reason: string; now: number }): Promise<FamilyState | null> {
    if (!this.#row()) return null;
    this.#revoke(input.reason, input.now);
    return this.#state(this.#row() as FamilyRow);
  }

  async state(): Promise<FamilyState | null> {
    const row = this.#row();
    return row ? this.#state(row) : null;
  }

  /** Clean-up after expiry: nothing about the family outlives it. */
  override async alarm(): Promise<void> {
    const row = this.#row();
    if (row && Date.now() < row.expires_at) {
      await this.ctx.storage.setAlarm(row.expires_at);
      return;
    }
    await this.ctx.storage.deleteAll();
  }

  #revoke(reason: string, now: number): void {
    this.ctx.storage.sql.exec('UPDATE family SET revoked_at = COALESCE(revoked_at, ?), revoked_reason = COALESCE(revoked_reason, ?)', now, reason);
  }

  #row(): FamilyRow | undefined {
    return this.ctx.storage.sql.exec<FamilyRow>('SELECT * FROM family LIMIT 1').toArray()[0];
  }

  #state(r: FamilyRow): FamilyState {
    return {
      familyId: r.family_id,
      userId: r.user_id,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      generation: r.generation,
      revokedAt: r.revoked_at,
      revokedReason: r.revoked_reason,
    };
  }
}

/** The DO stub for a family: one object per family, named `family:<id>`. */
export function familyStub(env: Env, familyId: string): DurableObjectStub<RefreshFamily> {
  return env.REFRESH_FAMILIES.get(env.REFRESH_FAMILIES.idFromName(`family:${familyId}`));
}
