/**
 * Page records in D1 (`job_results`), one row per (job, page) — written with an upsert, so a batch
 * that runs twice (a consumer that died after writing, a redelivered message) still leaves exactly
 * one record per page. Results bigger than a row should hold go to R2 (`jobs/<id>/<idx>.json`).
 * Also the exports' JobResultsStore over these rows (src/exports/source.ts).
 */
import type { Env } from '../env';
import type { CrawlResult } from '../crawl/types';
import type { JobResultsStore, ResultSource } from '../exports/source';

/** Results above this many bytes of JSON are stored in R2 instead of the D1 row. */
export const MAX_INLINE_RESULT_BYTES = 256 * 1024;
export const RESULTS_PAGE_SIZE = 100;

export interface PageRecord {
  idx: number;
  url: string;
  success: boolean;
  statusCode: number | null;
  attempts: number;
  durationMs: number;
  bytes: number;
  error: string | null;
  result: CrawlResult;
}

export function r2KeyOf(jobId: string, idx: number): string {
  return `jobs/${jobId}/${idx}.json`;
}

/** The D1 statements (and R2 writes, done first) that record a batch's final pages. */
export async function recordStatements(
  env: Env,
  jobId: string,
  records: readonly PageRecord[],
  now: number,
): Promise<D1PreparedStatement[]> {
  const out: D1PreparedStatement[] = [];
  for (const r of records) {
    const json = JSON.stringify(r.result);
    let inline: string | null = json;
    let r2Key: string | null = null;
    if (json.length > MAX_INLINE_RESULT_BYTES) {
      r2Key = r2KeyOf(jobId, r.idx);
      await env.RESULTS.put(r2Key, json, { httpMetadata: { contentType: 'application/json' } });
      inline = null;
    }
    out.push(
      env.DB.prepare(
        `INSERT INTO job_results (job_id, idx, url, success, status_code, attempts, duration_ms, bytes, error, result, r2_key, completed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT(job_id, idx) DO UPDATE SET success = excluded.success, status_code = excluded.status_code, attempts = excluded.attempts,
           duration_ms = excluded.duration_ms, bytes = excluded.bytes, error = excluded.error, result = excluded.result, r2_key = excluded.r2_key,
           completed_at = excluded.completed_at`,
      ).bind(jobId, r.idx, r.url, r.success ? 1 : 0, r.statusCode, r.attempts, r.durationMs, r.bytes, r.error, inline, r2Key, now),
    );
  }
  return out;
}

interface ResultRow {
  idx: number;
  result: string | null;
  r2_key: string | null;
  url: string;
  error: string | null;
  status_code: number | null;
}

/** Up to `limit` records after index `after` (-1: from the start), in page order. */
export async function readResults(
  env: Env,
  jobId: string,
  after: number,
  limit: number,
): Promise<{ records: unknown[]; last: number | null }> {
  const rows = (
    await env.DB.prepare(
      'SELECT idx, result, r2_key, url, error, status_code FROM job_results WHERE job_id = ? AND idx > ? ORDER BY idx LIMIT ?',
    )
      .bind(jobId, after, limit)
      .all<ResultRow>()
  ).results;
  const records: unknown[] = [];
  for (const row of rows) {
    let text = row.result;
    if (text === null && row.r2_key) text = (await (await env.RESULTS.get(row.r2_key))?.text()) ?? null;
    records.push(
      text !== null
        ? JSON.parse(text)
        : { url: row.url, success: false, status_code: row.status_code, error_message: row.error ?? 'result unavailable' },
    );
  }
  return { records, last: rows.length > 0 ? rows[rows.length - 1]!.idx : null };
}

/** Exports read a job's records from here: ownership from the `jobs` row, records page by page. */
export const d1JobResults: JobResultsStore = {
  async ownerOf(env, jobId) {
    const row = await env.DB.prepare('SELECT tenant FROM jobs WHERE id = ?').bind(jobId).first<{ tenant: string }>();
    return row?.tenant ?? null;
  },
  open(env, jobId): ResultSource {
    return {
      async count() {
        const row = await env.DB.prepare('SELECT count(*) AS n FROM job_results WHERE job_id = ?').bind(jobId).first<{ n: number }>();
        return row?.n ?? 0;
      },
      async *pages(cursor?: string) {
        let after = cursor && /^\d+$/.test(cursor) ? Number(cursor) : -1;
        for (;;) {
          const { records, last } = await readResults(env, jobId, after, RESULTS_PAGE_SIZE);
          if (last === null) return;
          after = last;
          const more = records.length === RESULTS_PAGE_SIZE;
          yield { records, next: more ? String(last) : null };
          if (!more) return;
        }
      },
    };
  },
};
