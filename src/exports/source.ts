/**
 * The contract between exports and whatever stores job results (the app uses the jobs module's
 * `d1JobResults`, src/jobs/results.ts; tests use the in-memory stores below).
 *
 * Exports never load a job's results at once: they pull one page at a time from a `ResultSource`
 * and stop pulling while the client (or R2) is slow, so memory stays flat whatever the job size.
 */
import type { Env } from '../env';

/** One page of stored results, and the cursor of the page after it (null: last page). */
export interface ResultPage {
  /** CrawlResult-like records; each is validated (`record-schema.ts`) before it is written. */
  records: unknown[];
  next: string | null;
}

/** A job's results, readable page by page. */
export interface ResultSource {
  /** How many records the job holds (may be an estimate while the job still runs). */
  count(): Promise<number>;
  /** Pages in order from `cursor` (the first page when omitted). Pulled lazily, one at a time. */
  pages(cursor?: string): AsyncIterable<ResultPage>;
}

/**
 * How exports find a job: its owner (for the ownership check) and its results.
 * `ownerOf` returns the owning tenant (`tenantOf(principal)` of its creator) or null when there
 * is no such job; the routes answer 404 both for "missing" and "someone else's" (SECURITY.md).
 */
export interface JobResultsStore {
  ownerOf(env: Env, jobId: string): Promise<string | null>;
  open(env: Env, jobId: string): ResultSource;
}

/** A store with no jobs: every export is a 404 (for apps built without jobs). */
export const noJobResults: JobResultsStore = {
  async ownerOf() {
    return null;
  },
  open() {
    return memorySource([]);
  },
};

/** A source over records already in memory (tests, small jobs), served `pageSize` at a time. */
export function memorySource(records: readonly unknown[], pageSize = 100): ResultSource {
  return generatedSource(records.length, (i) => records[i], pageSize);
}

/**
 * A source whose records are made on demand: `make(i)` for i in [0, total). Nothing is held
 * between pages, so a benchmark can stream millions of records in constant memory.
 * The cursor is the decimal index of the next record.
 */
export function generatedSource(total: number, make: (index: number) => unknown, pageSize = 100): ResultSource {
  return {
    async count() {
      return total;
    },
    async *pages(cursor?: string) {
      let start = cursor ? Number.parseInt(cursor, 10) : 0;
      if (!Number.isSafeInteger(start) || start < 0) start = 0;
      for (let i = start; i < total; i += pageSize) {
        const end = Math.min(total, i + pageSize);
        const records: unknown[] = [];
        for (let j = i; j < end; j++) records.push(make(j));
        yield { records, next: end < total ? String(end) : null };
      }
    },
  };
}

/** Flattens a source's pages into records, pulling the next page only when the last is used up. */
export async function* recordsOf(source: ResultSource): AsyncGenerator<unknown> {
  for await (const page of source.pages()) {
    for (const record of page.records) yield record;
  }
}

/** A store over an in-memory map (tests): job id → owner and records. */
export function memoryJobResults(jobs: Map<string, { tenant: string; records: readonly unknown[] }>, pageSize = 100): JobResultsStore {
  return {
    async ownerOf(_env, jobId) {
      return jobs.get(jobId)?.tenant ?? null;
    },
    open(_env, jobId) {
      return memorySource(jobs.get(jobId)?.records ?? [], pageSize);
    },
  };
}
