/**
 * Artifact ownership (Crawl4AI 0.9, deploy/docker/artifacts.py): the origin stores each screenshot
 * and PDF under an opaque 32-hex id and answers `{"artifact_id", "url": "/artifacts/{id}"}`. The
 * gateway records the id against the tenant whose request produced it as the answer passes through
 * (like crawl task ownership, jobs.ts), and `GET /artifacts/{id}` is forwarded only to that tenant:
 * another tenant's id reads exactly like an unknown one (404; OWASP API1:2023 BOLA). Fail closed:
 * an answer whose artifacts could not be recorded is not handed out (they would be unreadable).
 */
import type { Context } from 'hono';
import type { AppEnv } from '../env';
import type { Principal } from '../auth/principal';
import { tenantOf } from '../auth/principal';
import { HOUSEKEEPING_TASKS } from '../housekeeping';
import { GatewayError } from '../http/errors';

/** Crawl4AI's artifact ids: `uuid4().hex`. Anything else is never forwarded. */
export const ARTIFACT_ID = /^[0-9a-f]{32}$/;
/** Rows outlive Crawl4AI's artifact TTL (hours by default) with margin. */
export const ARTIFACT_RETENTION_MS = 7 * 86_400_000;
/** An origin JSON answer larger than this is passed through without looking for artifact ids. */
const MAX_SCANNED_BYTES = 64 * 1024 * 1024;

/** Pure: every artifact id an origin answer names (`artifact_id`, or `url: /artifacts/{id}`), at any depth. */
export function artifactIdsIn(value: unknown, out = new Set<string>(), depth = 0): Set<string> {
  if (depth > 32 || value === null || typeof value !== 'object') return out;
  if (Array.isArray(value)) {
    for (const v of value) artifactIdsIn(v, out, depth + 1);
    return out;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === 'artifact_id' && typeof v === 'string' && ARTIFACT_ID.test(v)) out.add(v);
    else if (k === 'url' && typeof v === 'string') {
      const m = /^\/artifacts\/([0-9a-f]{32})$/.exec(v);
      if (m) out.add(m[1] as string);
    } else if (typeof v === 'object') artifactIdsIn(v, out, depth + 1);
  }
  return out;
}

/** Records artifact ids for their creator. Never re-assigns an existing id. */
export async function recordArtifacts(db: D1Database, ids: Iterable<string>, principal: Principal, now = Date.now()): Promise<void> {
  const stmt = db.prepare(
    'INSERT INTO crawl_artifacts (artifact_id, tenant, principal_id, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(artifact_id) DO NOTHING',
  );
  const batch = [...ids].map((id) => stmt.bind(id, tenantOf(principal), principal.id, now));
  if (batch.length > 0) await db.batch(batch);
}

/** True when the artifact was recorded for the principal's tenant. */
export async function ownsArtifact(db: D1Database, id: string, principal: Principal): Promise<boolean> {
  const row = await db
    .prepare('SELECT 1 AS one FROM crawl_artifacts WHERE artifact_id = ?1 AND tenant = ?2')
    .bind(id, tenantOf(principal))
    .first();
  return row !== null;
}

/**
 * Passes an origin answer through, recording the artifacts it names for the caller first. Only
 * successful JSON answers are read (a screenshot or PDF answer is one JSON object, already
 * buffered by the origin); anything else streams through untouched.
 */
export async function bindArtifacts(c: Context<AppEnv>, res: Response): Promise<Response> {
  const type = res.headers.get('content-type') ?? '';
  const length = Number(res.headers.get('content-length') ?? '0');
  if (res.status < 200 || res.status >= 300 || !/^application\/json\b/i.test(type) || length > MAX_SCANNED_BYTES) return res;
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  const ids = artifactIdsIn(parsed);
  if (ids.size > 0) {
    const principal = c.get('principal');
    if (!principal) throw new GatewayError('invalid_credentials', 'Authentication required');
    await recordArtifacts(c.env.DB, ids, principal);
  }
  const headers = new Headers(res.headers);
  headers.delete('content-length');
  return new Response(text, { status: res.status, headers });
}

/** Deletes ownership rows past their retention (cron). */
export async function purgeArtifactRows(db: D1Database, now: number): Promise<{ artifacts: number }> {
  const r = await db
    .prepare('DELETE FROM crawl_artifacts WHERE created_at < ?1')
    .bind(now - ARTIFACT_RETENTION_MS)
    .run();
  return { artifacts: r.meta.changes ?? 0 };
}

HOUSEKEEPING_TASKS.crawl_artifact_retention = (env, _config, now) => purgeArtifactRows(env.DB, now);
