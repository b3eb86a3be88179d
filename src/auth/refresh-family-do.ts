/**
 * One Durable Object per refresh-token family (name `family:<family id>`), holding the hash of the
 * one live refresh token and the hashes already spent. Rotation is compare-and-set: a DO runs one
 * method at a time and these methods never await between read and write, so of two concurrent
 * refreshes with one token exactly one wins the rotation. Presenting a spent token is reuse
 * (RFC 9700 §4.14.2) and revokes the whole family — except within a short grace window right after
 * the rotation, where the loser of such a race gets a fresh token of the same generation. No table
 * is created until a family starts, so addressing an unknown family writes nothing. The alarm
 * deletes everything once the family has expired.
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

/** Extra live tokens one generation may gain inside the grace window (tabs refreshing at once). */
export const MAX_GRACE_SIBLINGS = 4;

export type RotateResult =
  | { ok: true; family: FamilyState; grace: boolean }
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
  /** Tables exist (created by `start`). Nothing is written before that: an unknown family leaves no storage. */
  #ready = false;

  #hasSchema(): boolean {
    if (!this.#ready) {
      this.#ready = this.ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'family'").toArray().length > 0;
    }
    return this.#ready;
  }

  #ensureSchema(): void {
    this.ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS family (
      family_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
      generation INTEGER NOT NULL, current_hash TEXT NOT NULL, revoked_at INTEGER, revoked_reason TEXT)`);
    this.ctx.storage.sql.exec(
      'CREATE TABLE IF NOT EXISTS spent (hash TEXT PRIMARY KEY, generation INTEGER NOT NULL, spent_at INTEGER NOT NULL)',
    );
    // Extra live tokens of the current generation, issued to concurrent refreshes inside the grace window.
    this.ctx.storage.sql.exec(
      'CREATE TABLE IF NOT EXISTS sibling (hash TEXT PRIMARY KEY, generation INTEGER NOT NULL, issued_at INTEGER NOT NULL)',
    );
    this.#ready = true;
  }

  /** Starts the family with its first token. Refuses to overwrite an existing family. */
  async start(input: { familyId: string; userId: string; tokenHash: string; now: number; expiresAt: number }): Promise<FamilyState> {
    if (this.#row()) throw new Error('family already exists');
    this.#ensureSchema();
    this.ctx.storage.sql.exec(
      'INSERT INTO family (family_id, user_id, created_at, expires_at, generation, current_hash) VALUES (?, ?, ?, ?, 1, ?)',
      input.familyId,
      input.userId,
      input.now,
      input.expiresAt,
      input.tokenHash,
    );
    await this.ctx.storage.setAlarm(input.expiresAt);
    return this.#state(this.#row() as FamilyRow);
  }

  /**
   * Spends `presentedHash` and makes `nextHash` the live token, or reports why not.
   * A token spent by the previous rotation at most `graceMs` ago (REFRESH_REUSE_GRACE_SECONDS) (two tabs refreshing with
   * one cookie) gets `nextHash` as an extra live token of the current generation instead of revoking
   * the family — at most MAX_GRACE_SIBLINGS times per generation (RFC 9700 §4.14.2 permits a grace).
   */
  async rotate(input: { presentedHash: string; nextHash: string; now: number; graceMs: number }): Promise<RotateResult> {
    const row = this.#row();
    if (!row) return { ok: false, reason: 'unknown_family' };
    this.#ensureSchema(); // families started before the sibling table existed
    const family = this.#state(row);
    if (row.revoked_at !== null) return { ok: false, reason: 'revoked', family };
    if (input.now >= row.expires_at) return { ok: false, reason: 'expired', family };
    const sql = this.ctx.storage.sql;
    const isSibling =
      sql.exec('SELECT 1 FROM sibling WHERE hash = ? AND generation = ?', input.presentedHash, row.generation).toArray().length > 0;
    if (sameString(row.current_hash, input.presentedHash) || isSibling) {
      // Every live token of this generation is superseded: the current one and any grace siblings.
      sql.exec('INSERT OR IGNORE INTO spent (hash, generation, spent_at) VALUES (?, ?, ?)', row.current_hash, row.generation, input.now);
      sql.exec('INSERT OR IGNORE INTO spent (hash, generation, spent_at) SELECT hash, generation, ? FROM sibling', input.now);
      sql.exec('DELETE FROM sibling');
      sql.exec('UPDATE family SET current_hash = ?, generation = generation + 1', input.nextHash);
      return { ok: true, family: this.#state(this.#row() as FamilyRow), grace: false };
    }
    const spent = sql
      .exec<{ generation: number; spent_at: number }>('SELECT generation, spent_at FROM spent WHERE hash = ?', input.presentedHash)
      .toArray()[0];
    if (spent) {
      const siblings = sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM sibling WHERE generation = ?', row.generation).one().n;
      if (spent.generation === row.generation - 1 && input.now - spent.spent_at < input.graceMs && siblings < MAX_GRACE_SIBLINGS) {
        sql.exec('INSERT INTO sibling (hash, generation, issued_at) VALUES (?, ?, ?)', input.nextHash, row.generation, input.now);
        return { ok: true, family, grace: true };
      }
      this.#revoke('reuse_detected', input.now);
      return { ok: false, reason: 'reused', family: this.#state(this.#row() as FamilyRow) };
    }
    // A token that was never issued in this family (mistyped, or forged with a stolen tag): refused, family kept.
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
    this.#ready = false;
  }

  #revoke(reason: string, now: number): void {
    this.ctx.storage.sql.exec(
      'UPDATE family SET revoked_at = COALESCE(revoked_at, ?), revoked_reason = COALESCE(revoked_reason, ?)',
      now,
      reason,
    );
  }

  #row(): FamilyRow | undefined {
    if (!this.#hasSchema()) return undefined;
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
