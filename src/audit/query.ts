/**
 * Reading the audit log: filters → parameterised SQL (pure), opaque cursors, and page reads.
 * Order is newest first, `(ts DESC, id DESC)`; the cursor is the last row's `(ts, id)`, so pages
 * stay stable while new rows arrive.
 */
import type { Principal } from '../auth/principal';
import { GatewayError } from '../http/errors';
import type { AuditRow } from './types';
import { locateId, type AuditStream } from './shards';
import { textFromBase64Url, textToBase64Url } from '../lib/encoding';

export interface AuditFilter {
  /** Matches `actor_id` exactly: an id (`usr_...`, `key_...`, `seed_...`, `anonymous`), never a name. */
  actor?: string;
  /** Matches `actor_kind`. */
  actorKind?: string;
  action?: string;
  outcome?: string;
  /** Inclusive lower bound, UTC ms. */
  since?: number;
  /** Exclusive upper bound, UTC ms. */
  until?: number;
  /** Server-side restriction: only rows whose actor is this id (viewers see their own events). */
  ownActorId?: string;
}

export interface AuditCursor {
  ts: number;
  id: number;
}

/** What `actor=` accepts: the id forms actors are recorded under (users, generated keys, API_KEYS keys, anonymous). */
export const ACTOR_ID = /^((usr|key|seed)_[A-Za-z0-9._@-]{1,100}|anonymous)$/;

export const AUDIT_COLUMNS =
  'id, ts, request_id, actor_id, actor_kind, actor_name, ip, method, route, action, outcome, reason, status, details, prev_hash, hash';

/** Roles that may read everyone's events; every other holder of `audit:read` sees only its own. */
export const FULL_AUDIT_ROLES = ['admin', 'operator'] as const;

/** The restriction to apply for this principal: undefined = all rows, else its own actor id. */
export function ownActorRestriction(p: Principal): string | undefined {
  return p.roles.some((r) => (FULL_AUDIT_ROLES as readonly string[]).includes(r)) ? undefined : p.id;
}

/** Parses `since`/`until`: integer milliseconds or an ISO 8601 date-time. Null when invalid. */
export function parseInstant(value: string): number | null {
  if (/^\d{1,15}$/.test(value)) return Number(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t;
}

/** Opaque cursor: base64url of `ts.id`. */
export function encodeCursor(c: AuditCursor): string {
  return textToBase64Url(`v1.${c.ts}.${c.id}`);
}

export function decodeCursor(value: string): AuditCursor {
  const text = textFromBase64Url(value) ?? '';
  const m = /^v1\.(\d{1,15})\.(\d{1,15})$/.exec(text);
  if (!m)
    throw new GatewayError('validation_failed', 'Invalid request: cursor: not a cursor this API returned', {
      extras: { errors: [{ path: 'cursor', message: 'invalid cursor' }] },
    });
  return { ts: Number(m[1]), id: Number(m[2]) };
}

/** Pure: the SELECT for one page (`limit` rows; callers ask for one more to know if a page follows). */
export function buildAuditQuery(filter: AuditFilter, cursor: AuditCursor | null, limit: number): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.ownActorId !== undefined) {
    where.push('actor_id = ?');
    params.push(filter.ownActorId);
  }
  if (filter.actor !== undefined) {
    // Ids only: a display name is user-supplied and not unique (a key may be *named* "admin").
    where.push('actor_id = ?');
    params.push(filter.actor);
  }
  if (filter.actorKind !== undefined) {
    where.push('actor_kind = ?');
    params.push(filter.actorKind);
  }
  if (filter.action !== undefined) {
    where.push('action = ?');
    params.push(filter.action);
  }
  if (filter.outcome !== undefined) {
    where.push('outcome = ?');
    params.push(filter.outcome);
  }
  if (filter.since !== undefined) {
    where.push('ts >= ?');
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    where.push('ts < ?');
    params.push(filter.until);
  }
  if (cursor) {
    where.push('(ts < ? OR (ts = ? AND id < ?))');
    params.push(cursor.ts, cursor.ts, cursor.id);
  }
  const sql = `SELECT ${AUDIT_COLUMNS} FROM audit_events${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ts DESC, id DESC LIMIT ?`;
  params.push(limit);
  return { sql, params };
}

export interface AuditPage {
  rows: AuditRow[];
  next: AuditCursor | null;
}

/** Reads one page (newest first). */
export async function readAuditPage(db: D1Database, filter: AuditFilter, cursor: AuditCursor | null, limit: number): Promise<AuditPage> {
  const q = buildAuditQuery(filter, cursor, limit + 1);
  const { results } = await db
    .prepare(q.sql)
    .bind(...q.params)
    .all<AuditRow>();
  const rows = results.slice(0, limit);
  const last = rows.at(-1);
  return { rows, next: results.length > limit && last ? { ts: last.ts, id: last.id } : null };
}

/** The API shape of a row: `details` parsed back into an object. */
export function presentRow(
  row: AuditRow,
): Omit<AuditRow, 'details'> & { details: unknown; shard: number; stream: AuditStream; position: number } {
  let details: unknown = null;
  if (row.details !== null && row.details !== undefined) {
    try {
      details = JSON.parse(row.details);
    } catch {
      details = row.details;
    }
  }
  const { shard, stream, position } = locateId(row.id);
  const { shard: _stored, ...rest } = row as AuditRow & { shard?: number };
  return { ...rest, details, shard, stream, position };
}
