/**
 * The bootstrap admin from `ADMIN_USERNAME` / `ADMIN_PASSWORD_HASH` (the seed's Playground login).
 * Applied lazily (on a login attempt for that username, and when /admin/users is listed): the
 * user is created with the `admin` role, and whenever the env hash changes the env hash wins —
 * the password is reset, the user re-enabled and given `admin`, and older tokens stop working.
 * A marker in `instance_metadata` remembers which env hash was applied, so a password changed
 * through the API is not overwritten on every login while the env stays the same.
 */
import type { Config } from '../config';
import type { Role } from '../auth/rbac';
import { getUserByUsername, insertUser, updateUser } from './store';
import { toHex } from '../lib/encoding';

const MARKER_KEY = 'bootstrap_admin_applied';

async function sha256Hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return toHex(d);
}

/** True when `username` names the configured bootstrap admin (usernames are case-insensitive). */
export function isBootstrapAdmin(config: Config, username: string): boolean {
  return !!config.ADMIN_USERNAME && !!config.ADMIN_PASSWORD_HASH && config.ADMIN_USERNAME.toLowerCase() === username.toLowerCase();
}

/** Creates or resets the bootstrap admin when the configured hash has not been applied yet. */
export async function ensureBootstrapAdmin(
  db: D1Database,
  config: Config,
  now: number,
): Promise<'unchanged' | 'created' | 'reset' | 'none'> {
  const username = config.ADMIN_USERNAME;
  const hash = config.ADMIN_PASSWORD_HASH;
  if (!username || !hash) return 'none';
  const digest = await sha256Hex(`${username.toLowerCase()}\n${hash}`);
  const marker = await db.prepare('SELECT value FROM instance_metadata WHERE key = ?').bind(MARKER_KEY).first<{ value: string }>();
  if (marker?.value === digest) return 'unchanged';

  const existing = await getUserByUsername(db, username);
  let outcome: 'created' | 'reset';
  if (!existing) {
    await insertUser(db, { username, passwordHash: hash, roles: ['admin'] }, now);
    outcome = 'created';
  } else {
    const roles: Role[] = existing.roles.includes('admin') ? existing.roles : [...existing.roles, 'admin'];
    await updateUser(db, existing.id, { passwordHash: hash, disabled: false, roles }, now);
    outcome = 'reset';
  }
  await db
    .prepare(
      'INSERT INTO instance_metadata (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    )
    .bind(MARKER_KEY, digest, now)
    .run();
  return outcome;
}
