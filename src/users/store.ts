/**
 * D1 access for the `users` table (migrations/0003_create_users.sql). Plain functions over a
 * `D1Database`; the clock is passed in. Rows never leave this module with the hash unless asked.
 */
import type { Role } from '../auth/rbac';
import { isRole } from '../auth/rbac';
import { prefixedId } from '../lib/ids';

export interface UserRecord {
  id: string;
  username: string;
  passwordHash: string;
  roles: Role[];
  disabled: boolean;
  passwordChangedAt: number;
  tokensValidAfter: number;
  createdAt: number;
  updatedAt: number;
}

/** What the admin API shows: everything but the hash. */
export interface PublicUser {
  id: string;
  username: string;
  roles: Role[];
  disabled: boolean;
  password_changed_at: string;
  created_at: string;
  updated_at: string;
}

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  roles: string;
  disabled: number;
  password_changed_at: number;
  tokens_valid_after: number;
  created_at: number;
  updated_at: number;
}

/** Usernames: the same alphabet as ADMIN_USERNAME. */
export const USERNAME_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;

function parseRoles(json: string): Role[] {
  try {
    const raw: unknown = JSON.parse(json);
    return Array.isArray(raw) ? raw.filter((r): r is Role => typeof r === 'string' && isRole(r)) : [];
  } catch {
    return [];
  }
}

function fromRow(r: UserRow): UserRecord {
  return {
    id: r.id,
    username: r.username,
    passwordHash: r.password_hash,
    roles: parseRoles(r.roles),
    disabled: r.disabled === 1,
    passwordChangedAt: r.password_changed_at,
    tokensValidAfter: r.tokens_valid_after,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toPublicUser(u: UserRecord): PublicUser {
  return {
    id: u.id,
    username: u.username,
    roles: u.roles,
    disabled: u.disabled,
    password_changed_at: new Date(u.passwordChangedAt).toISOString(),
    created_at: new Date(u.createdAt).toISOString(),
    updated_at: new Date(u.updatedAt).toISOString(),
  };
}

/** `usr_` + 128 random bits (hex). */
export function newUserId(): string {
  return prefixedId('usr', 16);
}

export async function getUserByUsername(db: D1Database, username: string): Promise<UserRecord | null> {
  const row = await db.prepare('SELECT * FROM users WHERE username = ?').bind(username).first<UserRow>();
  return row ? fromRow(row) : null;
}

export async function getUserById(db: D1Database, id: string): Promise<UserRecord | null> {
  const row = await db.prepare('SELECT * FROM users WHERE id = ?').bind(id).first<UserRow>();
  return row ? fromRow(row) : null;
}

export async function listUsers(db: D1Database, limit: number, after?: string): Promise<UserRecord[]> {
  const stmt = after
    ? db.prepare('SELECT * FROM users WHERE username > ? COLLATE NOCASE ORDER BY username COLLATE NOCASE LIMIT ?').bind(after, limit)
    : db.prepare('SELECT * FROM users ORDER BY username COLLATE NOCASE LIMIT ?').bind(limit);
  const { results } = await stmt.all<UserRow>();
  return results.map(fromRow);
}

export interface NewUser {
  username: string;
  passwordHash: string;
  roles: Role[];
  disabled?: boolean;
}

/** Inserts a user; returns null when the username is taken (case-insensitively). */
export async function insertUser(db: D1Database, input: NewUser, now: number): Promise<UserRecord | null> {
  const id = newUserId();
  const res = await db
    .prepare(
      `INSERT INTO users (id, username, password_hash, roles, disabled, password_changed_at, tokens_valid_after, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT(username) DO NOTHING`,
    )
    .bind(id, input.username, input.passwordHash, JSON.stringify(input.roles), input.disabled ? 1 : 0, now, now, now)
    .run();
  if (res.meta.changes === 0) return null;
  return getUserById(db, id);
}

export interface UserChanges {
  roles?: Role[];
  passwordHash?: string;
  disabled?: boolean;
}

/**
 * Applies changes. A new password or disabling the user moves `tokens_valid_after` to `now`, so
 * every access token issued before it fails and every refresh family started before it is refused.
 */
export async function updateUser(db: D1Database, id: string, changes: UserChanges, now: number): Promise<UserRecord | null> {
  const sets: string[] = ['updated_at = ?'];
  const args: unknown[] = [now];
  let invalidate = false;
  if (changes.roles) {
    sets.push('roles = ?');
    args.push(JSON.stringify(changes.roles));
  }
  if (changes.passwordHash) {
    sets.push('password_hash = ?', 'password_changed_at = ?');
    args.push(changes.passwordHash, now);
    invalidate = true;
  }
  if (changes.disabled !== undefined) {
    sets.push('disabled = ?');
    args.push(changes.disabled ? 1 : 0);
    if (changes.disabled) invalidate = true;
  }
  if (invalidate) {
    sets.push('tokens_valid_after = ?');
    args.push(now);
  }
  await db
    .prepare(`UPDATE users SET ${sets.join(', ')} WHERE id = ?`)
    .bind(...args, id)
    .run();
  return getUserById(db, id);
}

export async function deleteUser(db: D1Database, id: string): Promise<boolean> {
  const res = await db.prepare('DELETE FROM users WHERE id = ?').bind(id).run();
  return res.meta.changes > 0;
}
