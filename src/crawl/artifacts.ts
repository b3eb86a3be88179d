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
import { GatewayError } from '../http/errors';
import { ArtifactIdScanner } from './artifact-scan';

/** Crawl4AI's artifact ids: `uuid4().hex`. Anything else is never forwarded. */
export const ARTIFACT_ID = /^[0-9a-f]{32}$/;
/** Rows outlive Crawl4AI's artifact TTL (hours by default) with margin. */
export const ARTIFACT_RETENTION_MS = 7 * 86_400_000;
/**
 * The head of an answer read before the gateway answers: a screenshot/PDF answer with its artifact
 * store on is far smaller, so a failure to record its ids is still a clean error status.
 */
const HEAD_BYTES = 256 * 1024;

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
 * Passes an origin answer through, recording the artifacts it names for the caller before the bytes
 * that name them are handed out (fail closed). Only successful JSON answers are scanned, chunk by
 * chunk (./artifact-scan.ts): memory stays bounded whatever the answer's size or framing. The head
 * (HEAD_BYTES) is read before answering, so a small answer whose ids cannot be recorded is an error
 * status; past the head, a failure to record aborts the stream before the id reaches the client.
 */
export async function bindArtifacts(c: Context<AppEnv>, res: Response): Promise<Response> {
  const type = res.headers.get('content-type') ?? '';
  if (res.status < 200 || res.status >= 300 || !/^application\/json\b/i.test(type) || !res.body) return res;
  const principal = c.get('principal');
  if (!principal) throw new GatewayError('invalid_credentials', 'Authentication required');
  const record = (ids: string[]) => (ids.length > 0 ? recordArtifacts(c.env.DB, ids, principal) : Promise.resolve());
  const scanner = new ArtifactIdScanner();
  const reader = res.body.getReader();
  const head: Uint8Array[] = [];
  let size = 0;
  let done = false;
  while (size < HEAD_BYTES) {
    const r = await reader.read();
    if (r.done) {
      done = true;
      break;
    }
    head.push(r.value);
    size += r.value.byteLength;
    await record(scanner.push(r.value));
  }
  if (done) await record(scanner.end());
  // The bytes are passed on unchanged, so the origin's Content-Length (if any) still holds.
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of head) controller.enqueue(chunk);
      if (done) controller.close();
    },
    async pull(controller) {
      const r = await reader.read();
      if (r.done) {
        await record(scanner.end());
        controller.close();
        return;
      }
      await record(scanner.push(r.value));
      controller.enqueue(r.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: res.status, headers: res.headers });
}

/** Deletes ownership rows past their retention (cron). */
export async function purgeArtifactRows(db: D1Database, now: number): Promise<{ artifacts: number }> {
  const r = await db
    .prepare('DELETE FROM crawl_artifacts WHERE created_at < ?1')
    .bind(now - ARTIFACT_RETENTION_MS)
    .run();
  return { artifacts: r.meta.changes ?? 0 };
}
