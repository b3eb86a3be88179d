/**
 * D1 `oauth_grants` (migration 0014): who granted which MCP client what. The row is the source of
 * truth the OAuth verifier reads with the user's row on every request (strongly consistent, like a
 * user JWT's `tokens_valid_after`), so a revoke stops the next call everywhere; the provider's KV
 * records (tokens, grant) are deleted after it. Plain functions over D1; the clock is passed in.
 */
import type { Env } from '../env';
import type { Config } from '../config';
import type { Permission } from '../auth/rbac';
import { normalizeScopes } from '../auth/rbac';
import { oauthApi } from './server';

export interface GrantRecord {
  id: string;
  user_id: string;
  client_id: string;
  client_name: string;
  redirect_host: string;
  scopes: Permission[];
  created_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
}

interface GrantRow {
  id: string;
  user_id: string;
  client_id: string;
  client_name: string;
  redirect_host: string;
  scopes: string;
  created_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
}

export function parseScopes(json: string): Permission[] {
  try {
    const raw: unknown = JSON.parse(json);
    return Array.isArray(raw) ? (normalizeScopes(raw.filter((s): s is string => typeof s === 'string')) ?? []) : [];
  } catch {
    return [];
  }
}

function toRecord(r: GrantRow): GrantRecord {
  return {
    id: r.id,
    user_id: r.user_id,
    client_id: r.client_id,
    client_name: r.client_name,
    redirect_host: r.redirect_host,
    scopes: parseScopes(r.scopes),
    created_at: new Date(r.created_at).toISOString(),
    revoked_at: r.revoked_at === null ? null : new Date(r.revoked_at).toISOString(),
    revoked_reason: r.revoked_reason,
  };
}

/** A new grant id (128 random bits). */
export function newGrantId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return `gr_${[...b].map((x) => x.toString(16).padStart(2, '0')).join('')}`;
}

export interface NewGrant {
  id: string;
  userId: string;
  clientId: string;
  clientName: string;
  redirectHost: string;
  scopes: readonly Permission[];
}

/**
 * Records a grant and marks the user's earlier active grants to the same client `replaced` (the
 * provider revokes their tokens when the new authorization completes). One batch.
 */
export async function insertGrant(db: D1Database, g: NewGrant, now: number): Promise<void> {
  await db.batch([
    db
      .prepare(
        "UPDATE oauth_grants SET revoked_at = ?1, revoked_reason = 'replaced' WHERE user_id = ?2 AND client_id = ?3 AND revoked_at IS NULL",
      )
      .bind(now, g.userId, g.clientId),
    db
      .prepare(
        'INSERT INTO oauth_grants (id, user_id, client_id, client_name, redirect_host, scopes, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)',
      )
      .bind(g.id, g.userId, g.clientId, g.clientName.slice(0, 200), g.redirectHost.slice(0, 255), JSON.stringify(g.scopes), now),
  ]);
}

/** Removes a grant row whose authorization did not complete (fail closed: no row, no token works). */
export async function deleteGrant(db: D1Database, id: string): Promise<void> {
  await db.prepare('DELETE FROM oauth_grants WHERE id = ?1').bind(id).run();
}

/** The grant and its user, as the verifier needs them (one D1 read). */
export interface GrantWithUser {
  grant: GrantRow;
  user: { id: string; username: string; roles: string; disabled: number; tokens_valid_after: number };
}

export async function grantWithUser(db: D1Database, id: string): Promise<GrantWithUser | null> {
  const row = await db
    .prepare(
      'SELECT g.id, g.user_id, g.client_id, g.client_name, g.redirect_host, g.scopes, g.created_at, g.revoked_at, g.revoked_reason, ' +
        'u.username AS u_username, u.roles AS u_roles, u.disabled AS u_disabled, u.tokens_valid_after AS u_tva ' +
        'FROM oauth_grants g JOIN users u ON u.id = g.user_id WHERE g.id = ?1',
    )
    .bind(id)
    .first<GrantRow & { u_username: string; u_roles: string; u_disabled: number; u_tva: number }>();
  if (!row) return null;
  const { u_username, u_roles, u_disabled, u_tva, ...grant } = row;
  return { grant, user: { id: grant.user_id, username: u_username, roles: u_roles, disabled: u_disabled, tokens_valid_after: u_tva } };
}

/** Grants newest first, for one user or (admins) everyone; cursor = `<created_at>:<id>` of the last row. */
export async function listGrants(
  db: D1Database,
  opts: { userId?: string; limit: number; cursor?: { createdAt: number; id: string } },
): Promise<{ items: GrantRecord[]; next: string | null }> {
  const where: string[] = [];
  const binds: unknown[] = [];
  if (opts.userId) {
    binds.push(opts.userId);
    where.push(`user_id = ?${binds.length}`);
  }
  if (opts.cursor) {
    binds.push(opts.cursor.createdAt, opts.cursor.id);
    where.push(`(created_at < ?${binds.length - 1} OR (created_at = ?${binds.length - 1} AND id < ?${binds.length}))`);
  }
  binds.push(opts.limit + 1);
  const sql = `SELECT * FROM oauth_grants ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ?${binds.length}`;
  const { results } = await db
    .prepare(sql)
    .bind(...binds)
    .all<GrantRow>();
  const page = results.slice(0, opts.limit);
  const last = page[page.length - 1];
  return { items: page.map(toRecord), next: results.length > opts.limit && last ? `${last.created_at}:${last.id}` : null };
}

export async function getGrant(db: D1Database, id: string): Promise<GrantRecord | null> {
  const row = await db.prepare('SELECT * FROM oauth_grants WHERE id = ?1').bind(id).first<GrantRow>();
  return row ? toRecord(row) : null;
}

/**
 * Revokes a grant: D1 first (the next request is refused everywhere), then the provider's KV
 * records of that grant (tokens, refresh tokens). Idempotent.
 */
export async function revokeGrant(env: Env, config: Config, origin: string, grant: GrantRecord, now: number): Promise<GrantRecord> {
  if (!grant.revoked_at) {
    await env.DB.prepare("UPDATE oauth_grants SET revoked_at = ?1, revoked_reason = 'revoked' WHERE id = ?2 AND revoked_at IS NULL")
      .bind(now, grant.id)
      .run();
  }
  const api = oauthApi(origin, config, env);
  let cursor: string | undefined;
  do {
    const page = await api.listUserGrants(grant.user_id, { cursor });
    for (const g of page.items) {
      if ((g.metadata as { grant?: unknown } | undefined)?.grant === grant.id) await api.revokeGrant(g.id, grant.user_id);
    }
    cursor = page.cursor;
  } while (cursor);
  return (await getGrant(env.DB, grant.id)) ?? grant;
}
