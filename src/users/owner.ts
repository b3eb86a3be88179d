/**
 * Key owners by id (migration 0009): what an admin names as a key's `owner` (a username, or a
 * user's `usr_...` id) is stored as the user's immutable id, and shown with the username as a
 * label. A username is only ever an input and a label, never the owner itself, so deleting a user
 * and creating the name again makes a new tenant.
 */
import { getUserById, getUserByUsername } from './store';

/** The id format `newUserId()` makes. */
export const USER_ID = /^usr_[0-9a-f]{32}$/;

/** The user an admin means by `value`: a current username first, else a current user's id; null when none. */
export async function resolveOwner(db: D1Database, value: string): Promise<{ id: string; username: string } | null> {
  const byName = await getUserByUsername(db, value);
  if (byName) return { id: byName.id, username: byName.username };
  if (!USER_ID.test(value)) return null;
  const byId = await getUserById(db, value);
  return byId ? { id: byId.id, username: byId.username } : null;
}

/** Usernames of the given owner ids (one query; ids of deleted users are simply absent). */
export async function ownerNames(db: D1Database, ids: readonly (string | null)[]): Promise<Map<string, string>> {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null && id.startsWith('usr_')))].slice(0, 100);
  if (wanted.length === 0) return new Map();
  const { results } = await db
    .prepare(`SELECT id, username FROM users WHERE id IN (${wanted.map(() => '?').join(', ')})`)
    .bind(...wanted)
    .all<{ id: string; username: string }>();
  return new Map(results.map((r) => [r.id, r.username]));
}
