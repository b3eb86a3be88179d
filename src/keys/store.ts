/**
 * D1 `api_keys`: the source of truth for generated keys. Thin SQL functions, no policy.
 * Every query is parameterised; rows never leave this module with the digest except for cache
 * invalidation (`digestOf`).
 */
import { isPermission, type Permission } from '../auth/rbac';
import type { ApiKeyRecord, KeyStatus } from './record';

/** The D1 row: the record's columns with scopes as JSON text, plus the digest. */
interface ApiKeyRow extends Omit<ApiKeyRecord, 'scopes' | 'environment'> {
  digest: string;
  scopes: string;
  environment: 'live' | 'test';
}

/** A stored key: the record plus its digest (used for lookups and cache keys only). */
export interface StoredKey {
  record: ApiKeyRecord;
  digest: string;
}

function fromRow(row: ApiKeyRow): StoredKey {
  let scopes: Permission[] = [];
  try {
    const parsed: unknown = JSON.parse(row.scopes);
    // Fail closed: a scope this build does not know grants nothing.
    if (Array.isArray(parsed)) scopes = parsed.filter((s): s is Permission => typeof s === 'string' && isPermission(s));
  } catch {
    scopes = [];
  }
  const { digest, scopes: _raw, ...rest } = row;
  return { digest, record: { ...rest, scopes } };
}

const COLUMNS =
  'id, digest, prefix, name, scopes, rate_limit, max_concurrency, owner, status, environment, created_at, created_by, expires_at, revoked_at, rotated_from, rotated_to, grace_until, last_used_at';

function insertValues(k: StoredKey): unknown[] {
  const r = k.record;
  return [
    r.id,
    k.digest,
    r.prefix,
    r.name,
    JSON.stringify(r.scopes),
    r.rate_limit,
    r.max_concurrency,
    r.owner,
    r.status,
    r.environment,
    r.created_at,
    r.created_by,
    r.expires_at,
    r.revoked_at,
    r.rotated_from,
    r.rotated_to,
    r.grace_until,
    r.last_used_at,
  ];
}

export async function insertKey(db: D1Database, key: StoredKey): Promise<void> {
  await db
    .prepare(
      `INSERT INTO api_keys (${COLUMNS}) VALUES (${COLUMNS.split(',')
        .map(() => '?')
        .join(', ')})`,
    )
    .bind(...insertValues(key))
    .run();
}

/**
 * Inserts `key` only while its owner holds fewer than `max` live keys (active or disabled, not
 * expired) — one statement, so two concurrent creations cannot both pass the cap. False = at the cap.
 */
export async function insertKeyWithinCap(db: D1Database, key: StoredKey, max: number, now: number): Promise<boolean> {
  const placeholders = COLUMNS.split(',')
    .map(() => '?')
    .join(', ');
  const res = await db
    .prepare(
      `INSERT INTO api_keys (${COLUMNS}) SELECT ${placeholders} WHERE (SELECT COUNT(*) FROM api_keys WHERE owner = ? ` +
        `AND status IN ('active', 'disabled') AND (expires_at IS NULL OR expires_at > ?)) < ?`,
    )
    .bind(...insertValues(key), key.record.owner, now, max)
    .run();
  return (res.meta.changes ?? 0) === 1;
}

export async function findKeyByDigest(db: D1Database, digest: string): Promise<StoredKey | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM api_keys WHERE digest = ?`).bind(digest).first<ApiKeyRow>();
  return row ? fromRow(row) : null;
}

export async function findKeyById(db: D1Database, id: string): Promise<StoredKey | null> {
  const row = await db.prepare(`SELECT ${COLUMNS} FROM api_keys WHERE id = ?`).bind(id).first<ApiKeyRow>();
  return row ? fromRow(row) : null;
}

export interface ListKeysOptions {
  status?: KeyStatus;
  owner?: string;
  /** Keyset position: list keys strictly older than this (created_at, id). */
  after?: { createdAt: number; id: string };
  limit: number;
  now: number;
}

/** Newest first; returns up to `limit + 1` rows so the caller knows whether a next page exists. */
export async function listKeys(db: D1Database, o: ListKeysOptions): Promise<ApiKeyRecord[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (o.status === 'expired') {
    where.push("status = 'active' AND expires_at IS NOT NULL AND expires_at <= ?");
    args.push(o.now);
  } else if (o.status === 'active') {
    where.push("status = 'active' AND (expires_at IS NULL OR expires_at > ?)");
    args.push(o.now);
  } else if (o.status) {
    where.push('status = ?');
    args.push(o.status);
  }
  if (o.owner !== undefined) {
    where.push('owner = ?');
    args.push(o.owner);
  }
  if (o.after) {
    where.push('(created_at < ? OR (created_at = ? AND id < ?))');
    args.push(o.after.createdAt, o.after.createdAt, o.after.id);
  }
  const sql = `SELECT ${COLUMNS} FROM api_keys ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
  const { results } = await db
    .prepare(sql)
    .bind(...args, o.limit + 1)
    .all<ApiKeyRow>();
  return results.map((r) => fromRow(r).record);
}

/** Marks a key revoked (idempotent: the first revocation time is kept). */
export async function markRevoked(db: D1Database, id: string, now: number): Promise<StoredKey | null> {
  const row = await db
    .prepare(
      `UPDATE api_keys SET status = 'revoked', revoked_at = COALESCE(revoked_at, ?), grace_until = NULL WHERE id = ? RETURNING ${COLUMNS}`,
    )
    .bind(now, id)
    .first<ApiKeyRow>();
  return row ? fromRow(row) : null;
}

/** Sets `disabled` on an active key or back to `active` on a disabled one; null when not in that state. */
export async function setDisabled(db: D1Database, id: string, disabled: boolean): Promise<StoredKey | null> {
  const [from, to] = disabled ? ['active', 'disabled'] : ['disabled', 'active'];
  const row = await db
    .prepare(`UPDATE api_keys SET status = ? WHERE id = ? AND status = ? RETURNING ${COLUMNS}`)
    .bind(to, id, from)
    .first<ApiKeyRow>();
  return row ? fromRow(row) : null;
}

/**
 * Rotation in one D1 transaction (a batch): the successor is inserted only if the old key is still
 * active and unexpired, and the old key is marked rotated with its grace end. Two concurrent
 * rotations of one key: exactly one inserts a successor. Returns false when the old key was not rotatable.
 */
export async function rotateKeyRows(
  db: D1Database,
  oldId: string,
  successor: StoredKey,
  graceUntil: number,
  now: number,
): Promise<boolean> {
  const placeholders = COLUMNS.split(',')
    .map(() => '?')
    .join(', ');
  const [inserted] = await db.batch([
    db
      .prepare(
        `INSERT INTO api_keys (${COLUMNS}) SELECT ${placeholders} WHERE EXISTS ` +
          `(SELECT 1 FROM api_keys WHERE id = ? AND status = 'active' AND (expires_at IS NULL OR expires_at > ?))`,
      )
      .bind(...insertValues(successor), oldId, now),
    db
      .prepare(
        `UPDATE api_keys SET status = 'rotated', rotated_to = ?, grace_until = ? WHERE id = ? AND status = 'active' AND EXISTS (SELECT 1 FROM api_keys WHERE id = ?)`,
      )
      .bind(successor.record.id, graceUntil, oldId, successor.record.id),
  ]);
  return (inserted?.meta.changes ?? 0) === 1;
}

/** Records use; callers throttle it (at most once a minute per key per isolate). */
export async function touchLastUsed(db: D1Database, id: string, now: number): Promise<void> {
  await db
    .prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)')
    .bind(now, id, now - 60_000)
    .run();
}

/** Revokes every key a user owns that is not revoked yet (their owner was deleted); returns their ids. */
export async function revokeOwnedKeys(db: D1Database, owner: string, now: number): Promise<string[]> {
  const { results } = await db
    .prepare(
      `UPDATE api_keys SET status = 'revoked', revoked_at = ?, grace_until = NULL WHERE owner = ? AND status != 'revoked' RETURNING id`,
    )
    .bind(now, owner)
    .all<{ id: string }>();
  return results.map((r) => r.id);
}
